"""What the packages plug into, per app: each `create_app` gets its own Registry (in `app.extensions`), filled by
the packages' `init_app`, so two apps in one process (tests, the scale-out instances) never share jobs or hooks.

    registry.of(app).jobs                  job id -> lrs.scheduler.Job (add with lrs.scheduler.add)
    registry.of(app).batch_checks          check(batch, credential): may refuse a validated batch (XAPIError)
    registry.of(app).course_rules          provider(conn) -> rule definitions the competence engine adds to the
                                           stored rules (cmi5: its courses' satisfied/passed statements)
    registry.of(app).digest_sections       section(conn, unit_id, subtree_unit_ids) -> text added to the weekly
                                           leader digest of that unit ("" for nothing; capacity: the month's
                                           indicator change)
    registry.of(app).sessionless_paths     path prefixes whose every request carries its own credential (the xAPI):
                                           they neither read nor set the sign-in cookie (lrs/web SignInSessions)

Announcements go through blinker signals, sent with the app as sender; a package connects its receivers for its
own app (`signal.connect(func, sender=app)`):

    statements_stored   (app, batch=…, credential=…) after a batch of statements is committed
    status_changed      (app, conn=…, changes=…) inside the transaction that changes plan statuses: receivers
                        write on `conn`, so a change and what it causes land together or not at all"""
from dataclasses import dataclass, field
from typing import Callable

from blinker import Namespace
from flask import current_app

_signals = Namespace()
statements_stored = _signals.signal("statements-stored")
status_changed = _signals.signal("status-changed")


@dataclass
class Registry:
    jobs: dict = field(default_factory=dict)
    batch_checks: list[Callable] = field(default_factory=list)
    course_rules: list[Callable] = field(default_factory=list)
    digest_sections: list[Callable] = field(default_factory=list)
    sessionless_paths: list[str] = field(default_factory=list)


def of(app) -> Registry:
    return app.extensions["lrs.registry"]


def current() -> Registry:
    """The registry of the app in whose context this runs (a request, a job, a command)."""
    return of(current_app)
