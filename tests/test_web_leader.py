"""The leader's page as a leader reads it (Flask test client, SQLite and PostgreSQL): people counted, not plan
items; each count a filter; the matrix a page at a time with a competence filter; the forecast of every
competence naming people; the attestation queue counted in the menu, rejecting with a reason the employee then
reads; the exports parsed back as Excel and a CSV reader would read them."""
import csv
import io
import re
from datetime import date, timedelta

import pytest
import time_machine
from openpyxl import load_workbook

from lrs import scheduler
from lrs.competence import imports
from lrs.store.db import write_transaction
from tests.competence_support import COMPLETED, days_ago, now, passed_hlr, process, send, statement
from tests.helpers import create_people, sign_in, token_of

pytestmark = pytest.mark.usefixtures("trust")
LMH = "https://kurs.helse.example.no/lmh/"


@pytest.fixture
def unit(app, xapi):
    """In unit med, 100 days after the plans were made (so the deadlines for new requirements have passed): Kari
    (E1) has HLR about to run out and misses LMH (and the recommended TEAM); Ola (E2) holds both; Lise (L1)
    misses both. So two people miss something (three mandatory requirements), one is compliant."""
    create_people(app.extensions["lrs.engine"])
    with time_machine.travel(now() + timedelta(days=100), tick=True):
        assert scheduler.run(app, "competence.expiry")
        send(xapi, passed_hlr("E1", days_ago(340)), passed_hlr("E2", days_ago(3)),
             *(statement("E2", COMPLETED, f"{LMH}{n}", days_ago(3)) for n in (1, 2, 3)))
        process(app)
        client = app.test_client()
        sign_in(client, "lise")
        yield client


def counts(page: str) -> dict[str, int]:
    """The people counts at the top of the page: label -> number."""
    return {label.strip(): int(n) for n, label in
            re.findall(r'<a class="count[^"]*"[^>]*><strong>(\d+)</strong>([^<]+)</a>', page)}


def matrix_names(page: str) -> list[str]:
    body = page.split('<table class="matrix">')[1].split("</table>")[0] if '<table class="matrix">' in page else ""
    return re.findall(r'<th scope="row"><a href="/employees/[^"]+">([^<]+)</a></th>', body)


def test_counts_are_people_not_plan_items(unit):
    page = unit.get("/leader?unit=med").get_data(as_text=True)
    assert "1 av 3 personer er i orden (33 %)." in page
    assert counts(page) == {"ikke i orden": 2, "mangler noe": 2, "har noe utløpt": 0,
                            "har noe som går ut snart": 1, "i orden": 1, "til attestering": 0}
    # per person the share of mandatory requirements in order; per competence the share holding it
    assert re.search(r"Kari Nordmann</a></th><td class=\"num\">50 %</td>", page)
    assert re.search(r"Ola Hansen</a></th><td class=\"num\">100 %</td>", page)
    assert re.search(r"Lise Leder</a></th><td class=\"num\">0 %</td>", page)
    assert re.search(r'<abbr title="Hjerte-lunge-redning">HLR</abbr><br><span class="muted">67 %</span>', page)


def test_each_count_is_a_filter(unit):
    page = unit.get("/leader?unit=med").get_data(as_text=True)
    links = dict((label.strip(), href.replace("&amp;", "&")) for href, label in
                 re.findall(r'<a class="count[^"]*" href="([^"]+)"[^>]*><strong>\d+</strong>([^<]+)</a>', page))
    missing = unit.get(links["mangler noe"]).get_data(as_text=True)
    assert matrix_names(missing) == ["Kari Nordmann", "Lise Leder"]
    assert 'aria-current="true"><strong>2</strong> mangler noe' in missing
    assert matrix_names(unit.get(links["i orden"]).get_data(as_text=True)) == ["Ola Hansen"]
    assert matrix_names(unit.get(links["har noe som går ut snart"]).get_data(as_text=True)) == ["Kari Nordmann"]
    assert links["til attestering"] == "#attestation"
    # the counts keep counting everyone while a filter picks whom the matrix lists
    assert counts(missing)["i orden"] == 1


def test_competence_and_role_filters(unit):
    page = unit.get("/leader?unit=med&competence=TEAM").get_data(as_text=True)
    assert matrix_names(page) == ["Kari Nordmann"]  # only she needs TEAM (a recommendation in akutt)
    header = page.split('<table class="matrix">')[1].split("</thead>")[0]
    assert ">TEAM</abbr>" in header and ">HLR</abbr>" not in header
    assert matrix_names(unit.get("/leader?unit=med&role=lege").get_data(as_text=True)) == ["Ola Hansen"]


def test_the_page_reads_roles_and_competences_once(app, unit):
    """The filters are checked against the same roles and competences the page then offers: one read of each."""
    from sqlalchemy import event
    engine = app.extensions["lrs.engine"]
    sql = []

    def seen(conn, cursor, statement_text, *args):
        sql.append(" ".join(statement_text.split()))
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert unit.get("/leader?unit=med&role=lege&competence=HLR").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len([q for q in sql if q.endswith("FROM job_roles ORDER BY job_roles.code")]) == 1
    assert len([q for q in sql if q.endswith("FROM competences ORDER BY competences.area, competences.code")]) == 1


def test_bad_filters_are_refused_in_words(unit):
    r = unit.get("/leader?unit=med&status=nonsense")
    assert r.status_code == 400 and "Ukjent statusfilter: nonsense" in r.get_data(as_text=True)
    r = unit.get("/leader?unit=med&competence=NOPE")
    assert r.status_code == 400 and "Ukjent kompetanse: NOPE" in r.get_data(as_text=True)
    assert unit.get("/leader?unit=med&page=abc").status_code == 200  # the first page
    assert unit.get("/leader/export.pdf?unit=med").status_code == 404


def test_a_big_unit_is_paged(app, unit):
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    with write_transaction(engine) as conn:
        imports.import_hr(conn, settings, "employees.csv", "employee_id,name,email,unit_id,roles,started_on,left_on\n"
                          + "".join(f"P{n:03d},Person {n:03d},,akutt,sykepleier,2020-01-01,\n" for n in range(120)))
    page = unit.get("/leader?unit=med").get_data(as_text=True)
    assert "Viser 1–50 av 123 personer." in page and "Side 1 av 3" in page
    assert len(matrix_names(page)) == 50 and 'rel="next"' in page and 'rel="prev"' not in page
    last = unit.get("/leader?unit=med&page=3").get_data(as_text=True)
    assert "Viser 101–123 av 123 personer." in last and len(matrix_names(last)) == 23
    assert 'rel="prev"' in last and 'rel="next"' not in last
    assert "Viser 101–123" in unit.get("/leader?unit=med&page=99").get_data(as_text=True)  # past the end: the last
    assert counts(last)["i orden"] == 121 and counts(last)["mangler noe"] == 2  # the new nurses are not yet due


def test_forecast_covers_every_competence_and_names_people(unit):
    page = unit.get("/leader?unit=med").get_data(as_text=True)
    forecast = page.split('<table class="forecast">')[1].split("</table>")[0]
    for name in ("Hjerte-lunge-redning", "Legemiddelhåndtering", "Teamtrening i simulering"):
        assert name in forecast
    hlr = re.search(r"<summary>Hjerte-lunge-redning</summary>(.*?)</details>", forecast, re.S).group(1)
    assert "Kari Nordmann" in hlr and "E1" not in hlr
    assert forecast.count("<tr>") == 1 + 3 and len(re.findall(r'<th scope="col">', forecast)) == 14


def register(app, title="HLR-kurs i kommunen"):
    employee = app.test_client()
    sign_in(employee, "kari")
    page = employee.get("/plan").get_data(as_text=True)
    r = employee.post("/plan/evidence", data={"csrf_token": token_of(page), "competence": "HLR", "title": title,
                                              "completed_on": days_ago(3).date().isoformat()})
    assert r.status_code == 302
    return employee


def test_rejecting_asks_for_a_reason_the_employee_then_reads(app, unit):
    employee = register(app)
    page = unit.get("/leader?unit=med").get_data(as_text=True)
    menu = page.split('aria-label="Hovedmeny"')[1].split("</nav>")[0]
    assert re.search(r'Enhetsoversikt <span class="badge">1<span class="skip"> til attestering', menu)
    assert counts(page)["til attestering"] == 1 and "Til attestering (1)" in page
    evidence_id = re.search(r'/leader/evidence/([0-9a-f-]{36})', page).group(1)
    assert '<textarea id="reason-' + evidence_id + '" name="reason"' in page

    r = unit.post(f"/leader/evidence/{evidence_id}?unit=med", data={"csrf_token": token_of(page),
                                                                     "decision": "reject", "reason": "  "})
    assert r.status_code == 302
    page = unit.get(r.headers["Location"]).get_data(as_text=True)
    assert "Skriv hvorfor du avviser" in page and "Til attestering (1)" in page

    r = unit.post(f"/leader/evidence/{evidence_id}?unit=med", data={"csrf_token": token_of(page),
                                                                     "decision": "reject", "reason": "x" * 1001})
    page = unit.get(r.headers["Location"]).get_data(as_text=True)
    assert "Begrunnelsen kan være på høyst 1000 tegn." in page and "Til attestering (1)" in page

    r = unit.post(f"/leader/evidence/{evidence_id}?unit=med", data={
        "csrf_token": token_of(page), "decision": "reject",
        "reason": "Kursbeviset mangler. Last opp beviset og registrer på nytt."})
    page = unit.get(r.headers["Location"]).get_data(as_text=True)
    assert "Avvist. Den ansatte ser begrunnelsen i planen sin." in page
    assert 'class="badge"' not in page and "Ingenting venter på attestering." in page
    plan = employee.get("/plan").get_data(as_text=True)
    assert "Avvist" in plan and "Kursbeviset mangler. Last opp beviset og registrer på nytt." in plan
    # decided once: a second decision is refused in words
    r = unit.post(f"/leader/evidence/{evidence_id}?unit=med", data={"csrf_token": token_of(page),
                                                                     "decision": "attest"})
    assert "Denne er allerede avgjort." in unit.get(r.headers["Location"]).get_data(as_text=True)


def test_the_api_refuses_a_rejection_without_reason(app, unit):
    from lrs.competence.tables import manual_evidence
    employee = register(app)
    with app.extensions["lrs.engine"].connect() as conn:
        evidence_id = conn.execute(manual_evidence.select()).first().id
    page = unit.get("/leader?unit=med").get_data(as_text=True)
    headers = {"X-CSRFToken": re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)}
    r = unit.post(f"/api/competence/evidence/{evidence_id}/decision", json={"attest": False}, headers=headers)
    assert r.status_code == 400 and "reason" in r.get_json()["error"]["message"]
    r = unit.post(f"/api/competence/evidence/{evidence_id}/decision", json={"attest": False, "reason": "Uleselig"},
                  headers=headers)
    assert r.status_code == 200 and r.get_json()["state"] == "rejected"
    assert employee.get("/api/competence/me/plan").get_json()["manual_evidence"][0]["reason"] == "Uleselig"


def test_csv_export_opens_in_norwegian_excel(unit):
    r = unit.get("/leader/export.csv?unit=med")
    assert r.headers["Content-Disposition"] == 'attachment; filename="kompetanse-med.csv"'
    raw = r.get_data(as_text=True)
    assert raw.startswith("\ufeff") and "\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["Ansattnr.", "Navn", "Enhet", "Kode", "Kompetanse", "Status", "Gyldig til", "Frist",
                       "Obligatorisk"]
    kari = {r[3]: r for r in rows[1:] if r[0] == "E1"}
    assert kari["HLR"][2] == "Akuttmottaket" and kari["HLR"][4] == "Hjerte-lunge-redning"
    assert kari["HLR"][5] == "Går snart ut" and date.fromisoformat(kari["HLR"][6]) > days_ago(0).date()
    assert kari["LMH"][5] == "Mangler" and kari["LMH"][6] == "" and kari["TEAM"][8] == "Nei"
    # the page's filters apply
    rows = list(csv.reader(io.StringIO(unit.get("/leader/export.csv?unit=med&status=compliant")
                                       .get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert {r[1] for r in rows[1:]} == {"Ola Hansen"}


def test_xlsx_export_has_frozen_header_filter_dates_and_colours(unit):
    r = unit.get("/leader/export.xlsx?unit=med")
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(r.data)).active
    assert sheet.title == "Medisinsk klinikk"
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == sheet.dimensions
    assert sheet["A1"].font.bold
    rows = {(row[0].value, row[3].value): row for row in sheet.iter_rows(min_row=2)}
    assert len(rows) == 7  # Kari 3, Ola 2, Lise 2
    hlr = rows[("E1", "HLR")]
    assert hlr[2].value == "Akuttmottaket" and hlr[5].value == "Går snart ut"
    assert isinstance(hlr[6].value, date) and hlr[6].number_format == "DD.MM.YYYY"
    assert hlr[5].fill.fgColor.rgb.endswith("FFF1D6")
    assert rows[("L1", "LMH")][5].fill.fgColor.rgb.endswith("FDE5E6")
    assert rows[("E2", "LMH")][5].fill.fgColor.rgb.endswith("E3F4E8")


def test_exports_show_a_formula_typed_as_a_name_as_text():
    from lrs.web.exports import Column, download
    columns, rows = [Column("Navn"), Column("Antall")], [["=HYPERLINK(\"http://x\")", 3], ["Ola", 2]]
    raw = download("csv", "t", "T", columns, rows).get_data(as_text=True).lstrip("\ufeff")
    assert list(csv.reader(io.StringIO(raw), delimiter=";"))[1:] == [["'=HYPERLINK(\"http://x\")", "3"], ["Ola", "2"]]
    sheet = load_workbook(io.BytesIO(download("xlsx", "t", "T", columns, rows).data)).active
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == "=HYPERLINK(\"http://x\")"


def test_an_employee_has_no_leader_page_and_no_count(app, unit):
    client = app.test_client()
    sign_in(client, "kari")
    assert client.get("/leader").status_code == 403
    assert client.get("/leader/export.csv?unit=med").status_code == 403
    assert 'class="badge"' not in client.get("/plan").get_data(as_text=True)


def test_an_admin_has_every_unit_s_queue_counted_in_the_menu(app, unit):
    register(app)
    admin = app.test_client()
    sign_in(admin, "admin")
    page = admin.get("/admin").get_data(as_text=True)
    assert re.search(r'Enhetsoversikt <span class="badge">1<span class="skip"> til attestering', page)
    per = app.test_client()
    sign_in(per, "per")  # an employee in drift: no leader's menu, no count
    assert "Enhetsoversikt" not in per.get("/plan").get_data(as_text=True)
