"""Status changes of a requirement in an employee's plan: what the engine announces, and who listens.

The engine calls `emit(app, conn, changes)` inside the transaction that changes the statuses; it sends the app's
status_changed signal (lrs.registry), and receivers (the portal outbox) write their rows in that same
transaction, so a change and its announcement land together or not at all."""
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from lrs import registry

# A requirement's status in a plan.
STATUSES = ("fulfilled", "expiring", "expired", "missing", "awaiting_attestation", "not_yet_due", "not_required",
            "closed")


@dataclass(frozen=True)
class StatusChange:
    event_id: str  # a UUID, unique per change: the idempotency key downstream
    employee_id: str
    competence_code: str
    status: str  # one of STATUSES
    previous_status: str | None
    fulfilled_on: date | None  # when the learning that fulfils it happened
    valid_until: date | None  # None: never expires (or not fulfilled)
    evidence_statement_ids: tuple[str, ...]
    changed_at: datetime  # aware UTC


def emit(app, conn, changes: list[StatusChange]) -> None:
    """Announce a batch of changes to the app's receivers (lrs.registry.status_changed), on `conn`."""
    if changes:
        registry.status_changed.send(app, conn=conn, changes=changes)


@contextmanager
def collected():
    """Every change announced inside the block, by any app in any thread, gathered in a list (for tests). A preview
    collects its own changes through `engine.recompute(collect=…)` instead, so it never hears another request's."""
    found: list[StatusChange] = []

    def listen(_sender, *, conn, changes):
        found.extend(changes)
    with registry.status_changed.connected_to(listen):
        yield found
