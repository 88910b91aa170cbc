"""Reminders (daily, lrs.competence.reminders' mailer and once-only bookkeeping): a participant behind the planned
pace hears it, and so does their supervisor; a supervisor hears of entries and objectives waiting for them. Each
message once per event: behind at a new step of the pace, or new things waiting this week."""
from datetime import timedelta

from sqlalchemy import select

from lrs.competence.reminders import Mailer, send_once
from lrs.competence.tables import employees
from lrs.programmes import service
from lrs.programmes.tables import programme_enrolments
from lrs.store.db import read_transaction
from lrs.store.types import utcnow


def send_reminders(app, now=None) -> int:
    mailer = Mailer(app.config)
    if not mailer.enabled:
        return 0
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    today = settings.day(now or utcnow())
    week = today - timedelta(days=today.weekday())
    link = app.config["PUBLIC_URL"].rstrip("/") + "/programmer"
    messages = []
    with read_transaction(engine) as conn:
        rows = conn.execute(select(programme_enrolments).where(programme_enrolments.c.state == "active")).all()
        mail = dict(conn.execute(select(employees.c.id, employees.c.email).where(employees.c.email.is_not(None),
                                                                                 employees.c.left_on.is_(None))).all())
        for row in rows:
            p = service.progress(conn, settings, row, today)
            pace, title = p["pace"], p["programme"]["title_nb"]
            if pace["behind"]:
                text = (f"{p['enrolment']['name']} har {pace['approved']} av {pace['expected']} læringsmål godkjent "
                        f"som etter planen skulle vært godkjent nå i «{title}».\nSe progresjonen: {link}\n\n"
                        f"{pace['approved']} of {pace['expected']} learning objectives due by now are approved.\n")
                for who in (row.employee_id, row.supervisor_id):
                    if who in mail:
                        messages.append((f"programme-behind:{row.id}:{who}:{pace['expected']}", mail[who],
                                         f"Bak planen i {title} / Behind plan", text))
            waiting = sum(o["state"] == "ready" and o["assessment"] == "supervisor"
                          for t in p["topics"] for o in t["objectives"])
            entries = sum(e["state"] == "pending" for e in p["entries"])
            if (waiting or entries) and row.supervisor_id in mail:
                messages.append((f"programme-waiting:{row.id}:{row.supervisor_id}:{week.isoformat()}",
                                 mail[row.supervisor_id], f"Venter på deg: {p['enrolment']['name']} / Awaiting you",
                                 f"{entries} registreringer å bekrefte og {waiting} læringsmål å vurdere i «{title}».\n"
                                 f"{link}/veiledning\n\n{entries} entries to confirm, {waiting} objectives to "
                                 f"assess.\n"))
    return sum(send_once(engine, mailer, key, to, subject, body) for key, to, subject, body in messages)
