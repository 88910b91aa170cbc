"""Education programmes (lrs.programmes, docs/programmes.md) on both databases: programme files and versions,
enrolment, progress from evidence and confirmed entries, sign-off as xAPI statements, nobody approving their own
work, a voided approval reopening the objective, a transfer keeping the record, behind-plan detection, the
supervisors without supervision competence, the portal outbox, the JSON API and the xAPI export."""
import re
import uuid
from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from lrs import create_app, scheduler
from lrs.competence import imports
from lrs.portal.tables import outbox
from lrs.principal import Principal
from lrs.programmes import EXAMPLES, readers, service
from lrs.programmes.definition import SIM_SESSION, ProgrammeError
from lrs.store.db import read_transaction, write_transaction
from lrs.store.types import utcnow
from tests.competence_support import COMPLETED, days_ago, passed_hlr, process, send, statement
from tests.conftest import XAPIClient, basic, make_credential

ADMIN = Principal("u-admin", None, frozenset({"admin"}))
KARI = Principal("u-kari", "E1", frozenset({"employee"}))  # the supervisor (veileder)
OLA = Principal("u-ola", "E2", frozenset({"employee"}))  # the participant (LIS)
LISE = Principal("u-lise", "L1", frozenset({"employee", "leader"}), frozenset({"med"}))  # the leader
PER = Principal("u-per", "E3", frozenset({"employee"}))  # the supervisor after the transfer
VEILEDNING = """
competences:
  - {code: VEILEDNING, name_nb: Veilederutdanning, name_en: Supervisor training, area: Utdanning,
     validity_months: null, renewal_days: 0}
  - {code: HLR-V, name_nb: HLR voksne, name_en: CPR adults, area: Akuttmedisin, validity_months: 12,
     renewal_days: 60}
rules:
  - id: hlr-v
    competence: HLR-V
    kind: any
    parts: [{verbs: [http://adlnet.gov/expapi/verbs/passed], activities: [https://kurs.helse.example.no/hlr]}]
  - id: veilederkurs
    competence: VEILEDNING
    kind: any
    parts: [{verbs: [http://adlnet.gov/expapi/verbs/completed], activities: [https://kurs.helse.example.no/veileder]}]
"""
SEPSIS = "https://sim.helse.example.no/scenario/sepsis"


@pytest.fixture
def programmes(trust):
    engine, settings = trust.extensions["lrs.engine"], trust.extensions["competence.settings"]
    with write_transaction(engine) as conn:
        imports.import_catalog(conn, settings, "veiledning.yaml", VEILEDNING)
        for path in sorted(EXAMPLES.glob("*.yaml")):
            service.import_programme(conn, path.name, path.read_text())
    return trust


def run(app, func, *args, write=True):
    with (write_transaction if write else read_transaction)(app.extensions["lrs.engine"]) as conn:
        return func(conn, app.extensions["competence.settings"], *args)


def today(app):
    return app.extensions["competence.settings"].day(utcnow())


def enrol_ola(app, months_ago=2):
    return run(app, service.enrol, "LIS-IM", "E2", today(app) - relativedelta(months=months_ago), "E1", "L1")


def progress_of(app, enrolment_id, who=ADMIN):
    p = run(app, readers.participant, who, enrolment_id, today(app), write=False)
    return p, {o["id"]: o for t in p["topics"] for o in t["objectives"]}


def simulation_session(employee_id, when):
    stmt = statement(employee_id, COMPLETED, f"https://sim.helse.example.no/session/{uuid.uuid4()}", when,
                     activity_type=SIM_SESSION)
    stmt["context"] = {"contextActivities": {"parent": [{"id": SEPSIS}]}}
    return stmt


def ready_im001(app, xapi, enrolment_id):
    """Ola's evidence for IM-001: valid CPR, two simulation sessions, two supervision meetings Kari confirms."""
    send(xapi, passed_hlr("E2", days_ago(10)), simulation_session("E2", days_ago(40)),
         simulation_session("E2", days_ago(20)))
    process(app)
    for day in (30, 15):
        entry = run(app, service.log_entry, enrolment_id, OLA, "IM-001", "supervision", "Veiledningssamtale",
                    today(app) - timedelta(days=day))
        run(app, service.decide_entry, entry, KARI, True)


def outbox_rows(app):
    import orjson
    with read_transaction(app.extensions["lrs.engine"]) as conn:
        return [orjson.loads(p) for p in conn.execute(select(outbox.c.payload).order_by(outbox.c.seq)).scalars()]


def test_programme_files_are_checked_and_versioned(programmes):
    engine = programmes.extensions["lrs.engine"]
    with write_transaction(engine) as conn:
        listed = {p["code"]: p for p in service.list_programmes(conn)}
        assert set(listed) == {"LIS-IM", "SPL-INTENSIV", "LAERLING-HELSE"}
        text = (EXAMPLES / "lis-indremedisin.yaml").read_text()
        assert service.import_programme(conn, "lis.yaml", text) == {"code": "LIS-IM", "version": 1,
                                                                    "changed": False}
    enrolment_id = enrol_ola(programmes)
    with write_transaction(engine) as conn:
        changed = text.replace("Utføre pleuratapping", "Utføre pleuratapping selvstendig")
        assert service.import_programme(conn, "lis.yaml", changed)["version"] == 2
        with pytest.raises(ProgrammeError, match="kind procedure needs code"):
            service.import_programme(conn, "bad.yaml", text.replace("code: pleuratapping, ", ""))
        with pytest.raises(ProgrammeError, match="not a valid rule"):
            service.import_programme(conn, "bad.yaml", text.replace("kind: all", "kind: sometimes"))
    p, objectives = progress_of(programmes, enrolment_id)
    assert p["programme"]["version"] == 1  # the enrolment keeps the version it started on
    assert objectives["IM-002"]["name_nb"] == "Utføre pleuratapping"


def test_progress_sign_off_and_nobody_approves_their_own_work(programmes, xapi):
    app = programmes
    enrolment_id = enrol_ola(app)
    p, objectives = progress_of(app, enrolment_id, OLA)
    assert objectives["IM-001"]["state"] == "not_started"
    with pytest.raises(service.Refused, match="er ikke fullført ennå"):
        run(app, service.sign, enrolment_id, "IM-001", "assessed", KARI)

    ready_im001(app, xapi, enrolment_id)
    _, objectives = progress_of(app, enrolment_id, KARI)
    assert [a["met"] for a in objectives["IM-001"]["activities"]] == [True, True, True]
    assert objectives["IM-001"]["state"] == "ready"

    with pytest.raises(service.Refused, match="sine egne læringsmål") as own:
        run(app, service.sign, enrolment_id, "IM-001", "assessed", OLA)
    assert own.value.status == 403
    with pytest.raises(service.Refused, match="ikke tilgang"):  # someone else's trainee
        run(app, service.sign, enrolment_id, "IM-001", "assessed", PER)
    with pytest.raises(service.Refused, match="må vurderes som oppnådd før"):
        run(app, service.sign, enrolment_id, "IM-001", "approved", LISE)
    assessed = run(app, service.sign, enrolment_id, "IM-001", "assessed", KARI, "Kari Nordmann")
    with pytest.raises(service.Refused, match="Bare deltakerens leder eller utdanningsutvalget"):
        run(app, service.sign, enrolment_id, "IM-001", "approved", KARI)
    approved = run(app, service.sign, enrolment_id, "IM-001", "approved", LISE, "Lise Leder")
    _, objectives = progress_of(app, enrolment_id)
    assert objectives["IM-001"]["state"] == "approved"
    assert objectives["IM-001"]["signoffs"]["approved"]["signer_name"] == "Lise Leder"

    # Sign-offs are xAPI statements about the participant, with the signer as instructor.
    r = xapi.get(f"/xapi/statements?statementId={assessed['statement_id']}")
    assert r.status_code == 200
    body = r.get_json()
    assert body["actor"]["account"]["name"] == "E2"
    assert body["verb"]["id"].endswith("/verbs/assessed-achieved")
    assert body["context"]["instructor"]["account"]["name"] == "E1"
    assert body["object"]["id"].endswith("/programmes/LIS-IM/objectives/IM-001")
    assert xapi.get(f"/xapi/statements?statementId={approved['statement_id']}").get_json()["context"][
        "instructor"]["account"]["name"] == "L1"

    # The approval goes to the portal through the outbox.
    pushed = [r for r in outbox_rows(app) if r["competence_code"] == "LIS-IM:IM-001"]
    assert [(r["status"], r["evidence_statement_ids"]) for r in pushed] == [
        ("fulfilled", [approved["statement_id"]])]

    # An admin who assessed may not approve that assessment either (a committee objective).
    send(xapi, statement("E2", COMPLETED, "https://nasjonal.helse.example.no/kurs/kommunikasjon", days_ago(3)))
    run(app, service.sign, enrolment_id, "FKM-010", "assessed", ADMIN)
    with pytest.raises(service.Refused, match="sin egen vurdering"):
        run(app, service.sign, enrolment_id, "FKM-010", "approved", ADMIN)
    with pytest.raises(service.Refused, match="skal ikke signeres"):
        run(app, service.sign, enrolment_id, "FKM-020", "approved", LISE)
    send(xapi, *(statement("E2", COMPLETED, f"https://kurs.helse.example.no/lmh/{i}", days_ago(2)) for i in (1, 2)))
    _, objectives = progress_of(app, enrolment_id)
    assert objectives["FKM-020"]["state"] == "approved"  # automatic: its evidence is enough


def test_a_voided_approval_reopens_the_objective(programmes, xapi):
    app = programmes
    enrolment_id = enrol_ola(app)
    ready_im001(app, xapi, enrolment_id)
    assessed = run(app, service.sign, enrolment_id, "IM-001", "assessed", KARI)
    approved = run(app, service.sign, enrolment_id, "IM-001", "approved", LISE)

    with pytest.raises(service.Refused, match="Bare den som signerte"):  # the supervisor did not sign the approval
        run(app, service.void, approved["id"], KARI)
    assert run(app, service.void, approved["id"], LISE) == [approved["id"]]
    _, objectives = progress_of(app, enrolment_id)
    assert objectives["IM-001"]["state"] == "assessed"  # waits for approval again
    assert xapi.get(f"/xapi/statements?statementId={approved['statement_id']}").status_code == 404
    assert xapi.get(f"/xapi/statements?voidedStatementId={approved['statement_id']}").status_code == 200
    assert [r["status"] for r in outbox_rows(app) if r["competence_code"] == "LIS-IM:IM-001"] == [
        "fulfilled", "missing"]
    with pytest.raises(service.Refused, match="allerede annullert"):
        run(app, service.void, approved["id"], LISE)

    again = run(app, service.sign, enrolment_id, "IM-001", "approved", LISE)
    assert run(app, service.void, assessed["id"], KARI) == [again["id"], assessed["id"]]  # the approval goes too
    _, objectives = progress_of(app, enrolment_id)
    assert objectives["IM-001"]["state"] == "ready"
    record = run(app, readers.record, ADMIN, enrolment_id, today(app), write=False)
    assert [(s["kind"], s["voided"] is not None) for s in record["history"]["signoffs"]] == [
        ("assessed", True), ("approved", True), ("approved", True)]


def test_a_transfer_keeps_the_record(programmes, xapi):
    app = programmes
    enrolment_id = enrol_ola(app)
    ready_im001(app, xapi, enrolment_id)
    run(app, service.sign, enrolment_id, "IM-001", "assessed", KARI)
    with pytest.raises(service.Refused, match="Bare deltakerens leder eller en administrator"):
        run(app, service.transfer, enrolment_id, KARI, "drift", "E3")
    moved = run(app, service.transfer, enrolment_id, LISE, "drift", "E3", None, today(app), "Flytter til drift")
    assert moved["supervisor_id"] == "E3" and moved["unit_id"] == "drift"

    # The new supervisor sees the trainee, with the assessment already made; the old one no longer does.
    with read_transaction(app.extensions["lrs.engine"]) as conn:
        settings = app.extensions["competence.settings"]
        assert readers.trainees(conn, settings, KARI, today(app)) == []
        [trainee] = readers.trainees(conn, settings, PER, today(app))
        assert trainee["employee_id"] == "E2" and [o["id"] for o in trainee["awaiting_approval"]] == ["IM-001"]
    with pytest.raises(service.Refused) as refused:
        progress_of(app, enrolment_id, KARI)
    assert refused.value.status == 403
    _, objectives = progress_of(app, enrolment_id, PER)
    assert objectives["IM-001"]["state"] == "assessed"
    assert [a["done"] for a in objectives["IM-001"]["activities"]][2] == 2  # confirmed meetings still count
    record = run(app, readers.record, PER, enrolment_id, today(app), write=False)
    assert [(t["from_unit"], t["to_unit"], t["to_supervisor"]) for t in record["history"]["transfers"]] == [
        (None, "hjerte", "E1"), ("hjerte", "drift", "E3")]
    # Lise still leads (she is the enrolment's leader) and approves.
    run(app, service.sign, enrolment_id, "IM-001", "approved", LISE)


def test_behind_plan_and_supervisors_without_supervision_competence(programmes, xapi):
    app = programmes
    behind = enrol_ola(app, months_ago=13)  # IM-001 was due after 12 months
    on_time = run(app, service.enrol, "SPL-INTENSIV", "E1", today(app) - timedelta(days=10), "L1", "L1")
    p, _ = progress_of(app, behind)
    assert p["pace"]["behind"] and p["pace"]["overdue"] == ["IM-001"]
    assert not progress_of(app, on_time)[0]["pace"]["behind"]

    with read_transaction(app.extensions["lrs.engine"]) as conn:
        seen = readers.overview(conn, app.extensions["competence.settings"], LISE, today(app))
    assert [(s["employee_id"], s["pace"]["behind"]) for s in seen["participants"]] == [("E2", True), ("E1", False)]
    # Enrolling put the supervision competence into each supervisor's plan; neither holds it yet.
    assert {(s["employee_id"], s["competence"]) for s in seen["supervisors_without_competence"]} == {
        ("E1", "VEILEDNING"), ("L1", "VEILEDNING")}

    send(xapi, statement("E1", COMPLETED, "https://kurs.helse.example.no/veileder", days_ago(5)))
    process(app)
    with read_transaction(app.extensions["lrs.engine"]) as conn:
        seen = readers.overview(conn, app.extensions["competence.settings"], LISE, today(app))
        assert [s["employee_id"] for s in seen["supervisors_without_competence"]] == ["L1"]
        # A leader elsewhere sees nobody.
        assert readers.overview(conn, app.extensions["competence.settings"],
                                Principal("u-x", "E3", frozenset({"leader"}), frozenset({"drift"})),
                                today(app))["participants"] == []


def test_reminders_go_to_participant_and_supervisor_once(programmes, monkeypatch):
    app = programmes
    enrol_ola(app, months_ago=13)
    sent = []
    from lrs.competence.reminders import Mailer
    monkeypatch.setattr(Mailer, "send", lambda self, to, subject, body: sent.append((to, subject)))
    app.config["SMTP_HOST"] = "smtp.example.no"
    assert scheduler.run(app, "programmes.reminders")
    assert sorted(to for to, subject in sent if subject.startswith("Bak planen")) == [
        "kari.nordmann@helse.example.no", "ola.hansen@helse.example.no"]
    from lrs.programmes import jobs
    assert jobs.send_reminders(app) == 0  # never twice


def test_refusals_are_words_not_errors(programmes):
    app = programmes
    with pytest.raises(service.Refused, match="Utdanningsløpet NOPE finnes ikke"):
        run(app, service.enrol, "NOPE", "E2", today(app))
    with pytest.raises(service.Refused, match="sin egen veileder"):
        run(app, service.enrol, "LIS-IM", "E2", today(app), "E2")
    enrolment_id = enrol_ola(app)
    with pytest.raises(service.Refused, match="allerede meldt på") as twice:
        enrol_ola(app)
    assert twice.value.status == 409
    with pytest.raises(service.Refused, match="Prosedyrer teller ikke"):
        run(app, service.log_entry, enrolment_id, OLA, "IM-001", "procedure", "Noe", today(app))
    with pytest.raises(service.Refused, match="fram i tid"):
        run(app, service.log_entry, enrolment_id, OLA, "IM-002", "procedure", "Tapping",
            today(app) + timedelta(days=2))
    with pytest.raises(service.Refused, match="Bare deltakeren selv"):
        run(app, service.log_entry, enrolment_id, KARI, "IM-002", "procedure", "Tapping", today(app))
    entry = run(app, service.log_entry, enrolment_id, OLA, "IM-002", "procedure", "Tapping", today(app))
    with pytest.raises(service.Refused, match="Ingen kan bekrefte sine egne"):
        run(app, service.decide_entry, entry, OLA, True)
    run(app, service.decide_entry, entry, KARI, False)
    with pytest.raises(service.Refused, match="allerede avvist"):
        run(app, service.decide_entry, entry, KARI, True)


def test_every_refusal_has_its_english(app):
    """The refusals are bokmål (the pages say them in the reader's language); each is in the English catalog."""
    from pathlib import Path

    from babel.messages.pofile import read_po
    root = Path(app.root_path)
    with open(root / "web/translations/en/LC_MESSAGES/messages.po", "rb") as f:
        english = {m.id for m in read_po(f) if m.id and m.string}
    texts = {m.group(2) for m in re.finditer(r'_l\(\s*(["\'])((?:(?!\1).)*)\1',
                                             (root / "programmes/service.py").read_text())}
    assert len(texts) > 30 and texts <= english, sorted(texts - english)


def test_api_with_scope_and_openapi_and_an_export_another_lrs_imports(programmes, xapi, client_for, tmp_path,
                                                                       sqlite_template):
    app = programmes
    enrolment_id = enrol_ola(app)
    ready_im001(app, xapi, enrolment_id)
    run(app, service.sign, enrolment_id, "IM-001", "assessed", KARI)
    approved = run(app, service.sign, enrolment_id, "IM-001", "approved", LISE)
    run(app, service.void, approved["id"], LISE)

    reader = client_for("programmes/read")
    assert client_for("statements/read").get("/api/programmes").status_code == 403
    assert XAPIClient(app.test_client(), None).get("/api/programmes").status_code == 401
    listed = reader.get("/api/programmes").get_json()["programmes"]
    assert {p["code"] for p in listed} == {"LIS-IM", "SPL-INTENSIV", "LAERLING-HELSE"}
    assert reader.get("/api/programmes/LIS-IM").get_json()["topics"][0]["objectives"][0]["id"] == "IM-001"
    assert reader.get("/api/programmes/NOPE").status_code == 404
    assert reader.get("/api/programmes/enrolments").get_json()["error"]["message"].startswith("give the employee")
    [mine] = reader.get("/api/programmes/enrolments?employee_id=E2").get_json()["enrolments"]
    assert mine["id"] == enrolment_id and mine["supervisor_id"] == "E1"
    progress = reader.get(f"/api/programmes/enrolments/{enrolment_id}").get_json()
    assert progress["topics"][0]["objectives"][0]["state"] == "assessed"
    missing = reader.get("/api/programmes/enrolments/nope", headers={"Accept-Language": "nb"})
    assert missing.status_code == 404
    assert missing.get_json()["error"]["message"] == "no enrolment nope"  # the API answers in English

    spec = app.test_client().get("/api/programmes/openapi.json").get_json()
    assert "/api/programmes/enrolments/{enrolment_id}" in spec["paths"]
    assert spec["paths"]["/api/programmes"]["get"]["x-scopes"] == ["programmes/read"]

    exported = reader.get(f"/api/programmes/enrolments/{enrolment_id}/statements").get_json()
    verbs_seen = [s["verb"]["id"].rsplit("/", 1)[1] for s in exported]
    assert verbs_seen == ["attended", "attended", "assessed-achieved", "approved", "voided"]
    assert all("authority" not in s for s in exported)

    # Another LRS (a fresh database) takes the export as it is.
    import shutil
    path = tmp_path / "other.db"
    shutil.copy(sqlite_template, path)
    other = create_app({"DATABASE_URL": f"sqlite:///{path}", "TESTING": True, "SECRET_KEY": "x",
                        "CREDENTIAL_CACHE_SECONDS": 0})
    try:
        cred = make_credential(other)
        client = XAPIClient(other.test_client(), basic(cred["key"], cred["secret"]))
        r = client.post("/xapi/statements", json=exported)
        assert r.status_code == 200, r.get_json()
        assert client.get(f"/xapi/statements?voidedStatementId={approved['statement_id']}").status_code == 200
    finally:
        other.extensions["lrs.engine"].dispose()


# ------------------------------------------------------------------------------------------------ pages

@pytest.fixture
def web(programmes):
    from lrs.web import accounts
    from tests.helpers import create_people, password_hash
    create_people(programmes.extensions["lrs.engine"])
    with write_transaction(programmes.extensions["lrs.engine"]) as conn:
        accounts.create(conn, "ola", "Ola Hansen", ["employee"], password_hash(),
                        employee_id="E2")
    return programmes


def signed_in(app, username):
    from tests.helpers import sign_in
    client = app.test_client()
    sign_in(client, username)
    return client


def test_pages_participant_supervisor_leader_record_and_export(web, xapi):
    from tests.helpers import token_of
    app = web
    enrolment_id = enrol_ola(app, months_ago=13)
    page_url = f"/programmer/deltaker/{enrolment_id}"

    ola = signed_in(app, "ola")
    assert ola.get("/programmer").headers["Location"].endswith(page_url)
    page = ola.get(page_url).get_data(as_text=True)
    assert "Min progresjon" in page and "Bak planen" in page and "Over fristen" in page
    assert "Vurder som oppnådd" not in page  # nobody assesses their own objectives
    r = ola.post(f"{page_url}/registrer", data={"csrf_token": token_of(page), "objective": "IM-002",
                                                "kind": "procedure", "title": "Pleuratapping på post 3",
                                                "done_on": today(app).isoformat()})
    assert r.status_code == 302
    page = ola.get(page_url).get_data(as_text=True)
    assert "Registrert. Veilederen din bekrefter den." in page and "Venter på bekreftelse" in page
    assert ola.post(f"{page_url}/registrer", data={"objective": "IM-002"}).status_code == 400  # no CSRF token

    kari = signed_in(app, "kari")
    trainees = kari.get("/programmer/veiledning").get_data(as_text=True)
    assert "Ola Hansen" in trainees and "Pleuratapping på post 3" in trainees
    entry = re.search(r'/programmer/registrering/([0-9a-f-]{36})', trainees).group(1)
    r = kari.post(f"/programmer/registrering/{entry}", data={"csrf_token": token_of(trainees), "decision": "confirm",
                                                             "back": "//evil.example/"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/programmer/veiledning")  # only this site
    assert "Bekreftet." in kari.get("/programmer/veiledning").get_data(as_text=True)

    per = signed_in(app, "per")
    assert per.get(page_url).status_code == 403
    assert per.get(f"{page_url}/utskrift").status_code == 403
    assert per.get("/programmer/oversikt").status_code == 403

    lise = signed_in(app, "lise")
    overview = lise.get("/programmer/oversikt").get_data(as_text=True)
    assert "Ola Hansen" in overview and "Bak planen" in overview
    assert "Veiledere uten veilederkompetanse" in overview and "Kari Nordmann" in overview
    record = lise.get(f"{page_url}/utskrift").get_data(as_text=True)
    assert "Pleuratapping på post 3" in record and "Flyttinger" in record
    export = lise.get(f"{page_url}/xapi.json")
    assert export.headers["Content-Disposition"].startswith("attachment")
    assert [s["verb"]["id"].rsplit("/", 1)[1] for s in export.get_json()] == ["performed"]
    lise.get("/lang/en")
    assert "Education programmes: who is behind plan" in lise.get("/programmer/oversikt").get_data(as_text=True)


def test_a_refused_action_says_why_in_the_readers_language(web):
    """A participant who confirms their own entry (a post their page does not offer) is told why on the page: in
    bokmål, and in English once English is their language."""
    from tests.helpers import token_of
    app = web
    enrolment_id = enrol_ola(app)
    entry = run(app, service.log_entry, enrolment_id, OLA, "IM-002", "procedure", "Pleuratapping", today(app))
    page_url = f"/programmer/deltaker/{enrolment_id}"
    ola = signed_in(app, "ola")
    token = token_of(ola.get(page_url).get_data(as_text=True))

    def confirm_own():
        r = ola.post(f"/programmer/registrering/{entry}", data={"csrf_token": token, "decision": "confirm",
                                                                 "back": page_url})
        assert r.status_code == 302 and r.headers["Location"].endswith(page_url)
        return ola.get(page_url).get_data(as_text=True)

    assert "Det gikk ikke: Ingen kan bekrefte sine egne registreringer" in confirm_own()
    ola.get("/lang/en")
    assert "That did not work: nobody confirms their own entries" in confirm_own()
    assert progress_of(app, enrolment_id)[0]["entries"][0]["state"] == "pending"


def test_pages_sign_off_void_and_transfer(web, xapi):
    from tests.helpers import token_of
    app = web
    enrolment_id = enrol_ola(app)
    ready_im001(app, xapi, enrolment_id)
    page_url = f"/programmer/deltaker/{enrolment_id}"
    kari = signed_in(app, "kari")
    page = kari.get(page_url).get_data(as_text=True)
    assert "Vurder som oppnådd" in page and "Godkjenn" not in page
    r = kari.post(f"{page_url}/signer", data={"csrf_token": token_of(page), "objective": "IM-001",
                                              "kind": "assessed"})
    assert "IM-001 er vurdert som oppnådd." in kari.get(r.headers["Location"]).get_data(as_text=True)
    # Asking again is refused in words, not with an error page.
    r = kari.post(f"{page_url}/signer", data={"csrf_token": token_of(page), "objective": "IM-001",
                                              "kind": "assessed"})
    assert "Det gikk ikke: IM-001 er allerede vurdert som oppnådd" in kari.get(r.headers["Location"]).get_data(
        as_text=True)

    lise = signed_in(app, "lise")
    page = lise.get(page_url).get_data(as_text=True)
    lise.post(f"{page_url}/signer", data={"csrf_token": token_of(page), "objective": "IM-001", "kind": "approved"})
    page = lise.get(page_url).get_data(as_text=True)
    assert "Godkjent: Lise Leder" in page
    _, objectives = progress_of(app, enrolment_id)
    approval = objectives["IM-001"]["signoffs"]["approved"]["id"]
    lise.post(f"/programmer/signatur/{approval}/annuller", data={"csrf_token": token_of(page),
                                                                 "enrolment": enrolment_id})
    assert progress_of(app, enrolment_id)[1]["IM-001"]["state"] == "assessed"
    # The overview names what awaits approval and the supervision competence lacking, not by their codes only.
    for lang, objective, lacking in (("en", "Assess and treat acutely ill patients", "Supervisor training"),
                                     ("nb", "Vurdere og behandle akutt syke pasienter", "Veilederutdanning")):
        lise.get(f"/lang/{lang}")
        overview = lise.get("/programmer/oversikt").get_data(as_text=True)
        assert objective in re.search(r'<th scope="row">.*?Ola Hansen.*?</tr>', overview, re.S).group(0)
        assert lacking in re.search(r'<th scope="row"><a href="/employees/E1">.*?</tr>', overview, re.S).group(0)

    r = lise.post(f"{page_url}/flytt", data={"csrf_token": token_of(page), "unit": "drift", "supervisor": "E3",
                                             "leader": "", "note": "Rotasjon"})
    assert "Flyttet." in lise.get(r.headers["Location"]).get_data(as_text=True)
    assert "Ola Hansen" in signed_in(app, "per").get("/programmer/veiledning").get_data(as_text=True)
    assert kari.get(page_url).status_code == 403


def test_erasing_a_participant_or_a_supervisor_keeps_the_programme_whole(programmes, xapi):
    from lrs import personal
    from lrs.privacy import erase
    app = programmes
    enrolment_id = enrol_ola(app)
    ready_im001(app, xapi, enrolment_id)
    run(app, service.sign, enrolment_id, "IM-001", "assessed", KARI, "Kari Nordmann")
    with write_transaction(app.extensions["lrs.engine"]) as conn:
        supervisor = erase.erase(conn, app.config, "E1", "test", personal.declared(app))
        participant = erase.erase(conn, app.config, "E2", "test", personal.declared(app))
    p, objectives = progress_of(app, enrolment_id)
    assert (p["enrolment"]["employee_id"], p["enrolment"]["supervisor_id"]) == (participant, supervisor)
    assert objectives["IM-001"]["state"] == "assessed"
    record = run(app, readers.record, ADMIN, enrolment_id, today(app), write=False)
    assert "Kari Nordmann" not in str(record) and "E1" not in {t["to_supervisor"] for t in
                                                               record["history"]["transfers"]}


def test_cli_imports_the_examples_and_enrols(trust):
    app = trust
    runner = app.test_cli_runner()
    with write_transaction(app.extensions["lrs.engine"]) as conn:
        imports.import_catalog(conn, app.extensions["competence.settings"], "v.yaml", VEILEDNING)
    r = runner.invoke(args=["programmes", "examples"])
    assert r.exit_code == 0 and "LIS-IM: version 1" in r.output, r.output
    assert "(unchanged)" in runner.invoke(args=["programmes", "examples"]).output
    r = runner.invoke(args=["programmes", "enrol", "LAERLING-HELSE", "E3", "--supervisor", "E1", "--leader", "L1",
                            "--start", "2026-01-05"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["programmes", "enrol", "LAERLING-HELSE", "E3"])
    assert r.exit_code != 0 and "already enrolled" in r.output


def queries_of(app, client, url) -> list[str]:
    """The SQL a page sends, in order."""
    from sqlalchemy import event
    engine, sql = app.extensions["lrs.engine"], []

    def seen(conn, cursor, statement_text, *args):
        sql.append(statement_text)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return sql


def test_overview_and_trainees_read_units_and_names_once_however_many_enrolled(web):
    """The leader's subtree and everyone's names are read once per page, not once per enrolment (the access log
    written after the page reads each participant's unit on its own: not counted here)."""
    app = web
    start = today(app) - relativedelta(months=2)
    run(app, service.enrol, "LIS-IM", "E2", start, "E1")  # no leader: Lise leads it through her unit (med)
    lise, kari = signed_in(app, "lise"), signed_in(app, "kari")

    def counted():
        overview = queries_of(app, lise, "/programmer/oversikt")
        trainees = queries_of(app, kari, "/programmer/veiledning")
        subtrees = sum("units.path LIKE" in q for q in overview)
        names = [sum("SELECT employees.id, employees.name" in q for q in sql) for sql in (overview, trainees)]
        return subtrees, *names
    one = counted()
    run(app, service.enrol, "LAERLING-HELSE", "E2", start, "E1")
    run(app, service.enrol, "SPL-INTENSIV", "E1", start, "E3")
    assert "Kari Nordmann" in lise.get("/programmer/oversikt").get_data(as_text=True)
    assert counted() == one


def import_two_competences(app) -> str:
    """SPL-TO: SPL-INTENSIV counting BRANN too (and HLR-V again, in INT-03). Its text."""
    text = (EXAMPLES / "spesialsykepleier-intensiv.yaml").read_text().replace("code: SPL-INTENSIV", "code: SPL-TO")
    text = text.replace("          - {kind: supervision, count: 1,",
                        "          - {kind: competence, competence: BRANN, name_nb: Brannvern, name_en: Fire safety}\n"
                        "          - {kind: competence, competence: HLR-V, name_nb: Gyldig HLR, name_en: Valid CPR}\n"
                        "          - {kind: supervision, count: 1,")
    with write_transaction(app.extensions["lrs.engine"]) as conn:
        service.import_programme(conn, "to.yaml", text)
    return text


def test_enrolling_adds_every_competence_then_recomputes_the_plan_once(programmes, monkeypatch):
    """A programme counting several competences puts them all into the participant's plan, each due by the first
    objective counting it, and the plan is recomputed once for them (not once per competence)."""
    from lrs.competence import engine as competence_engine
    from lrs.competence.tables import plan_additions
    app = programmes
    text = import_two_competences(app)
    recomputed = []
    real = competence_engine.recompute
    monkeypatch.setattr(competence_engine, "recompute",
                        lambda conn, ids, *a, **k: recomputed.append(sorted(ids)) or real(conn, ids, *a, **k))
    start = today(app) - relativedelta(months=2)
    enrolment_id = run(app, service.enrol, "SPL-TO", "E2", start, "E1")
    assert recomputed.count(["E2"]) == 1
    with read_transaction(app.extensions["lrs.engine"]) as conn:
        dues = dict(conn.execute(select(plan_additions.c.competence_code, plan_additions.c.due_on)
                                 .where(plan_additions.c.employee_id == "E2")).all())
    assert dues == {"HLR-V": start + relativedelta(months=6), "BRANN": start + relativedelta(months=18)}
    _, objectives = progress_of(app, enrolment_id)
    assert [a.get("status") for a in objectives["INT-03"]["activities"]] == ["not_yet_due", "not_yet_due", None]
    with pytest.raises(service.Refused, match="Læringsmål INT-03 krever kompetansen NOPE, som ikke finnes"):
        with write_transaction(app.extensions["lrs.engine"]) as conn:
            service.import_programme(conn, "nope.yaml", text.replace("code: SPL-TO", "code: SPL-NOPE")
                                     .replace("competence: BRANN", "competence: NOPE"))
            service.enrol(conn, app.extensions["competence.settings"], "SPL-NOPE", "E3", start)


def test_progress_reads_the_plan_once_however_many_competences_count(web):
    """The participant's page reads their plan's statuses in one query, for one competence counted or two."""
    app = web
    import_two_competences(app)
    start = today(app) - relativedelta(months=2)
    one = run(app, service.enrol, "SPL-INTENSIV", "E2", start, "E1")
    two = run(app, service.enrol, "SPL-TO", "E2", start, "E1")
    ola = signed_in(app, "ola")
    plans = [sum("FROM plan_items" in q for q in queries_of(app, ola, f"/programmer/deltaker/{e}")) for e in (one, two)]
    assert plans[0] == plans[1]
    page = ola.get(f"/programmer/deltaker/{two}").get_data(as_text=True)
    assert "Brannvern" in page
