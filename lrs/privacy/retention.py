"""Retention: the raw learning records of people who left are deleted a set number of days after their last day
(setting RETENTION_DAYS_AFTER_LEAVING; 0 keeps them). Raw records are the statements they are the actor of, the
attachments only those carry, and the State and Agent Profile documents of their agents. Their plan, status
history and evidence facts stay (the trust must be able to show what competence someone had)."""
from dataclasses import dataclass, field
from datetime import date, timedelta

import orjson
from sqlalchemy import delete, func, select

from lrs.competence.tables import employees
from lrs.privacy.erase import delete_orphan_attachments
from lrs.privacy.export import agents_of
from lrs.privacy import events
from lrs.store.db import read_transaction, write_transaction
from lrs.store.models import documents, iri_match, statement_activity, statement_agent, statements
from lrs.store.types import utcnow
from lrs.xapi.attachments import sha2s_of

_CHUNK = 500


@dataclass
class Due:
    employee_id: str
    left_on: date
    statements: list[int] = field(default_factory=list)  # seqs
    documents: int = 0


@dataclass
class Report:
    cutoff: date  # people who left on or before this day
    due: list[Due]

    @property
    def statements(self) -> int:
        return sum(len(d.statements) for d in self.due)

    @property
    def documents(self) -> int:
        return sum(d.documents for d in self.due)

    def lines(self) -> list[str]:
        out = [f"{d.employee_id} (left {d.left_on}): {len(d.statements)} statements, {d.documents} documents"
               for d in self.due if d.statements or d.documents]
        return out + [f"{self.statements} statements and {self.documents} documents of people who left on or before "
                      f"{self.cutoff}"]


def _own_statements(conn, ifis) -> list[int]:
    """The statements these agents are the actor of (their own profile, not one copied from a target)."""
    if not ifis:
        return []
    a = statement_agent.c
    return sorted(conn.execute(select(a.seq).distinct()
                               .where(iri_match(conn.dialect.name, a.ifi, ifis), a.is_actor, a.profile == a.seq))
                  .scalars())


def find_due(conn, today: date, days: int) -> Report:
    cutoff = today - timedelta(days=days)
    people = conn.execute(select(employees.c.id, employees.c.left_on)
                          .where(employees.c.left_on.is_not(None), employees.c.left_on <= cutoff)
                          .order_by(employees.c.id)).all()
    ifis_of = {person.id: agents_of(conn, person.id) for person in people}
    docs = _documents_per_agent(conn, [ifi for ifis in ifis_of.values() for ifi in ifis])
    return Report(cutoff, [Due(person.id, person.left_on, _own_statements(conn, ifis_of[person.id]),
                               sum(docs.get(ifi, 0) for ifi in ifis_of[person.id])) for person in people])


def _documents_per_agent(conn, ifis) -> dict[str, int]:
    """Documents per agent, for many agents at once: documents have no index by agent, so one query per person
    would read the whole table once for each person who ever left, every day."""
    counts = {}
    for i in range(0, len(ifis), _CHUNK):
        counts.update(conn.execute(select(documents.c.agent_ifi, func.count()).where(
            documents.c.agent_ifi.in_(ifis[i:i + _CHUNK])).group_by(documents.c.agent_ifi)).all())
    return counts


def run(engine, today: date, days: int, dry_run: bool = False, actor: str = "cli") -> Report:
    """Delete (or with dry_run only report) what is past retention. Each person is one transaction."""
    if days <= 0:
        raise ValueError("the retention period must be at least one day")
    with read_transaction(engine) as conn:
        report = find_due(conn, today, days)
    if dry_run:
        return report
    for person in report.due:
        if not person.statements and not person.documents:
            continue
        with write_transaction(engine) as conn:
            _delete_records(conn, person)
    if report.statements or report.documents:
        with write_transaction(engine) as conn:
            events.record(conn, "retention", actor, "; ".join(report.lines()))
    return report


def _delete_records(conn, person: Due) -> None:
    seqs = person.statements
    dropped = set()
    for i in range(0, len(seqs), _CHUNK):
        chunk = seqs[i:i + _CHUNK]
        for (body,) in conn.execute(select(statements.c.body).where(statements.c.seq.in_(chunk),
                                                                    statements.c.has_attachments)):
            dropped.update(sha2s_of(orjson.loads(body)))
        conn.execute(delete(statement_agent).where(statement_agent.c.seq.in_(chunk)))
        conn.execute(delete(statement_activity).where(statement_activity.c.seq.in_(chunk)))
        conn.execute(delete(statements).where(statements.c.seq.in_(chunk)))
    delete_orphan_attachments(conn, dropped)
    ifis = agents_of(conn, person.employee_id)
    if ifis:
        conn.execute(delete(documents).where(documents.c.agent_ifi.in_(ifis)))


def retention_job(app) -> Report | None:
    """Daily: delete the raw records of people who left longer ago than the retention period (if one is set)."""
    days = app.config["RETENTION_DAYS_AFTER_LEAVING"]
    if days <= 0:
        return None
    settings = app.extensions["competence.settings"]
    return run(app.extensions["lrs.engine"], settings.day(utcnow()), days, actor="job:privacy.retention")
