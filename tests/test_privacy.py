"""Privacy: the access log, a person's data on request, erasure with pseudonyms, retention, and least data in what
goes out. Through HTTP, the `lrs privacy` command and the scheduler, on SQLite and PostgreSQL."""
import csv
import io
import json
import logging
import re
import socket
from datetime import timedelta

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import inspect, select, text

from lrs import scheduler
from lrs.competence import imports
from lrs.privacy.cli import privacy_group
from lrs.store.db import read_transaction, write_transaction
from lrs.web import accounts
from tests.competence_support import (COMPLETED, HLR, HOME, PASSED, days_ago, now, passed_hlr, process, send,
                                      statement)
from tests.helpers import create_people, csrf_header, password_hash, sign_in, token_of
from tests.signing import attachment, multipart_body, with_attachments

KARI = {"account": {"homePage": HOME, "name": "E1"}}
KARI_MAIL = "kari.nordmann@helse.example.no"
pytestmark = pytest.mark.usefixtures("trust")


@pytest.fixture
def people(app):
    create_people(app.extensions["lrs.engine"])
    app.config["RATELIMIT_ENABLED"] = False


@pytest.fixture
def runner(app):
    return FlaskCliRunner(app)


def signed_in(app, username):
    client = app.test_client()
    sign_in(client, username)
    return client


def access_rows(admin, **query) -> list[dict]:
    r = admin.get("/admin/privacy/access.csv", query_string=query)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))


def agent_json(agent) -> str:
    return json.dumps(agent)


# ------------------------------------------------------------------------------------------------ access log

def test_each_kind_of_read_is_logged_once_with_who_and_role(app, people, xapi, client_for):
    sid = send(xapi, passed_hlr("E1", days_ago(3)))[0]
    send(xapi, passed_hlr("E2", days_ago(3)))
    process(app)
    me = agent_json(KARI)
    assert xapi.put("/xapi/activities/state", query_string={"activityId": HLR, "agent": me, "stateId": "s"},
                    json={"step": 3}).status_code == 204
    assert xapi.put("/xapi/agents/profile", query_string={"agent": me, "profileId": "p"},
                    json={"lang": "nb"}, headers={"If-None-Match": "*"}).status_code == 204
    kari, lise, admin = signed_in(app, "kari"), signed_in(app, "lise"), signed_in(app, "admin")
    reader = client_for("all/read")
    evidence = kari.post("/api/competence/me/evidence", headers=csrf_header(kari, "/privacy"), data={
        "competence": "BRANN", "title": "Brannkurs", "completed_on": "2026-10-01",
        "certificate": (io.BytesIO(b"%PDF-1.4 kursbevis"), "bevis.pdf", "application/pdf")})
    assert evidence.status_code == 201
    reads = [
        (kari, "/plan"), (lise, "/employees/E1"), (lise, "/leader?unit=med"), (lise, "/leader/export.csv?unit=med"),
        (admin, f"/statements?person={KARI_MAIL}"), (admin, f"/statements/{sid}"),
        (kari, "/api/competence/me/plan"), (lise, "/api/competence/units/med/matrix?status=fulfilled"),
        (lise, "/api/competence/units/med/forecast"), (lise, f"/evidence/{evidence.get_json()['id']}/certificate"),
        (reader, "/xapi/statements?agent=" + me), (reader, f"/xapi/statements?statementId={sid}"),
        (reader, "/xapi/statements?verb=" + PASSED),
        (reader, f"/xapi/activities/state?activityId={HLR}&stateId=s&agent={me}"),
        (reader, f"/xapi/agents/profile?profileId=p&agent={me}"), (reader, "/xapi/agents?agent=" + me),
        (kari, "/privacy/employees/E1/export.json"), (client_for("portal/read"), "/api/portal/changes?limit=5"),
    ]
    for client, path in reads:
        assert client.get(path).status_code == 200, path
    # An xAPI read from a browser that also has a web session is the credential's read.
    assert kari.get(f"/xapi/statements?statementId={sid}", headers={
        "Authorization": reader.auth, "X-Experience-API-Version": "1.0.3"}).status_code == 200
    assert kari.get("/employees/E2").status_code == 403  # refused: it showed nothing, so nothing is logged
    assert reader.get(f"/xapi/activities/state?activityId={HLR}&stateId=none&agent={me}").status_code == 404

    rows = access_rows(admin)
    got = sorted((r["resource"], r["employee_id"], r["unit_id"], r["role"], r["user"] or "credential")
                 for r in rows)
    api = "scope:all/read"
    assert got == sorted([
        ("plan-page", "E1", "", "self", "kari"), ("plan-page", "E1", "", "leader:med", "lise"),
        ("leader-view", "", "med", "leader:med", "lise"), ("leader-export", "", "med", "leader:med", "lise"),
        ("statement-browser", "E1", "", "admin", "admin"), ("statement-page", "E1", "", "admin", "admin"),
        ("plan-api", "E1", "", "self", "kari"), ("matrix-api", "", "med", "leader:med", "lise"),
        ("forecast-api", "", "med", "leader:med", "lise"), ("certificate", "E1", "", "leader:med", "lise"),
        ("xapi-statements", "E1", "", api, "credential"), ("xapi-statements", "E1", "", api, "credential"),
        ("xapi-statements", "E1", "", api, "credential"),
        ("xapi-statements", "", "", api, "credential"), ("xapi-state", "E1", "", api, "credential"),
        ("xapi-agent-profile", "E1", "", api, "credential"), ("xapi-agent", "E1", "", api, "credential"),
        ("export", "E1", "", "self", "kari"), ("portal-feed", "", "", "scope:portal/read", "credential"),
    ])
    broad = next(r for r in rows if r["resource"] == "xapi-statements" and not r["employee_id"])
    assert PASSED in broad["filter"] and broad["credential"]
    assert next(r for r in rows if r["resource"] == "matrix-api")["filter"] == "status=fulfilled"
    # The statement browser was searched by e-mail address; the log names the person by employee id only.
    assert KARI_MAIL not in "".join(r["filter"] for r in rows)

    # Kari sees who read her records (her own reads left out), the leader's unit-wide reads included.
    page = kari.get("/privacy").get_data(as_text=True)
    assert "Hvem har sett dataene mine" in page
    assert "Lise Leder" in page and "Admin Istrator" in page and "Enhetsmatrise (API)" in page
    assert "Lise Leder</strong>, leder for Medisinsk klinikk: Enhetsmatrise (API) (hele enheten)" in page
    assert re.search(r"<h3[^>]*>I dag, \d+\. \w+</h3>", page)  # grouped by day
    assert "xAPI-hendelser" in page and "Kompetanseplan (API)" not in page
    # In plain words: roles and units by name, no role codes, no scopes (an API key by its name).
    assert "leader:med" not in page and "scope:" not in page and "et fagsystem med tilgang" in page
    # Lise read her own unit (and Kari's plan): none of that is news to her.
    assert "Ingen andre har lest dataene dine." in lise.get("/privacy").get_data(as_text=True)
    kari.get("/lang/en")
    assert "Who has seen my data" in kari.get("/privacy").get_data(as_text=True)
    assert "/privacy" in kari.get("/plan").get_data(as_text=True)  # linked from the plan


def test_admins_search_the_access_log_and_nobody_else_may(app, people, xapi):
    send(xapi, passed_hlr("E1", days_ago(3)))
    process(app)
    kari, lise, admin = signed_in(app, "kari"), signed_in(app, "lise"), signed_in(app, "admin")
    kari.get("/plan")
    lise.get("/employees/E1")
    lise.get("/employees/E2")
    assert {r["employee_id"] for r in access_rows(admin, reader="lise")} == {"E1", "E2"}
    assert [r["user"] for r in access_rows(admin, employee="E2")] == ["lise"]
    assert len(access_rows(admin, resource="plan-page", employee="E1")) == 2
    today = now().date()
    assert len(access_rows(admin, since=today.isoformat(), until=today.isoformat())) == 3
    assert access_rows(admin, since=(today + timedelta(days=1)).isoformat()) == []
    page = admin.get("/admin/privacy?employee=E1").get_data(as_text=True)
    assert "Tilgangslogg" in page and "kari" in page and "lise" in page
    assert admin.get("/admin/privacy?since=igår").status_code == 400
    assert admin.get("/admin/privacy?resource=nothing").status_code == 400
    assert kari.get("/admin/privacy").status_code == 403
    assert lise.get("/admin/privacy/access.csv").status_code == 403
    assert app.test_client().get("/admin/privacy").status_code == 302  # to the sign-in page
    assert "/admin/privacy" in admin.get("/admin").get_data(as_text=True)
    # A spreadsheet opening the CSV shows a user name like =2+2 as text, not as a formula.
    with write_transaction(app.extensions["lrs.engine"]) as conn:
        accounts.create(conn, "=2+2", "Formel", ["admin"], password_hash())
    signed_in(app, "=2+2").get("/employees/E3")
    assert [r["user"] for r in access_rows(admin, employee="E3")] == ["'=2+2"]


# ------------------------------------------------------------------------------------------------ export

def _kari_and_others(xapi):
    """Statements Kari is in (as actor by account and by e-mail, as instructor, as the target of a reference)
    and statements that are only Ola's."""
    own = passed_hlr("E1", days_ago(5))
    by_mail = statement("E1", COMPLETED, "https://kurs.helse.example.no/brann", days_ago(4))
    by_mail["actor"] = {"mbox": "mailto:" + KARI_MAIL, "name": "Kari Nordmann"}
    taught = statement("E2", COMPLETED, "https://kurs.helse.example.no/team", days_ago(3))
    taught["context"] = {"instructor": {"mbox": "mailto:" + KARI_MAIL}}
    ref = statement("E2", "http://adlnet.gov/expapi/verbs/commented", "x", days_ago(2))
    ref["object"] = {"objectType": "StatementRef", "id": own["id"]}
    olas = [passed_hlr("E2", days_ago(6)), statement("E2", COMPLETED, "https://kurs.helse.example.no/lmh", days_ago(1))]
    send(xapi, own, by_mail, taught, ref, *olas)
    return [own["id"], by_mail["id"], taught["id"], ref["id"]], [s["id"] for s in olas]


def test_export_holds_everything_of_the_person_and_nothing_of_others(app, people, xapi, runner, tmp_path):
    mine, olas = _kari_and_others(xapi)
    process(app)
    for agent, doc in ((KARI, "s1"), ({"mbox": "mailto:" + KARI_MAIL}, "s2"),
                       ({"account": {"homePage": HOME, "name": "E2"}}, "ola")):
        assert xapi.put("/xapi/activities/state", json={"doc": doc}, query_string={
            "activityId": HLR, "agent": agent_json(agent), "stateId": doc}).status_code == 204
    assert xapi.put("/xapi/agents/profile", data=b"notater", content_type="text/plain", query_string={
        "agent": agent_json(KARI), "profileId": "notes"}, headers={"If-None-Match": "*"}).status_code == 204
    signed_in(app, "lise").get("/employees/E1")

    out = runner.invoke(privacy_group, ["export", "--employee", "E1", "--out", str(tmp_path / "innsyn")])
    assert out.exit_code == 0, out.output
    record = json.loads((tmp_path / "innsyn" / "person-E1.json").read_text())
    assert sorted(s["id"] for s in record["statements"]) == sorted(mine)
    assert sorted(d["id"] for d in record["documents"]) == ["notes", "s1", "s2"]
    assert next(d for d in record["documents"] if d["id"] == "notes")["content"] == "notater"
    admin = signed_in(app, "admin")
    plan = admin.get("/api/competence/employees/E1/plan").get_json()
    assert [(i["competence"]["code"], i["status"]) for i in record["plan"]] == \
        [(i["competence"]["code"], i["status"]) for i in plan["items"]]
    assert {h["competence_code"] for h in record["status_history"]} == {i["competence"]["code"] for i in plan["items"]}
    assert record["employee"]["email"] == KARI_MAIL and "mbox:mailto:" + KARI_MAIL in record["agents"]
    assert [a["username"] for a in record["user_accounts"]] == ["kari"]
    assert [(a["username"], a["role"]) for a in record["access_log"]] == [("lise", "leader:med")]
    assert record["sent_to_competence_portal"] and all(
        p["employee_id"] == "E1" for p in record["sent_to_competence_portal"])
    dumped = json.dumps(record)
    assert not any(sid in dumped for sid in olas) and "ola" not in [d["id"] for d in record["documents"]]
    assert "Ola Hansen" not in dumped and "password" not in dumped
    report = (tmp_path / "innsyn" / "person-E1.html").read_text()
    assert "Kari Nordmann" in report and all(sid in report for sid in mine) and "Hjerte-lunge-redning" in report

    # The same from the web: the person themselves and admins, nobody else.
    kari = signed_in(app, "kari")
    downloaded = kari.get("/privacy/employees/E1/export.json")
    assert downloaded.status_code == 200 and "attachment" in downloaded.headers["Content-Disposition"]
    assert sorted(s["id"] for s in downloaded.get_json()["statements"]) == sorted(mine)
    assert "Kari Nordmann" in kari.get("/privacy/employees/E1/export.html").get_data(as_text=True)
    assert admin.get("/admin/privacy/export?employee=E1&format=json").headers["Location"].endswith(
        "/privacy/employees/E1/export.json")
    assert admin.get("/privacy/employees/E1/export.json").status_code == 200
    assert signed_in(app, "per").get("/privacy/employees/E1/export.json").status_code == 403
    assert signed_in(app, "lise").get("/privacy/employees/E1/export.json").status_code == 403
    assert admin.get("/privacy/employees/NOBODY/export.json").status_code == 404
    assert admin.get("/privacy/employees/E1/export.pdf").status_code == 404
    assert admin.get("/admin/privacy/export?employee=NOBODY").status_code == 404
    assert runner.invoke(privacy_group, ["export", "--employee", "NOBODY", "--out", str(tmp_path)]).exit_code != 0


# ------------------------------------------------------------------------------------------------ erasure

RAGNHILD = {"id": "EMP-7Q42", "name": "Ragnhild Østerbø-Kvam", "email": "ragnhild.kvam@helse.example.no",
            "username": "rkvam"}


def _dump(engine) -> str:
    """Every row of every table, as text (binary columns decoded as far as they are text)."""
    out = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    if isinstance(value, memoryview):
                        value = value.tobytes()
                    out.append(value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value))
    return "\n".join(out).lower()


def _traces(engine) -> list[str]:
    dump = _dump(engine)
    return [word for word in RAGNHILD.values() if word.lower() in dump]


def test_erasure_leaves_no_trace_of_the_identity_and_keeps_the_figures(app, people, xapi, runner):
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    r = RAGNHILD
    with write_transaction(engine) as conn:
        imports.import_hr(conn, settings, "ny.csv", "employee_id,name,email,unit_id,roles,started_on,left_on\n"
                          f"{r['id']},{r['name']},{r['email']},akutt,sykepleier,2021-02-01,\n")
    with write_transaction(engine) as conn:
        accounts.create(conn, r["username"], r["name"], ["employee"], password_hash(), employee_id=r["id"])
    account = {"objectType": "Agent", "name": r["name"], "account": {"homePage": HOME, "name": r["id"]}}
    mbox = {"name": r["name"], "mbox": "mailto:" + r["email"]}
    own = passed_hlr(r["id"], days_ago(30)) | {"actor": account}
    proof = f"Kursbevis for {r['name']}".encode()
    by_mail = with_attachments(statement(r["id"], COMPLETED, "https://kurs.helse.example.no/brann", days_ago(20))
                               | {"actor": mbox}, attachment(proof, "text/plain"))
    taught = statement("E2", COMPLETED, "https://kurs.helse.example.no/team", days_ago(10),
                       result={"response": f"Godt jobbet sammen med {r['name']}"})
    taught["context"] = {"instructor": mbox}
    ref = statement("E2", "http://adlnet.gov/expapi/verbs/commented", "x", days_ago(2))
    ref["object"] = {"objectType": "StatementRef", "id": own["id"]}
    send(xapi, own, taught, ref)
    body, ctype = multipart_body(by_mail, [("text/plain", proof)])
    assert xapi.post("/xapi/statements", data=body, content_type=ctype).status_code == 200
    assert xapi.put("/xapi/activities/state", json={"learner": r["name"], "who": mbox}, query_string={
        "activityId": HLR, "agent": agent_json(account), "stateId": "progress"}).status_code == 204
    assert xapi.put("/xapi/agents/profile", data=f"notater om {r['name']}".encode(), content_type="text/plain",
                    query_string={"agent": agent_json(mbox), "profileId": "notes"},
                    headers={"If-None-Match": "*"}).status_code == 204
    her = signed_in(app, r["username"])
    her.get("/plan")
    assert her.post("/api/competence/me/evidence", headers=csrf_header(her, "/privacy"), data={
        "competence": "BRANN", "title": f"Brannkurs ({r['name']})", "completed_on": "2026-10-01",
        "certificate": (io.BytesIO(b"%PDF-1.4\n" + proof), f"{r['username']}.pdf", "application/pdf")}
    ).status_code == 201
    admin = signed_in(app, "admin")
    admin.get(f"/statements?person={r['email']}")
    admin.get(f"/employees/{r['id']}")
    failed = app.test_client()
    failed.post("/login", data={"username": r["username"], "password": "feil", "csrf_token": token_of(
        failed.get("/login").get_data(as_text=True))})
    process(app)
    assert set(_traces(engine)) == set(r.values())  # the test would see them

    def everything_about(agents):
        ids = set()
        for agent in agents:
            found = xapi.get("/xapi/statements", query_string={"agent": agent_json(agent), "related_agents": "true"})
            ids |= {s["id"] for s in found.get_json()["statements"]}
        return ids

    before = everything_about([account, mbox])
    assert before == {own["id"], by_mail["id"], taught["id"], ref["id"]}
    matrix_before = admin.get("/api/competence/units/akutt/matrix").get_json()
    plan_before = admin.get(f"/api/competence/employees/{r['id']}/plan").get_json()

    refused = runner.invoke(privacy_group, ["erase", "--employee", r["id"]], input="n\n")
    assert refused.exit_code != 0 and set(_traces(engine)) == set(r.values())
    done = runner.invoke(privacy_group, ["erase", "--employee", r["id"], "--yes"])
    assert done.exit_code == 0, done.output
    pseudonym = re.search(r"anon-[0-9a-f]{16}", done.output).group(0)

    assert _traces(engine) == []
    stand_in = {"account": {"homePage": app.config["PSEUDONYM_HOMEPAGE"], "name": pseudonym}}
    assert everything_about([stand_in]) == before
    assert everything_about([account, mbox]) == set()
    stored = xapi.get("/xapi/statements", query_string={"agent": agent_json(stand_in), "related_agents": "true",
                                                        "limit": 10}).get_json()["statements"]
    # Still valid xAPI, and still the same statements: sent again, the LRS accepts them as repeats.
    assert xapi.post("/xapi/statements", json=stored).status_code == 200
    assert all("attachments" not in s for s in stored)
    assert next(s for s in stored if s["id"] == own["id"])["actor"] == {"objectType": "Agent", **stand_in}
    assert next(s for s in stored if s["id"] == taught["id"])["result"]["response"] == \
        f"Godt jobbet sammen med {pseudonym}"
    state = xapi.get("/xapi/activities/state", query_string={"activityId": HLR, "agent": agent_json(stand_in),
                                                             "stateId": "progress"})
    assert state.status_code == 200 and state.get_json()["learner"] == pseudonym

    # The unit's figures and the plan are what they were (with the pseudonym for the name), also recomputed.
    def figures(matrix):
        return sorted(json.dumps(row["cells"], sort_keys=True) for row in matrix["employees"])
    assert figures(admin.get("/api/competence/units/akutt/matrix").get_json()) == figures(matrix_before)
    from lrs.competence.cli import competence_group
    assert runner.invoke(competence_group, ["recompute"]).exit_code == 0
    process(app)
    assert figures(admin.get("/api/competence/units/akutt/matrix").get_json()) == figures(matrix_before)
    plan_after = admin.get(f"/api/competence/employees/{pseudonym}/plan").get_json()
    assert [(i["competence"]["code"], i["status"], i["evidence"]) for i in plan_after["items"]] == \
        [(i["competence"]["code"], i["status"], i["evidence"]) for i in plan_before["items"]]
    assert admin.get(f"/api/competence/employees/{r['id']}/plan").status_code == 404

    # The erasure itself is on record: who, when, the pseudonym (not the identity); her account cannot sign in.
    page = admin.get("/admin/privacy").get_data(as_text=True)
    assert pseudonym in page and "cli:" in page
    assert her.get("/plan").status_code == 302
    assert runner.invoke(privacy_group, ["erase", "--employee", r["id"], "--yes"]).exit_code != 0


# ------------------------------------------------------------------------------------------------ retention

def test_retention_dry_run_reports_then_the_daily_job_deletes(app, people, xapi, runner):
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    long_ago, lately = (now() - timedelta(days=400)).date(), (now() - timedelta(days=10)).date()
    with write_transaction(engine) as conn:
        imports.import_hr(conn, settings, "slutt.csv", "employee_id,name,email,unit_id,roles,started_on,left_on\n"
                          f"E3,Per Olsen,,drift,portor,2018-08-15,{long_ago}\n"
                          f"E2,Ola Hansen,ola.hansen@helse.example.no,hjerte,sykepleier;lege,2019-03-01,{lately}\n")
    per = {"account": {"homePage": HOME, "name": "E3"}}
    data = b"Per sitt kursbevis"
    with_file = with_attachments(statement("E3", COMPLETED, "https://kurs.helse.example.no/brann", days_ago(500)),
                                 attachment(data, "text/plain"))
    body, ctype = multipart_body(with_file, [("text/plain", data)])
    assert xapi.post("/xapi/statements", data=body, content_type=ctype).status_code == 200
    send(xapi, passed_hlr("E3", days_ago(450)), passed_hlr("E2", days_ago(30)), passed_hlr("E1", days_ago(30)))
    assert xapi.put("/xapi/activities/state", json={"x": 1}, query_string={
        "activityId": HLR, "agent": agent_json(per), "stateId": "s"}).status_code == 204
    process(app)

    def count(employee_id):
        agent = {"account": {"homePage": HOME, "name": employee_id}}
        return len(xapi.get("/xapi/statements", query_string={"agent": agent_json(agent)}).get_json()["statements"])

    assert runner.invoke(privacy_group, ["retention", "--dry-run"]).exit_code != 0  # no period configured
    dry = runner.invoke(privacy_group, ["retention", "--dry-run", "--days", "365"])
    assert dry.exit_code == 0, dry.output
    assert "would delete" in dry.output and "E3 (left " in dry.output and "2 statements, 1 documents" in dry.output
    assert "E2" not in dry.output
    assert (count("E3"), count("E2"), count("E1")) == (2, 1, 1)  # a dry run deletes nothing

    assert scheduler.run(app, "privacy.retention")  # not configured: runs, deletes nothing
    assert count("E3") == 2
    app.config["RETENTION_DAYS_AFTER_LEAVING"] = 365
    assert scheduler.run(app, "privacy.retention", now=now() + timedelta(days=1))
    assert (count("E3"), count("E2"), count("E1")) == (0, 1, 1)
    assert xapi.get("/xapi/activities/state", query_string={"activityId": HLR, "agent": agent_json(per),
                                                            "stateId": "s"}).status_code == 404
    assert data.lower().decode() not in _dump(engine)  # the attachment only Per's statement carried
    admin = signed_in(app, "admin")
    assert admin.get("/api/competence/employees/E3/plan").status_code == 200  # the plan itself is kept
    assert "2 statements, 1 documents" in admin.get("/admin/privacy").get_data(as_text=True)
    again = runner.invoke(privacy_group, ["retention", "--dry-run", "--days", "365"])
    assert "0 statements and 0 documents" in again.output


# ------------------------------------------------------------------------------------------------ least data

class RefusingInbox:
    """An SMTP server that refuses one address and takes the rest."""

    def __init__(self, refused: str):
        self.refused, self.accepted = refused, []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refused:
            return f"550 5.1.1 <{address}>: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.accepted += envelope.rcpt_tos
        return "250 OK"


@pytest.fixture
def captured():
    """Every record the app's loggers write (they do not propagate to the root logger), with its extra fields."""
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    loggers = [logging.getLogger(name) for name in ("lrs", "simulation")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
    yield records
    for lg, level in zip(loggers, levels):
        lg.removeHandler(handler)
        lg.setLevel(level)


def _record_text(record) -> str:
    return record.getMessage() + " " + " ".join(f"{k}={v}" for k, v in vars(record).items())


def test_portal_pushes_and_logs_carry_ids_not_names_or_addresses(app, people, xapi, captured):
    from aiosmtpd.controller import Controller

    from lrs.portal import connectors, delivery
    from tests.portal_support import Portal

    words = ("Kari Nordmann", KARI_MAIL)
    by_mail = passed_hlr("E1", days_ago(340)) | {"actor": {"name": "Kari Nordmann", "mbox": "mailto:" + KARI_MAIL}}
    with Portal() as portal:
        app.config.update(PORTAL_WEBHOOK_URL=portal.url, PORTAL_WEBHOOK_SECRET=portal.secret)
        send(xapi, by_mail)
        process(app)
        delivery.deliver(app.extensions["lrs.engine"], app.config)
        admin = signed_in(app, "admin")
        assert admin.get(f"/statements?person={KARI_MAIL}").status_code == 200
        signed_in(app, "kari").get("/plan")
    pushed = [json.loads(r["body"]) for r in portal.received]
    assert "E1" in {p["employee_id"] for p in pushed} and {p["employee_id"] for p in pushed} <= {"E1", "E2", "E3", "L1"}
    forwarded = [connectors.XAPIForward(app.config).statement(p) for p in pushed]
    for sent in [json.dumps(p) for p in pushed + forwarded]:
        assert not any(w.lower() in sent.lower() for w in words)
    with read_transaction(app.extensions["lrs.engine"]) as conn:
        audit = [e["detail"] for e in accounts.audit_entries(conn)
                 if e["action"] == "statements-browsed"]
    assert audit and json.loads(audit[0]) == {"employee": "E1"} and KARI_MAIL not in audit[0]

    # A refused reminder is logged by its key (ids), and the job goes on; a failing server is named without her.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = RefusingInbox(KARI_MAIL)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        assert scheduler.run(app, "competence.reminders")
    finally:
        controller.stop()
    assert inbox.accepted == []  # Kari's was the only reminder due, and it was refused
    refused = [r for r in captured if r.getMessage() == "e-mail refused"]
    assert refused and "E1" in refused[0].reminder
    assert scheduler.run(app, "competence.reminders", now=now() + timedelta(days=1))  # server gone: the job fails
    with app.extensions["lrs.engine"].connect() as conn:
        errors = conn.execute(select(scheduler.job_runs.c.error).where(
            scheduler.job_runs.c.job_id == "competence.reminders", scheduler.job_runs.c.status == "failed")).scalars()
        errors = list(errors)
    assert errors and "E1" in errors[0] and KARI_MAIL not in errors[0]
    logged = [_record_text(r) for r in captured]
    assert any("portal delivery" in t for t in logged) and any("request" in t for t in logged)
    assert not [t for t in logged if any(w.lower() in t.lower() for w in words)]


def test_every_privacy_text_has_its_english(app):
    from pathlib import Path

    from babel.messages.pofile import read_po
    root = Path(app.root_path)
    with open(root / "web/translations/en/LC_MESSAGES/messages.po", "rb") as f:
        english = {m.id for m in read_po(f) if m.id and m.string}
    texts = set()
    for source in [*(root / "privacy").rglob("*.html"), root / "privacy/views.py", root / "web/templates/plan.html",
                   root / "web/templates/admin.html"]:
        texts |= {m.group(2) for m in re.finditer(r'_l?\(\s*(["\'])((?:(?!\1).)*)\1', source.read_text())}
    assert texts and texts <= english, sorted(texts - english)


def test_access_log_is_one_row_per_request_and_person(app, people, xapi, client_for):
    """A page of statements about many people, fetched by their agent one at a time: one row each."""
    send(xapi, *[passed_hlr(e, days_ago(1)) for e in ("E1", "E2", "E3")])
    reader = client_for("statements/read")
    for e in ("E1", "E2", "E3"):
        agent = {"account": {"homePage": HOME, "name": e}}
        assert reader.get("/xapi/statements", query_string={"agent": agent_json(agent)}).status_code == 200
    assert reader.get("/xapi/statements", query_string={"limit": 2}).status_code == 200
    rows = access_rows(signed_in(app, "admin"), resource="xapi-statements")
    assert sorted(r["employee_id"] for r in rows) == ["", "E1", "E2", "E3"]
    assert all(r["role"] == "scope:statements/read" for r in rows)
