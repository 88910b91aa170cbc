"""Status changes reach the competence portal: in order per employee, exactly once by idempotency key, signed,
through failures, timeouts, crashes and two senders at once."""
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from datetime import timedelta

import pytest
import requests
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from lrs.portal import connectors, delivery, service
from lrs.portal.cli import portal_group
from lrs.portal.tables import outbox
from lrs.store.db import read_transaction, write_transaction
from lrs.store.types import utcnow
from tests.competence_support import days_ago, load_trust, passed_hlr, process, send
from tests.conftest import basic, fresh_database, make_credential
from tests.portal_support import Portal
from tests.server_support import Server

SECRET = "portal-secret"


@pytest.fixture
def portal(app):
    with Portal(SECRET) as p:
        app.config.update(PORTAL_WEBHOOK_URL=p.url, PORTAL_WEBHOOK_SECRET=SECRET, PORTAL_TIMEOUT=0.5,
                          PORTAL_BACKOFF_SECONDS=1.0)
        yield p


def outbox_events(app) -> list[dict]:
    with app.extensions["lrs.engine"].connect() as conn:
        return [json.loads(p) for p in conn.execute(select(outbox.c.payload).order_by(outbox.c.seq)).scalars()]


def deliver_until_quiet(app, rounds=40):
    """Delivery rounds, each later than the last backoff could be."""
    moment = utcnow()
    for _ in range(rounds):
        delivery.deliver(app.extensions["lrs.engine"], app.config, now=moment)
        moment += timedelta(minutes=61)


def assert_in_order_per_employee(accepted, events):
    def by_employee(items):
        out = defaultdict(list)
        for e in items:
            out[e["employee_id"]].append(e["event_id"])
        return out
    assert by_employee(accepted) == by_employee(events)


def test_every_change_arrives_in_order_exactly_once_through_failures(app, xapi, portal):
    load_trust(app)
    send(xapi, passed_hlr("E1", days_ago(3)), passed_hlr("E2", days_ago(400)))
    process(app)
    events = outbox_events(app)
    assert len(events) == 10 and {e["status"] for e in events} >= {"fulfilled", "expired", "not_yet_due"}

    # The portal is down (nothing listens), then stalls, then fails, then recovers.
    app.config["PORTAL_WEBHOOK_URL"] = "http://127.0.0.1:9/closed"
    delivery.deliver(app.extensions["lrs.engine"], app.config)
    app.config["PORTAL_WEBHOOK_URL"] = portal.url
    portal.plan = ["slow", "500", "500", "ok", "slow", "500"]
    deliver_until_quiet(app)

    accepted = portal.accepted()
    assert [e["event_id"] for e in accepted] == [e["event_id"] for e in accepted]  # no key twice in accepted
    assert sorted(e["event_id"] for e in accepted) == sorted(e["event_id"] for e in events)
    assert_in_order_per_employee(accepted, events)
    for r in portal.received:
        assert connectors.verify(SECRET, r["body"], r["signature"])
        assert json.loads(r["body"])["event_id"] == r["key"]
    assert not connectors.verify("wrong-secret", portal.received[0]["body"], portal.received[0]["signature"])
    payload = accepted[0]
    assert set(payload) == {"event_id", "employee_id", "competence_code", "status", "previous_status",
                            "fulfilled_date", "valid_until", "evidence_statement_ids", "changed_at"}
    with read_transaction(app.extensions["lrs.engine"]) as conn:
        (webhook,) = [s for s in service.status(conn) if s["connector"] == "webhook"]
    assert (webhook["pending"], webhook["sent"], webhook["dead"]) == (0, 10, 0)


def test_a_rejected_change_is_dead_lettered_not_retried_and_can_be_requeued(app, portal):
    load_trust(app)
    portal.plan = ["400"]
    delivery.deliver(app.extensions["lrs.engine"], app.config)
    engine = app.extensions["lrs.engine"]
    with read_transaction(engine) as conn:
        (dead,) = service.dead_letters(conn)
    assert dead["attempts"] == 1 and dead["last_status"] == "HTTP 400"
    deliver_until_quiet(app, 3)
    assert sum(1 for r in portal.received if r["key"] == dead["event_id"]) == 1  # not tried again
    out = FlaskCliRunner(app).invoke(portal_group, ["status"])
    assert "dead 1" in out.output and dead["event_id"] in out.output
    assert FlaskCliRunner(app).invoke(portal_group, ["requeue", dead["event_id"]]).output.strip() == "requeued 1"
    deliver_until_quiet(app, 2)
    assert dead["event_id"] in {e["event_id"] for e in portal.accepted()}
    with read_transaction(engine) as conn:
        assert service.dead_letters(conn) == []


def test_gives_up_after_the_last_attempt(app, portal):
    load_trust(app)
    app.config["PORTAL_MAX_ATTEMPTS"] = 3
    portal.plan = ["500"] * 100
    deliver_until_quiet(app, 20)  # an employee's next change waits until the one before it is dead
    with read_transaction(app.extensions["lrs.engine"]) as conn:
        dead = service.dead_letters(conn)
    changes = len(outbox_events(app))
    assert len(dead) == changes and {d["attempts"] for d in dead} == {3}
    assert len(portal.received) == 3 * changes  # three attempts each, then no more


def test_backoff_grows_with_jitter():
    waits = [delivery.backoff(n, 5).total_seconds() for n in (1, 2, 3, 10, 30)]
    assert 2.5 <= waits[0] <= 5 and 5 <= waits[1] <= 10 and 10 <= waits[2] <= 20
    assert waits[-1] <= 3600
    assert len({delivery.backoff(4, 5) for _ in range(20)}) > 1


_DELIVER = """
import sys, time
from lrs import create_app
from lrs.portal import delivery
app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "t", "PORTAL_WEBHOOK_URL": sys.argv[2],
                  "PORTAL_WEBHOOK_SECRET": "portal-secret", "PORTAL_TIMEOUT": 5})
while True:
    delivery.deliver(app.extensions["lrs.engine"], app.config)
    time.sleep(0.05)
"""


def test_killing_the_sender_mid_way_loses_nothing(app, db_url):
    load_trust(app)
    with Portal(SECRET, delay=0.2) as portal:
        sender = subprocess.Popen([sys.executable, "-c", _DELIVER, db_url, portal.url])
        deadline = time.monotonic() + 30
        while len(portal.received) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        sender.kill()  # SIGKILL: in the middle of a leased batch
        sender.wait()
        got_before = len(portal.accepted())
        assert 3 <= got_before < len(outbox_events(app))
        app.config.update(PORTAL_WEBHOOK_URL=portal.url, PORTAL_WEBHOOK_SECRET=SECRET, PORTAL_TIMEOUT=5)
        # After the dead sender's lease runs out, the rest (and the one it was sending) go out.
        moment = utcnow() + timedelta(hours=1)
        for _ in range(5):
            delivery.deliver(app.extensions["lrs.engine"], app.config, now=moment)
        events = outbox_events(app)
        accepted = portal.accepted()
        assert sorted(e["event_id"] for e in accepted) == sorted(e["event_id"] for e in events)
        assert_in_order_per_employee(accepted, events)


def test_two_app_processes_on_one_postgresql_never_send_a_change_twice(tmp_path, worker_id):
    with fresh_database("postgresql", tmp_path, f"portal2_{worker_id}") as url, Portal(SECRET, delay=0.02) as portal:
        env = {"LRS_PORTAL_WEBHOOK_URL": portal.url, "LRS_PORTAL_WEBHOOK_SECRET": SECRET, "LRS_SECRET_KEY": "t",
               "LRS_PORTAL_BATCH": "20"}
        first, second = Server(url, workers=2, threads=2, env=env), Server(url, workers=2, threads=2, env=env)
        first.start(timeout=60)
        second.start(timeout=60)
        try:
            from lrs import create_app
            loader = create_app({"DATABASE_URL": url, "SECRET_KEY": "t"})
            load_trust(loader)  # 10 changes, then more from a bigger HR file
            staff = "employee_id,name,email,unit_id,roles,started_on,left_on\n" + "".join(
                f"N{i},Ny {i},,akutt,sykepleier,2026-01-01,\n" for i in range(60))
            from lrs.competence import imports
            with write_transaction(loader.extensions["lrs.engine"]) as conn:
                imports.import_hr(conn, loader.extensions["competence.settings"], "more.csv", staff)
            events = outbox_events(loader)
            loader.extensions["lrs.engine"].dispose()
            deadline = time.monotonic() + 90
            while len(portal.accepted()) < len(events) and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            first.stop()
            second.stop()
        keys = [r["key"] for r in portal.received]
        assert len(events) > 150
        assert sorted(keys) == sorted(e["event_id"] for e in events)  # each exactly once
        assert_in_order_per_employee(portal.accepted(), events)


def test_pull_feed_pages_with_a_cursor_and_needs_its_scope(app, client_for):
    load_trust(app)
    client = app.test_client()
    assert client.get("/api/portal/changes").status_code == 401
    wrong = make_credential(app, ("statements/read",), "reader")
    r = client.get("/api/portal/changes", headers={"Authorization": basic(wrong["key"], wrong["secret"])})
    assert r.status_code == 403 and "portal/read" in r.get_json()["error"]["message"]
    cred = make_credential(app, ("portal/read",), "portal")
    headers = {"Authorization": basic(cred["key"], cred["secret"])}
    assert client.get("/api/portal/changes?limit=0", headers=headers).status_code == 400
    got, url = [], "/api/portal/changes?limit=4"
    for _ in range(5):
        page = client.get(url, headers=headers).get_json()
        got += page["changes"]
        url = page["next"]
        if not page["changes"]:
            break
    assert [c["event_id"] for c in got] == [e["event_id"] for e in outbox_events(app)]


def test_xapi_forward_sends_the_same_facts_to_another_lrs(app, tmp_path, worker_id):
    load_trust(app)
    with fresh_database("sqlite", tmp_path, "other") as url:
        other = Server(url, workers=1, threads=2, env={"LRS_SECRET_KEY": "t"}).start(timeout=60)
        try:
            key, secret = other.credential("all")
            app.config.update(PORTAL_XAPI_URL=other.url + "/xapi/", PORTAL_XAPI_KEY=key, PORTAL_XAPI_SECRET=secret)
            delivery.deliver(app.extensions["lrs.engine"], app.config)
            delivery.deliver(app.extensions["lrs.engine"], app.config)
            r = requests.get(other.url + "/xapi/statements", auth=(key, secret),
                             headers={"X-Experience-API-Version": "1.0.3"}, timeout=10).json()
        finally:
            other.stop()
    events = outbox_events(app)
    assert len(r["statements"]) == len(events)
    ext = "https://kompetanse.helse.example.no/xapi/extensions/"
    forwarded = {s["context"]["extensions"][ext + "event-id"]: s for s in r["statements"]}
    first = events[0]
    stmt = forwarded[first["event_id"]]
    assert stmt["actor"]["account"]["name"] == first["employee_id"]
    assert stmt["object"]["id"].endswith("/competences/" + first["competence_code"])
    assert stmt["result"]["extensions"][ext + "status"] == first["status"]


def test_no_connector_configured_sends_nothing(app):
    load_trust(app)
    assert delivery.deliver(app.extensions["lrs.engine"], app.config) == {}
    assert os.environ.get("LRS_PORTAL_WEBHOOK_URL") is None
