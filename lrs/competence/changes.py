"""Status changes of a requirement in an employee's plan: what the engine announces, and who listens.

The engine calls `emit(conn, changes)` inside the transaction that changes the statuses; listeners (the portal
outbox) write their rows in that same transaction, so a change and its announcement land together or not at all."""
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable

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


_listeners: list[Callable] = []


def on_change(func: Callable):
    """Register `func(conn, changes)` to be called with every batch of changes, in the changing transaction."""
    _listeners.append(func)
    return func


def off_change(func: Callable) -> None:
    """Stop calling `func` (registered with on_change)."""
    _listeners.remove(func)


def emit(conn, changes: list[StatusChange]) -> None:
    if changes:
        for listener in _listeners:
            listener(conn, changes)


@contextmanager
def collected():
    """Every change announced inside the block, in any thread, gathered in a list (for tests). A preview collects
    its own changes through `engine.recompute(collect=…)` instead, so it never hears another request's."""
    found: list[StatusChange] = []
    listener = on_change(lambda _conn, batch: found.extend(batch))
    try:
        yield found
    finally:
        off_change(listener)
