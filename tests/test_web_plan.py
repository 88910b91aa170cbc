"""The employee's plan answers "what must I do, and by when?" (a summary in words, the next action, rows by
urgency, evidence by name); forms show their errors in words next to their fields and keep what was typed; errors
are pages for people and JSON for the APIs; the privacy page says who saw what, in plain words. Through the Flask
test client."""
import re
from datetime import date, timedelta

import pytest

from lrs.competence import service
from lrs.store.db import write_transaction
from tests.competence_support import days_ago, passed_hlr, process, send, statement
from tests.helpers import create_people, sign_in, token_of

pytestmark = pytest.mark.usefixtures("trust")
TODAY = date(2027, 1, 1)


def item(code, status, mandatory=True, due_on=None, valid_until=None):
    return {"competence": {"code": code, "name_nb": code.title(), "name_en": code, "area": "A"},
            "status": status, "mandatory": mandatory, "due_on": due_on, "valid_until": valid_until}


def test_items_by_urgency_and_the_summary_in_numbers():
    items = [item("ok", "fulfilled", valid_until=TODAY + timedelta(days=300)),
             item("soon", "expiring", valid_until=TODAY + timedelta(days=23)),
             item("later", "expiring", valid_until=TODAY + timedelta(days=40)),
             item("gone", "expired", valid_until=TODAY - timedelta(days=3)),
             item("none", "missing", due_on=TODAY - timedelta(days=10)),
             item("tip", "missing", mandatory=False),
             item("new", "not_yet_due", due_on=TODAY + timedelta(days=14)),
             item("wait", "awaiting_attestation"),
             item("old", "not_required")]
    order = [i["competence"]["code"] for i in service.by_urgency(items)]
    assert order == ["none", "gone", "tip", "soon", "later", "new", "wait", "ok", "old"]
    s = service.summary(items, TODAY)
    assert (s["missing"], s["expired"], s["expiring"], s["expiring_days"]) == (2, 1, 2, 23)
    assert (s["not_yet_due"], s["awaiting"], s["fulfilled"]) == (1, 1, 1)
    # The next deadline from today on; the fulfilled item's 300 days are no deadline.
    assert s["next_deadline"] == TODAY + timedelta(days=14)
    assert s["next"]["competence"]["code"] == "none"
    assert service.deadline(items[0]) is None and service.deadline(items[1]) == TODAY + timedelta(days=23)
    done = service.summary([items[0], items[-1]], TODAY)
    assert done["next"] is None and done["missing"] == 0 and done["next_deadline"] is None
    # Training registered for what runs out soon waits for its attestation: nothing to do there now.
    registered = service.summary(items, TODAY, pending={"soon"})
    assert (registered["expiring"], registered["expiring_days"], registered["awaiting"]) == (1, 40, 2)


@pytest.fixture
def people(app):
    create_people(app.extensions["lrs.engine"])


def _row(page, name):
    """The plan table's row of a competence."""
    table = page[page.index('class="plan-table'):]
    return re.search(re.escape(name) + r".*?</tr>", table, re.S).group(0)


def test_the_plan_says_what_to_do_first_and_names_its_evidence(app, people, xapi):
    sim = "https://kompetanse.helse.example.no/xapi/activities/simulation-session"
    send(xapi, passed_hlr("E1", days_ago(340)),  # runs out in about 25 days
         statement("E1", "http://adlnet.gov/expapi/verbs/attended", "https://sim.example.no/sessions/1",
                   days_ago(20), activity_type=sim))
    process(app)
    client = app.test_client()
    sign_in(client, "kari")
    page = client.get("/plan").get_data(as_text=True)
    summary = re.search(r'<p class="summary-text"[^>]*>(.*?)</p>', page, re.S).group(1)
    assert re.fullmatch(r"1 går ut om \d+ dager, 1 med frist senere – neste frist \d+\. \w+( \d{4})?", summary.strip()), \
        summary
    # The next action, right under the summary: HLR runs out first; it has no module here, so: register it.
    action = page[page.index('class="next-action"'):page.index('id="requirements"')]
    assert "Hjerte-lunge-redning" in action and "går ut" in action
    assert "/plan?competence=HLR#register" in action
    # Rows by urgency: expiring, then what is due later, the recommended one last.
    rows = re.findall(r'<tr class="plan-row plan-(\w+)">', page)
    assert rows == ["expiring", "not_yet_due", "not_yet_due"]
    assert page.index("Legemiddelhåndtering") < page.index("Teamtrening i simulering")
    hlr = _row(page, "Hjerte-lunge-redning")
    assert "Går ut " in hlr and re.search(r"Kurs bestått, \d+\. \w+", hlr)
    assert "https://" not in hlr
    # The registration form preselects the competence the next action chose.
    chosen = client.get("/plan?competence=HLR").get_data(as_text=True)
    assert re.search(r'<option selected value="HLR">|<option value="HLR" selected>', chosen)


def test_a_fulfilled_row_shows_no_deadline_and_attested_evidence_is_named(app, people, xapi):
    send(xapi, *[statement("E1", "http://adlnet.gov/expapi/verbs/completed", f"https://kurs.helse.example.no/lmh/{n}",
                           days_ago(2)) for n in (1, 2, 3)])
    process(app)
    employee = app.test_client()
    sign_in(employee, "kari")
    page = employee.get("/plan").get_data(as_text=True)
    lmh = _row(page, "Legemiddelhåndtering")
    assert "Oppfylt" in lmh and "Utløper ikke" in lmh and "Frist" not in lmh
    assert rows_in(page)[-1] == "fulfilled"  # what is done comes last

    r = employee.post("/plan/evidence", data={"csrf_token": token_of(page), "competence": "HLR",
                                              "title": "HLR-kurs, Røde Kors",
                                              "completed_on": days_ago(5).date().isoformat()})
    assert r.status_code == 302
    leader = app.test_client()
    sign_in(leader, "lise")
    queue = leader.get("/leader").get_data(as_text=True)
    evidence_id = re.search(r'/leader/evidence/([0-9a-f-]{36})', queue).group(1)
    leader.post(f"/leader/evidence/{evidence_id}", data={"csrf_token": token_of(queue), "decision": "attest"})
    hlr = _row(employee.get("/plan").get_data(as_text=True), "Hjerte-lunge-redning")
    assert re.search(r"Attestert: HLR-kurs, Røde Kors, \d+\. \w+", hlr) and "Frist" not in hlr
    assert evidence_id not in hlr


def rows_in(page):
    return re.findall(r'<tr class="plan-row plan-(\w+)">', page)


def test_a_form_with_errors_comes_back_with_them_next_to_the_fields_and_what_was_typed(app, people):
    client = app.test_client()
    sign_in(client, "kari")
    page = client.get("/plan").get_data(as_text=True)
    future = (date.today() + timedelta(days=30)).isoformat()
    r = client.post("/plan/evidence", data={"csrf_token": token_of(page), "competence": "HLR",
                                            "title": "Kurs hos Røde Kors", "completed_on": future})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    summary = re.search(r'<div class="error-summary" role="alert".*?</div>', html, re.S).group(0)
    assert 'href="#completed_on"' in summary and "Datoen kan ikke være fram i tid." in summary
    assert 'id="completed_on-error"' in html and 'aria-describedby="completed_on-error"' in html
    assert 'value="Kurs hos Røde Kors"' in html and f'value="{future}"' in html  # kept
    # An empty title: said in words, in Norwegian, no field ids or English.
    r = client.post("/plan/evidence", data={"csrf_token": token_of(page), "competence": "HLR", "title": "",
                                            "completed_on": "2026-01-05"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "Skriv hva du gjennomførte, for eksempel navnet på kurset." in html
    assert "This field is required" not in html and "title:" not in html and 'value="2026-01-05"' in html
    client.get("/lang/en")
    r = client.post("/plan/evidence", data={"csrf_token": token_of(page), "competence": "HLR", "title": "",
                                            "completed_on": "2026-01-05"})
    assert "Enter what you completed" in r.get_data(as_text=True)


@pytest.mark.parametrize("path, code, title", [
    ("/finnes-ikke", 404, "Fant ikke siden"), ("/admin", 403, "Du har ikke tilgang til denne siden"),
    ("/privacy/employees/E1/export.pdf", 404, "Fant ikke siden")])
def test_errors_are_pages_with_a_way_back(app, people, path, code, title):
    client = app.test_client()
    sign_in(client, "kari")
    r = client.get(path, headers={"Referer": "http://localhost/plan"})
    html = r.get_data(as_text=True)
    assert r.status_code == code and r.mimetype == "text/html"
    assert f"<h1>{title}</h1>" in html and 'href="/"' in html and 'href="http://localhost/plan"' in html
    assert "Hovedmeny" in html  # the site's own page, with its menu


def test_a_bad_request_and_a_stale_form_are_pages_in_words(app, people):
    client = app.test_client()
    sign_in(client, "kari")
    r = client.post("/logout")  # no CSRF token
    assert r.status_code == 400 and "Last siden på nytt" in r.get_data(as_text=True)
    assert "CSRF" not in r.get_data(as_text=True)
    r = client.get("/admin/privacy?since=i-går")
    assert r.status_code == 403
    admin = app.test_client()
    sign_in(admin, "admin")
    r = admin.get("/admin/privacy?since=i-går")
    assert r.status_code == 400 and "Ugyldig dato i since" in r.get_data(as_text=True)
    client.get("/lang/en")
    assert "<h1>Page not found</h1>" in client.get("/nowhere").get_data(as_text=True)


def test_the_apis_keep_answering_json(app, people, xapi):
    for path in ("/xapi/nowhere", "/api/competence/nowhere", "/api/nowhere"):
        r = app.test_client().get(path)
        assert r.status_code == 404 and r.mimetype == "application/json", path
        assert r.get_json()["error"]["code"] == 404
    r = app.test_client().get("/xapi/statements")
    assert r.status_code in (400, 401) and r.mimetype == "application/json"


def test_a_server_error_is_a_page_with_a_way_back(app, people):
    from lrs.web.pages.base import bp

    @app.get("/broken")
    def broken():
        raise RuntimeError("a bug")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    sign_in(client, "kari")
    r = client.get("/broken")
    assert r.status_code == 500 and "Noe gikk galt hos oss" in r.get_data(as_text=True)
    assert "a bug" not in r.get_data(as_text=True) and bp.name == "web"


def test_the_privacy_page_is_in_the_menu(app, people):
    client = app.test_client()
    sign_in(client, "kari")
    assert '<a href="/privacy">Personvern</a>' in client.get("/plan").get_data(as_text=True)


def test_a_database_outage_is_a_page_for_people_and_json_for_the_apis(app, people):
    import sqlalchemy.exc
    from flask import abort

    def gone():
        raise sqlalchemy.exc.TimeoutError("no free connection")
    app.add_url_rule("/sim-outage", "outage_page", gone)
    app.add_url_rule("/api/outage", "outage_api", gone)
    app.add_url_rule("/api/teapot", "teapot", lambda: abort(418))
    client = app.test_client()
    page = client.get("/sim-outage")
    assert page.status_code == 503 and page.mimetype == "text/html" and page.headers["Retry-After"]
    assert "Tjenesten er midlertidig utilgjengelig" in page.get_data(as_text=True)
    api = client.get("/api/outage")
    assert api.status_code == 503 and api.get_json()["error"]["code"] == 503 and api.headers["Retry-After"]
    assert client.get("/api/teapot").get_json()["error"]["code"] == 418


def test_a_module_begun_is_continued_from_its_row(app, people):
    from lrs.cmi5 import lms
    from tests.cmi5_support import COURSE_ID, course_xml, zip_package
    lms.import_package(app.extensions["lrs.engine"], zip_package(course_xml(competences=("HLR",))), "test",
                       "http://localhost/")
    client = app.test_client()
    sign_in(client, "kari")
    page = client.get("/plan").get_data(as_text=True)
    hlr = _row(page, "Hjerte-lunge-redning")
    # The button is in the status cell, beside the status.
    cell = re.search(r'<td class="status-cell">.*?</td>', hlr, re.S).group(0)
    assert "Start kurset" in cell and "Testkurs" in cell and "Fortsett" not in cell
    r = client.post("/plan/launch", data={"csrf_token": token_of(page), "course": COURSE_ID})
    assert r.status_code == 302
    hlr = _row(client.get("/plan").get_data(as_text=True), "Hjerte-lunge-redning")
    assert "Fortsett kurset" in hlr and "Start kurset" not in hlr


def test_the_way_back_never_leads_to_the_refused_page_itself(app, people):
    client = app.test_client()
    sign_in(client, "kari")
    html = client.get("/admin", headers={"Referer": "http://localhost/admin"}).get_data(as_text=True)
    assert "Tilbake til forrige side" not in html and 'href="/"' in html


def test_the_language_link_of_an_error_page_leads_home(app, people):
    client = app.test_client()
    sign_in(client, "kari")
    html = client.get("/admin").get_data(as_text=True)
    assert 'href="/lang/en?next=/"' in html
    assert client.get("/lang/en?next=/", follow_redirects=True).status_code == 200


@pytest.mark.parametrize("roles, start", [(["instructor"], "/sim/"), (["author"], "/author"),
                                          (["admin", "author"], "/admin")])
def test_an_account_without_an_employee_number_starts_on_its_own_page(app, people, roles, start):
    from lrs.web import accounts
    from tests.helpers import password_hash
    with write_transaction(app.extensions["lrs.engine"]) as conn:
        accounts.create(conn, "uten", "Uten Ansattnr", roles, password_hash())
    client = app.test_client()
    sign_in(client, "uten")
    assert client.get("/").headers["Location"].endswith(start)
    assert client.get(start).status_code == 200
