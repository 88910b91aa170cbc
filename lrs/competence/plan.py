"""The status of one requirement in one employee's plan, on a given day. Pure: no database, no clock."""
from dataclasses import dataclass
from datetime import date, timedelta

from lrs.competence.rules import Achievement


@dataclass(frozen=True)
class Item:
    """A requirement as it applies to one employee."""
    competence_code: str
    mandatory: bool
    due_on: date | None


@dataclass(frozen=True)
class Status:
    status: str  # one of lrs.competence.changes.STATUSES
    fulfilled_on: date | None
    valid_until: date | None
    evidence: tuple


def status_of(item: Item | None, best: Achievement | None, renewal_days: int, pending_attestation: bool,
              today: date, left: bool) -> Status:
    """`item` None: the requirement no longer applies to the employee (kept, with its history, as not required)."""
    fulfilled_on = best.fulfilled_on if best else None
    valid_until = best.valid_until if best else None
    evidence = best.statement_ids if best else ()

    def status(name):
        return Status(name, fulfilled_on, valid_until, evidence)

    if left:
        return status("closed")
    if item is None:
        return status("not_required")
    if best and (valid_until is None or today < valid_until):
        if valid_until is not None and today >= valid_until - timedelta(days=renewal_days):
            return status("expiring")
        return status("fulfilled")
    if pending_attestation:
        return status("awaiting_attestation")
    if best:
        return status("expired")
    if item.due_on is not None and today < item.due_on:
        return status("not_yet_due")
    return status("missing")
