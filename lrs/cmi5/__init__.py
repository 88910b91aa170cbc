"""cmi5, the LMS side: import course packages, launch AUs for employees, follow their sessions, and refuse
statements that break cmi5 rules for a cmi5 registration.

For the competence engine: `init_app` registers `rules.course_rules` as a course-rule provider (lrs.registry);
`competence_map(conn)` gives activity id -> competence codes of published modules.
For the employee's plan: `courses_for_competence(conn, code)` and `launch_for_employee(app, employee_id,
publisher_id, base_url, return_url)` (see docs/cmi5.md)."""
from lrs import personal
from lrs.cmi5 import tables  # noqa: F401  (its tables on the shared metadata)
from lrs.cmi5.lms import competence_map, courses_for_competence, launch_for_employee

__all__ = ["competence_map", "courses_for_competence", "init_app", "launch_for_employee", "tables"]


def init_app(app) -> None:
    from lrs import registry
    from lrs.cmi5 import api, lms, rules
    app.register_blueprint(api.bp)
    personal.declare(app, tables.PERSONAL_DATA)
    # A session's token ends with the session (cmi5 8.2.1): on every worker and instance at once, not when a
    # cached copy expires.
    verifier = app.extensions["lrs.verifier"]
    verifier.uncached_prefixes = tuple({*verifier.uncached_prefixes, lms.SESSION_CREDENTIAL})
    plugged = registry.of(app)
    plugged.batch_checks.append(rules.check)
    registry.statements_stored.connect(rules.stored, sender=app)
    plugged.course_rules.append(rules.course_rules)  # the competence engine's evidence from published courses
