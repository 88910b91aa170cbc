"""Every status change becomes an outbox row, in the transaction that changes the status (lrs.portal.init_app
connects `write` to the app's status_changed signal)."""
import orjson
from sqlalchemy import insert

from lrs.competence.changes import StatusChange
from lrs.portal.tables import outbox


def payload(change: StatusChange) -> dict:
    """The document the portal receives: ids and dates only, no names or e-mail addresses."""
    return {
        "event_id": change.event_id,
        "employee_id": change.employee_id,
        "competence_code": change.competence_code,
        "status": change.status,
        "previous_status": change.previous_status,
        "fulfilled_date": change.fulfilled_on.isoformat() if change.fulfilled_on else None,
        "valid_until": change.valid_until.isoformat() if change.valid_until else None,
        "evidence_statement_ids": list(change.evidence_statement_ids),
        "changed_at": change.changed_at.isoformat(),
    }


def write(_app, *, conn, changes: list[StatusChange]) -> None:
    """Receiver of lrs.registry.status_changed: one outbox row per change, on the changing connection."""
    conn.execute(insert(outbox), [{"event_id": c.event_id, "employee_id": c.employee_id,
                                   "payload": orjson.dumps(payload(c)).decode(), "created": c.changed_at}
                                  for c in changes])
