"""The web UI's access rules, sign-in and forms, through the Flask test client."""
import io
import re
import time


import pytest
from openpyxl import load_workbook

from lrs.web import accounts
from lrs.store.db import read_transaction
from tests.competence_support import days_ago, passed_hlr, process, send, statement
from tests.helpers import PASSWORD, create_people, sign_in, token_of

pytestmark = pytest.mark.usefixtures("trust")


@pytest.fixture
def people(app):
    create_people(app.extensions["lrs.engine"])
    app.config["RATELIMIT_ENABLED"] = True


def test_signing_in_leads_to_my_plan_with_safe_cookies(app, people):
    client = app.test_client()
    assert client.get("/plan").status_code == 302  # to the sign-in page
    r = sign_in(client, "kari")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/").headers["Location"].endswith("/plan")
    page = client.get("/plan").get_data(as_text=True)
    assert "Min kompetanseplan" in page and "Hjerte-lunge-redning" in page and 'lang="nb"' in page
    client.get("/lang/en")
    assert "My competence plan" in client.get("/plan").get_data(as_text=True)


def test_the_xapi_neither_reads_nor_sets_the_sign_in_cookie(app, people, credential):
    """Course content in a signed-in browser posts statements with the cookie alongside its credential: the xAPI
    answers by the credential alone, and leaves the session as it was."""
    from tests.conftest import basic
    client = app.test_client()
    sign_in(client, "kari")
    r = client.get("/xapi/about", headers={"X-Experience-API-Version": "1.0.3",
                                           "Authorization": basic(credential["key"], credential["secret"])})
    assert r.status_code == 200 and "Set-Cookie" not in r.headers and "Cookie" not in r.headers.get("Vary", "")
    assert client.get("/xapi/statements", headers={"X-Experience-API-Version": "1.0.3"}).status_code == 401
    assert client.get("/plan").status_code == 200  # still signed in


def test_a_browser_asking_for_english_gets_one_language_throughout(app, people):
    """With no language chosen (none in the session), the browser's Accept-Language decides the page's text, its
    <html lang> and the competence names alike."""
    client = app.test_client()
    english = {"Accept-Language": "en-GB,en;q=0.9"}
    page = client.get("/login", headers=english).get_data(as_text=True)
    assert '<html lang="en">' in page and "Password" in page
    sign_in(client, "kari")
    with client.session_transaction() as s:
        s.pop("lang")
    page = client.get("/plan", headers=english).get_data(as_text=True)
    assert '<html lang="en">' in page and "My competence plan" in page
    assert "Cardiopulmonary resuscitation" in page and "Hjerte-lunge-redning" not in page


def test_wrong_password_is_refused_and_logged(app, people):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    r = client.post("/login", data={"username": "kari", "password": "feil passord!", "csrf_token": token_of(page)})
    assert r.status_code == 200 and "Feil brukernavn eller passord." in r.get_data(as_text=True)
    assert client.get("/plan").status_code == 302
    with read_transaction(app.extensions["lrs.engine"]) as conn:
        entries = accounts.audit_entries(conn)
    assert entries[0]["action"] == "sign-in-failed" and entries[0]["detail"] == "kari"


def test_forms_without_csrf_token_fail(app, people):
    client = app.test_client()
    assert client.post("/login", data={"username": "kari", "password": PASSWORD}).status_code == 400
    sign_in(client, "kari")
    assert client.post("/logout").status_code == 400
    r = client.post("/plan/evidence", data={"competence": "HLR", "title": "x", "completed_on": "2026-01-01"})
    assert r.status_code == 400


def test_login_is_rate_limited(app, people):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    codes = [client.post("/login", data={"username": "kari", "password": "wrong password",
                                         "csrf_token": token_of(page)}).status_code for _ in range(12)]
    assert codes[:10] == [200] * 10 and codes[-1] == 429


def test_session_expires_after_idle_hours(app, people):
    client = app.test_client()
    sign_in(client, "kari")
    with client.session_transaction() as session:
        session["seen"] = time.time() - app.config["SESSION_HOURS"] * 3600 - 60
    assert client.get("/plan").status_code == 302


def test_an_employee_sees_only_their_own_plan(app, people):
    client = app.test_client()
    sign_in(client, "kari")
    assert client.get("/employees/E1").status_code == 200
    assert client.get("/employees/E2").status_code == 403
    assert client.get("/leader").status_code == 403
    assert client.get("/admin").status_code == 403
    assert client.get("/statements").status_code == 403


def test_a_leader_sees_their_subtree_only(app, people):
    client = app.test_client()
    sign_in(client, "lise")
    assert client.get("/employees/E2").status_code == 200  # hjerte is under med
    assert client.get("/employees/E3").status_code == 403  # drift is not
    assert client.get("/leader?unit=akutt").status_code == 200
    assert client.get("/leader?unit=drift").status_code == 403
    assert client.get("/leader/export.csv?unit=hf").status_code == 403
    assert client.get("/admin").status_code == 403


def test_register_evidence_then_the_leader_attests_it(app, people):
    employee = app.test_client()
    sign_in(employee, "kari")
    page = employee.get("/plan").get_data(as_text=True)
    r = employee.post("/plan/evidence", data={
        "csrf_token": token_of(page), "competence": "HLR", "title": "HLR-kurs i kommunen",
        "completed_on": (days_ago(3)).date().isoformat(),
        "certificate": (io.BytesIO(b"%PDF-1.4 kursbevis"), "kursbevis.pdf", "application/pdf")},
        content_type="multipart/form-data")
    assert r.status_code == 302
    assert "Venter på attestering" in employee.get("/plan").get_data(as_text=True)

    leader = app.test_client()
    sign_in(leader, "lise")
    page = leader.get("/leader").get_data(as_text=True)
    assert "HLR-kurs i kommunen" in page and "kursbevis.pdf" in page
    evidence_id = re.search(r'/leader/evidence/([0-9a-f-]{36})', page).group(1)
    certificate = leader.get(f"/evidence/{evidence_id}/certificate")
    assert certificate.data == b"%PDF-1.4 kursbevis"
    assert app.test_client().get(f"/evidence/{evidence_id}/certificate").status_code == 302
    r = leader.post(f"/leader/evidence/{evidence_id}", data={"csrf_token": token_of(page), "decision": "attest"})
    assert r.status_code == 302
    plan = employee.get("/plan").get_data(as_text=True)
    hlr_row = re.search(r"<th scope=\"row\">Hjerte-lunge-redning.*?</tr>", plan, re.S).group(0)
    assert "Oppfylt" in hlr_row and "HLR-kurs i kommunen" in hlr_row


def test_matrix_export_csv_and_xlsx(app, people, xapi):
    send(xapi, passed_hlr("E1", days_ago(340)))
    process(app)
    client = app.test_client()
    sign_in(client, "lise")
    page = client.get("/leader?unit=med").get_data(as_text=True)
    assert "Går snart ut" in page and "Kari Nordmann" in page
    csv_text = client.get("/leader/export.csv?unit=med").get_data(as_text=True)
    assert csv_text.startswith("\ufeffAnsattnr.;Navn;Enhet;Kode;Kompetanse;Status;Gyldig til")
    assert any(line.startswith("E1;Kari Nordmann;Akuttmottaket;HLR;Hjerte-lunge-redning;Går snart ut;")
               for line in csv_text.splitlines())
    book = load_workbook(io.BytesIO(client.get("/leader/export.xlsx?unit=med").data))
    rows = list(book.active.values)
    assert rows[0][:6] == ("Ansattnr.", "Navn", "Enhet", "Kode", "Kompetanse", "Status")
    assert {r[0] for r in rows[1:]} == {"E1", "E2", "L1"}


def test_admin_makes_a_credential_and_browses_statements(app, people, xapi):
    send(xapi, passed_hlr("E1", days_ago(3)))
    client = app.test_client()
    sign_in(client, "admin")
    page = client.get("/admin").get_data(as_text=True)
    token = token_of(page)
    made = client.post("/admin/credentials", data={"csrf_token": token, "name": "Moodle", "scopes": ["statements/write"]})
    assert made.status_code == 200 and "Hemmeligheten vises bare nå" in made.get_data(as_text=True)
    found = client.get("/statements?person=E1").get_data(as_text=True)
    assert "https://kurs.helse.example.no/hlr" in found
    assert "Ingen treff." in client.get("/statements?person=E3").get_data(as_text=True)
    statement_id = re.search(r'/statements/([0-9a-f-]{36})', found).group(1)
    assert '"passed"' in client.get(f"/statements/{statement_id}").get_data(as_text=True) or \
        "passed" in client.get(f"/statements/{statement_id}").get_data(as_text=True)
    with read_transaction(app.extensions["lrs.engine"]) as conn:
        actions = [a["action"] for a in accounts.audit_entries(conn)]
    assert "credential-created" in actions and "statements-browsed" in actions


def test_the_statement_browser_makes_no_credential_of_its_own(app, people, xapi):
    """The browser reads the store itself: the admin's credential list stays as it was, however often it is used,
    and a filter the xAPI query would refuse is refused with the same message."""
    send(xapi, passed_hlr("E1", days_ago(3)))
    client = app.test_client()
    sign_in(client, "admin")

    def credentials_listed():
        return client.get("/admin").get_data(as_text=True).count("/admin/credentials/")

    before = credentials_listed()
    assert "https://kurs.helse.example.no/hlr" in client.get("/statements?person=E1").get_data(as_text=True)
    client.get("/statements?verb=http://adlnet.gov/expapi/verbs/passed")
    assert credentials_listed() == before
    bad = client.get("/statements?since=i+går").get_data(as_text=True)
    assert "since: must be an ISO 8601 timestamp" in bad
    assert "activity: must be an IRI" in client.get("/statements?activity=hlr").get_data(as_text=True)


def test_upgrading_removes_the_credentials_the_statement_browser_made(tmp_path):
    """Each worker used to make one; `lrs db upgrade` takes them out of the admin's list, and nothing else."""
    from lrs.store import credentials, migrate
    from lrs.store.db import make_engine
    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    migrate.upgrade(engine, "0013")
    for _worker in range(3):
        credentials.create(engine, "web UI statement browser", ("statements/read",))
    moodle = credentials.create(engine, "Moodle", ("statements/write",))
    migrate.upgrade(engine)
    assert [c["key"] for c in credentials.list_all(engine)] == [moodle["key"]]


def test_the_plan_reads_its_evidence_in_one_query(app, people, xapi):
    """Every statement behind the plan is named on the page, read in one query however many there are."""
    from sqlalchemy import event
    done = "http://adlnet.gov/expapi/verbs/completed"
    send(xapi, passed_hlr("E1", days_ago(3)),
         *[statement("E1", done, f"https://kurs.helse.example.no/lmh/{n}", days_ago(2)) for n in (1, 2, 3)])
    process(app)
    client = app.test_client()
    sign_in(client, "kari")
    engine = app.extensions["lrs.engine"]
    sql = []

    def seen(conn, cursor, statement_text, *args):
        sql.append(statement_text)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        page = client.get("/plan").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    # Each by what it was and when, never by its IRI (these activities have no name: the verb says what).
    lmh = re.search(r"<th scope=\"row\">Legemiddelhåndtering.*?</tr>", page, re.S).group(0)
    assert lmh.count("Kurs fullført, ") == 3 and "Kurs bestått, " in re.search(r"<th scope=\"row\">Hjerte-lunge.*?</tr>", page, re.S)[0]
    assert "https://kurs.helse.example.no/" not in page
    assert len([q for q in sql if "FROM statements" in q]) == 1


def test_every_text_has_its_english(app):
    """Each nb text of the pages is in the English catalog, and the compiled catalog matches it."""
    from pathlib import Path

    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po
    web = Path(app.root_path) / "web"
    with open(web / "translations/en/LC_MESSAGES/messages.po", "rb") as f:
        po = read_po(f)
    with open(web / "translations/en/LC_MESSAGES/messages.mo", "rb") as f:
        mo = read_mo(f)
    def one(value):  # a plural text's id and strings are sequences (singular, plural)
        return tuple(value) if isinstance(value, (list, tuple)) else value
    texts = set()
    for source in [*web.rglob("*.html"), *(web / "pages").glob("*.py")]:
        code = source.read_text()
        texts |= {m.group(2) for m in re.finditer(r'_l?\(\s*(["\'])((?:(?!\1).)*)\1', code)}
        texts |= {(m.group(1), m.group(2)) for m in re.finditer(r'ngettext\(\s*"([^"]*)",\s*"([^"]*)"', code)}
    assert texts <= {one(m.id) for m in po if m.id and m.string and all(one(m.string))}
    assert {one(m.id): one(m.string) for m in po if m.id} == {one(m.id): one(m.string) for m in mo if m.id}




def test_admin_previews_a_rule_change_then_saves_it(app, people, xapi):
    send(xapi, passed_hlr("E1", days_ago(3)) | {"result": {"success": True, "score": {"scaled": 0.85}}})
    process(app)
    client = app.test_client()
    sign_in(client, "admin")
    token = token_of(client.get("/admin").get_data(as_text=True))
    stricter = ("id: hlr-kurs\ncompetence: HLR\nkind: any\nparts:\n  - verbs: [http://adlnet.gov/expapi/verbs/passed]\n"
                "    activities: [https://kurs.helse.example.no/hlr]\n    min_scaled: 0.9\n    success: true\n")
    preview = client.post("/admin/rules", data={"csrf_token": token, "rule": stricter, "action": "preview"})
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "E1" in text and "Oppfylt" in text and "Ikke forfalt ennå" in text
    sign_in(other := app.test_client(), "kari")
    assert "Oppfylt" in re.search(r"<th scope=\"row\">Hjerte-lunge-redning.*?</tr>", other.get("/plan").get_data(as_text=True),
                                  re.S).group(0)  # the preview kept nothing
    saved = client.post("/admin/rules", data={"csrf_token": token, "rule": stricter, "action": "save"})
    assert saved.status_code == 302
    assert "Ikke forfalt ennå" in re.search(r"<th scope=\"row\">Hjerte-lunge-redning.*?</tr>", other.get("/plan").get_data(as_text=True),
                                            re.S).group(0)
    bad = client.post("/admin/rules", data={"csrf_token": token, "rule": "id: x\ncompetence: HLR\nparts: []\n",
                                            "action": "preview"}, follow_redirects=True)
    assert "Regelen er ikke gyldig" in bad.get_data(as_text=True)


def test_admin_imports_a_file_and_changes_roles(app, people):
    client = app.test_client()
    sign_in(client, "admin")
    token = token_of(client.get("/admin").get_data(as_text=True))
    hr = b"employee_id,name,email,unit_id,roles,started_on,left_on\nE7,Nina Ny,,akutt,sykepleier,2026-11-01,\n"
    r = client.post("/admin/import", data={"csrf_token": token, "file": (io.BytesIO(hr), "ansatte.csv")},
                    content_type="multipart/form-data", follow_redirects=True)
    assert "ansatte.csv: created: 1 employees" in r.get_data(as_text=True)
    with read_transaction(app.extensions["lrs.engine"]) as conn:
        per = next(u for u in accounts.all_users(conn) if u["username"] == "per")
    r = client.post(f"/admin/users/{per['id']}/roles", data={"csrf_token": token, "roles": ["employee", "leader"],
                                                           "led_units": "drift"})
    assert r.status_code == 302
    leader = app.test_client()
    sign_in(leader, "per")
    assert leader.get("/leader?unit=drift").status_code == 200
