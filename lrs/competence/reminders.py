"""E-mail: a reminder to the employee when a mandatory competence is about to expire and when it is overdue, and a
weekly digest to each unit leader of their subtree. Never twice for the same event: each message has a key,
recorded in `reminders_sent` in the transaction that sends it."""
import logging
import smtplib
from collections import Counter
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from lrs import registry
from lrs.competence.directory import subtree_unit_ids
from lrs.competence.tables import competences, employees, plan_items, reminders_sent, units
from lrs.store.db import read_transaction, write_transaction
from lrs.store.types import utcnow

log = logging.getLogger(__name__)
STATUS_NB = {"expiring": "går snart ut", "expired": "er utløpt", "missing": "mangler"}
STATUS_EN = {"expiring": "expires soon", "expired": "has expired", "missing": "is missing"}


class MailError(Exception):
    """Sending failed. Names the message by its key (ids), never by address: SMTP errors quote the recipients."""


class Mailer:
    def __init__(self, config):
        self.config = config

    @property
    def enabled(self) -> bool:
        return bool(self.config["SMTP_HOST"])

    def send(self, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.config["SMTP_FROM"], to, subject
        msg.set_content(body)
        with smtplib.SMTP(self.config["SMTP_HOST"], self.config["SMTP_PORT"], timeout=30) as smtp:
            if self.config["SMTP_STARTTLS"]:
                smtp.starttls()
            if self.config["SMTP_USER"]:
                smtp.login(self.config["SMTP_USER"], self.config["SMTP_PASSWORD"])
            smtp.send_message(msg)


def send_once(engine, mailer: Mailer, key: str, to: str, subject: str, body: str) -> bool:
    """Record the key and send in one transaction: a failed send is tried again next run, a sent one never again."""
    try:
        with write_transaction(engine) as conn:
            conn.execute(insert(reminders_sent).values(key=key, sent=utcnow()))
            mailer.send(to, subject, body)
        return True
    except IntegrityError:
        return False
    except smtplib.SMTPRecipientsRefused:
        # This address only: the others are still sent; this one is tried again next run.
        log.warning("e-mail refused", extra={"reminder": key})
        return False
    except (smtplib.SMTPException, OSError) as e:
        code = getattr(e, "smtp_code", None)
        raise MailError(f"sending {key} failed: {type(e).__name__}{f' (SMTP {code})' if code else ''}") from None


def send_reminders(app) -> int:
    mailer = Mailer(app.config)
    if not mailer.enabled:
        return 0
    engine = app.extensions["lrs.engine"]
    link = app.config["PUBLIC_URL"].rstrip("/") + "/"
    with read_transaction(engine) as conn:
        due = conn.execute(
            select(plan_items.c.employee_id, plan_items.c.competence_code, plan_items.c.status,
                   plan_items.c.valid_until, plan_items.c.due_on, employees.c.email, employees.c.name,
                   competences.c.name_nb, competences.c.name_en)
            .join(employees, employees.c.id == plan_items.c.employee_id)
            .join(competences, competences.c.code == plan_items.c.competence_code)
            .where(plan_items.c.mandatory, plan_items.c.status.in_(("expiring", "expired", "missing")),
                   employees.c.email.is_not(None), employees.c.left_on.is_(None))
            .order_by(plan_items.c.employee_id, plan_items.c.competence_code)).all()
    sent = 0
    for r in due:
        kind = "expiring" if r.status == "expiring" else "overdue"
        # One reminder per expiry date (or deadline): renewing and expiring again is a new event.
        key = f"{kind}:{r.employee_id}:{r.competence_code}:{r.valid_until or r.due_on}"
        when = r.valid_until.isoformat() if r.valid_until else (r.due_on.isoformat() if r.due_on else "")
        subject = f"{r.name_nb} {STATUS_NB[r.status]} / {r.name_en} {STATUS_EN[r.status]}"
        body = (f"Hei {r.name},\n\nKompetansen «{r.name_nb}» i kompetanseplanen din {STATUS_NB[r.status]}"
                f"{' (' + when + ')' if when else ''}.\nSe planen din: {link}\n\n"
                f"Your competence \"{r.name_en}\" {STATUS_EN[r.status]}{' (' + when + ')' if when else ''}.\n"
                f"See your plan: {link}\n")
        sent += send_once(engine, mailer, key, r.email, subject, body)
    return sent


def send_digests(app, now=None) -> int:
    mailer = Mailer(app.config)
    if not mailer.enabled:
        return 0
    engine = app.extensions["lrs.engine"]
    settings = app.extensions["competence.settings"]
    today = settings.day(now or utcnow())
    week = today - timedelta(days=today.weekday())
    sent = 0
    with read_transaction(engine) as conn:
        led = conn.execute(select(units.c.id, units.c.name, units.c.leader_id, employees.c.email, employees.c.name
                                  .label("leader_name"))
                           .join(employees, employees.c.id == units.c.leader_id)
                           .where(employees.c.email.is_not(None), employees.c.left_on.is_(None))).all()
        digests = []
        for unit in led:
            ids = subtree_unit_ids(conn, [unit.id])
            counts = Counter(conn.execute(
                select(plan_items.c.status).join(employees, employees.c.id == plan_items.c.employee_id)
                .where(employees.c.unit_id.in_(ids), employees.c.left_on.is_(None),
                       plan_items.c.status.in_(("expiring", "expired", "missing", "awaiting_attestation")))
            ).scalars())
            extra = "".join(section(conn, unit.id, ids) for section in registry.of(app).digest_sections)
            digests.append((unit, counts, extra))
    for unit, counts, extra in digests:
        body = (f"Hei {unit.leader_name},\n\nUkesoversikt for {unit.name} ({week.isoformat()}):\n"
                f"  går snart ut: {counts['expiring']}\n  utløpt: {counts['expired']}\n"
                f"  mangler: {counts['missing']}\n  venter på attestering: {counts['awaiting_attestation']}\n\n"
                f"Weekly summary: expiring {counts['expiring']}, expired {counts['expired']}, missing "
                f"{counts['missing']}, awaiting attestation {counts['awaiting_attestation']}.\n"
                f"{extra}{app.config['PUBLIC_URL'].rstrip('/')}/\n")
        sent += send_once(engine, mailer, f"digest:{unit.id}:{unit.leader_id}:{week.isoformat()}", unit.email,
                          f"Kompetanse i {unit.name}: ukesoversikt / weekly summary", body)
    return sent
