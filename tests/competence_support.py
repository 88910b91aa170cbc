"""Helpers for the competence tests: a small trust loaded through the importers, statements sent over xAPI,
and a signed-in principal for the JSON API."""
import uuid
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
import time_machine
from flask import g

from lrs import scheduler
from lrs.competence import imports
from lrs.principal import Principal
from lrs.store.db import write_transaction

DATA = Path(__file__).parent / "data"
HOME = "https://id.helse.example.no"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
HLR = "https://kurs.helse.example.no/hlr"
SIM_TYPE = "https://kompetanse.helse.example.no/xapi/activities/simulation-session"


def now() -> datetime:
    return datetime.now(timezone.utc)


def days_ago(days: float) -> datetime:
    return now() - timedelta(days=days)


def load_trust(app):
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    with write_transaction(engine) as conn:
        imports.import_hr(conn, settings, "units.csv", (DATA / "units.csv").read_text())
        imports.import_catalog(conn, settings, "catalog.yaml", (DATA / "catalog.yaml").read_text())
        return imports.import_hr(conn, settings, "employees.csv", (DATA / "employees.csv").read_text())


def statement(employee_id, verb, activity, when: datetime, result=None, activity_type=None, sid=None):
    obj = {"objectType": "Activity", "id": activity}
    if activity_type:
        obj["definition"] = {"type": activity_type}
    stmt = {"id": sid or str(uuid.uuid4()), "actor": {"objectType": "Agent",
                                                        "account": {"homePage": HOME, "name": employee_id}},
            "verb": {"id": verb}, "object": obj, "timestamp": when.isoformat()}
    if result is not None:
        stmt["result"] = result
    return stmt


def send(xapi, *stmts):
    r = xapi.post("/xapi/statements", json=list(stmts))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def process(app):
    """What the scheduler does every two seconds."""
    assert scheduler.run(app, "competence.process")


def passed_hlr(employee_id, when, scaled=0.9):
    return statement(employee_id, PASSED, HLR, when, {"success": True, "score": {"scaled": scaled}})


@pytest.fixture
def trust(app):
    load_trust(app)
    return app


@pytest.fixture
def sign_in(app):
    """sign_in(Principal(...)) makes the API see that principal (the web sign-in does this for real)."""
    current = {}

    @app.before_request
    def _principal():
        if "who" in current:
            g.principal = current["who"]

    def as_(who: Principal | None):
        current.pop("who", None)
        if who is not None:
            current["who"] = who
    return as_


EMPLOYEE_E1 = Principal("u-e1", "E1", frozenset({"employee"}))
EMPLOYEE_E3 = Principal("u-e3", "E3", frozenset({"employee"}))
LEADER_MED = Principal("u-l1", "L1", frozenset({"employee", "leader"}), frozenset({"med"}))
ADMIN = Principal("u-admin", None, frozenset({"admin"}))


def last_first_of_march(today: date) -> date:
    """1 March of this year, or of last year when that is less than two months ago (the scenario needs May)."""
    march = date(today.year, 3, 1)
    return march if today >= date(today.year, 5, 15) else date(today.year - 1, 3, 1)


def compliant_on_first_of_march(app, xapi) -> date:
    """Unit akutt (Kari, E1: HLR and LMH mandatory) as the trust was set up in January: Kari's HLR from last spring
    holds until early May, LMH is due in April. So akutt was compliant on 1 March, and is not now (HLR expired,
    LMH missing) once the daily expiry job has run today. Returns that 1 March."""
    march = last_first_of_march(app.extensions["competence.settings"].day(now()))
    with time_machine.travel(datetime.combine(march - timedelta(days=40), time(10), tzinfo=timezone.utc),
                             tick=False):
        load_trust(app)
        send(xapi, passed_hlr("E1", datetime.combine(march - timedelta(days=300), time(10), tzinfo=timezone.utc)))
        process(app)
    assert scheduler.run(app, "competence.expiry")
    return march
