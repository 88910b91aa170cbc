"""Reminders and the leaders' digest by e-mail, against a real SMTP server on loopback; never twice."""
import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller

from lrs import scheduler
from lrs.competence import reminders
from tests.competence_support import days_ago, passed_hlr, process, send

pytestmark = pytest.mark.usefixtures("trust")


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, message["Subject"] + "\n" + message.get_content()))
        return "250 OK"


@pytest.fixture
def inbox(app):
    box = Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    yield box
    controller.stop()


def test_expiring_and_overdue_reminders_are_sent_once(app, xapi, inbox):
    send(xapi, passed_hlr("E1", days_ago(340)), passed_hlr("E2", days_ago(500)))
    process(app)
    assert reminders.send_reminders(app) == 2
    to = sorted(rcpt[0] for rcpt, _body in inbox.messages)
    assert to == ["kari.nordmann@helse.example.no", "ola.hansen@helse.example.no"]
    kari = next(body for rcpt, body in inbox.messages if rcpt == ["kari.nordmann@helse.example.no"])
    assert "Hjerte-lunge-redning" in kari and "går snart ut" in kari
    assert reminders.send_reminders(app) == 0  # the same events: nothing again
    assert len(inbox.messages) == 2


def test_renewing_and_expiring_again_is_a_new_reminder(app, xapi, inbox):
    send(xapi, passed_hlr("E1", days_ago(340)))
    process(app)
    assert reminders.send_reminders(app) == 1
    send(xapi, passed_hlr("E1", days_ago(320)))  # a later course: a new expiry date, still within the window
    process(app)
    assert reminders.send_reminders(app) == 1


def test_weekly_digest_to_unit_leaders_once_per_week(app, xapi, inbox):
    send(xapi, passed_hlr("E1", days_ago(340)))
    process(app)
    assert reminders.send_digests(app) == 1
    (rcpt, body), = inbox.messages
    assert rcpt == ["lise.leder@helse.example.no"]
    assert "Medisinsk klinikk" in body and "går snart ut: 1" in body
    assert reminders.send_digests(app) == 0


def test_scheduled_job_sends_nothing_without_smtp(app):
    app.config["SMTP_HOST"] = ""
    assert scheduler.run(app, "competence.reminders")
