"""cmi5, the LMS side: import course packages, launch AUs for employees, follow their sessions, and refuse
statements that break cmi5 rules for a cmi5 registration.

For the competence engine: `competence_map(engine)` gives activity id -> competence codes of published modules."""
from lrs.cmi5 import tables  # noqa: F401  (its tables on the shared metadata)
from lrs.cmi5.lms import competence_map

__all__ = ["competence_map", "init_app", "tables"]


def init_app(app) -> None:
    from lrs.cmi5 import api, rules
    from lrs.xapi import statements
    app.register_blueprint(api.bp)
    if rules.check not in statements.batch_checks:
        statements.batch_checks.append(rules.check)
        statements.after_store.append(rules.stored)
