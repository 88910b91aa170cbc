"""Education programmes in a real browser against a real server (the harness of tests/browser_support.py): the
participant (a LIS doctor) logs supervision meetings, the supervisor (veileder) confirms them and assesses the
objective, the leader sees who is behind and which supervisor lacks supervision competence, approves, prints the
record and downloads the xAPI export. axe-core finds no serious violations; each page is shot at 1366x768 and on
a 390x844 phone, where nothing but a table's own box is wider than the screen."""
import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta

from lrs import create_app
from lrs.competence import imports
from lrs.programmes import EXAMPLES, service
from lrs.programmes.definition import SIM_SESSION
from lrs.store.db import write_transaction
from lrs.web import accounts
from tests.browser_support import (ACCOUNTS, Site, at_width, axe_check, broken_words, build_site, in_first_screen, shoot,
                                   sign_in)
from tests.competence_support import COMPLETED, passed_hlr, statement
from tests.conftest import fresh_database
from tests.helpers import password_hash
from tests.test_programmes import VEILEDNING

pytestmark = pytest.mark.xdist_group("server")


def ago(days):
    return datetime.now(timezone.utc) - timedelta(days=days)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The harness's site, and: the example programmes, Ola (E2, account ola) in LIS-IM for 13 months with Kari
    (E1) as supervisor and Lise (L1) as leader, and Ola's CPR and two simulation sessions as xAPI statements."""
    with fresh_database("sqlite", tmp_path_factory.mktemp("programmes"), "programmes") as url:
        server = build_site(url)
        try:
            app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests"})
            engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
            with write_transaction(engine) as conn:
                imports.import_catalog(conn, settings, "veiledning.yaml", VEILEDNING)
                for path in sorted(EXAMPLES.glob("*.yaml")):
                    service.import_programme(conn, path.name, path.read_text())
                start = settings.day(datetime.now(timezone.utc)) - relativedelta(months=13)
                service.enrol(conn, settings, "LIS-IM", "E2", start, "E1", "L1")
            with write_transaction(engine) as conn:
                accounts.create(conn, "ola", "Ola Hansen", ["employee"], password_hash(), employee_id="E2")
            engine.dispose()
            import requests
            key, secret = server.credential("all")
            sessions = []
            for days in (40, 20):
                s = statement("E2", COMPLETED, f"https://sim.helse.example.no/session/{uuid.uuid4()}", ago(days),
                              activity_type=SIM_SESSION)
                s["context"] = {"contextActivities": {"parent": [
                    {"id": "https://sim.helse.example.no/scenario/sepsis"}]}}
                sessions.append(s)
            r = requests.post(server.url + "/xapi/statements", json=[passed_hlr("E2", ago(10)), *sessions],
                              auth=(key, secret), headers={"X-Experience-API-Version": "1.0.3"}, timeout=10)
            assert r.status_code == 200, r.text
            yield Site(server.url, server, dict(ACCOUNTS))
        finally:
            server.stop()


def look(page, name):
    """axe-core, then the page at 1366x768 (first screen) and on a phone (whole page), which must not be wider than
    the phone's screen (wide tables scroll in their own box) and must break no word in two."""
    axe_check(page)
    page.reload()  # axe leaves its script behind
    at_width(page, "desktop")
    shoot(page, name, full_page=False)
    at_width(page, "phone")
    shoot(page, f"{name}-mobil")
    assert page.evaluate("document.body.scrollWidth") <= 391, name
    assert broken_words(page) == [], name
    at_width(page, "desktop")


def participant_sees_progression_and_logs_supervision_meetings(page):
    sign_in(page, "ola")
    page.get_by_role("link", name="Utdanningsløp").click()
    page.wait_for_url("**/programmer/deltaker/*")
    assert page.get_by_role("heading", name="Min progresjon: LIS indremedisin (utdrag)").is_visible()
    assert "Bak planen" in page.locator(".cards").inner_text()
    assert in_first_screen(page, page.get_by_text("Bak planen"))  # the first screen answers "am I on track?"
    at_width(page, "phone")
    assert in_first_screen(page, page.get_by_text("Bak planen"))
    at_width(page, "desktop")
    row = page.get_by_role("row").filter(has_text="IM-001").first
    assert "Over fristen" in row.inner_text()
    # The engine reads the CPR statement within seconds; then the competence counts.
    for _ in range(30):
        if "Gyldig HLR: 1/1" in page.get_by_role("row").filter(has_text="IM-001").first.inner_text():
            break
        page.wait_for_timeout(1000)
        page.reload()
    row = page.get_by_role("row").filter(has_text="IM-001").first
    assert "Gyldig HLR: 1/1" in row.inner_text() and "To teamtreninger i simulering: 2/2" in row.inner_text()
    look(page, "programmer-deltaker")

    for days, title in ((30, "Veiledning: mål for året"), (12, "Veiledning: akuttvakter")):
        page.get_by_label("Læringsmål").select_option("IM-001")
        page.get_by_label("Hva slags").select_option("supervision")
        page.get_by_label("Hva gjorde du?").fill(title)
        page.get_by_label("Dato", exact=True).fill(ago(days).date().isoformat())
        page.get_by_role("button", name="Registrer", exact=True).click()
        page.get_by_role("status").filter(has_text="Registrert").wait_for()
    # A refusal says why, in the page's language (the service's reasons are bokmål, their English in the catalogue).
    page.get_by_label("Læringsmål").select_option("IM-001")
    page.get_by_label("Hva slags").select_option("procedure")
    page.get_by_label("Hva gjorde du?").fill("Pleuratapping")
    page.get_by_label("Dato", exact=True).fill(ago(1).date().isoformat())
    page.get_by_role("button", name="Registrer", exact=True).click()
    refusal = page.get_by_text("Prosedyrer teller ikke for læringsmål IM-001")
    refusal.wait_for()
    page.wait_for_load_state()
    assert page.evaluate("window.scrollY") == 0  # the page lands where its message is, not at the form below it
    assert in_first_screen(page, refusal)
    shoot(page, "programmer-avvist", full_page=False)
    at_width(page, "phone")
    shoot(page, "programmer-avvist-mobil", full_page=False)
    at_width(page, "desktop")
    entries = page.get_by_role("region", name="Registreringer").inner_text()
    assert entries.count("Venter på bekreftelse") == 2
    assert page.get_by_role("button", name="Vurder som oppnådd").count() == 0


def supervisor_confirms_entries_and_assesses(page):
    sign_in(page, "kari")
    page.goto("/programmer/veiledning")
    assert page.get_by_role("heading", name="Mine kandidater i veiledning").is_visible()
    assert "Ola Hansen" in page.locator("main").inner_text()
    assert in_first_screen(page, page.get_by_text("Venter på deg: 2 registreringer å bekrefte og 0 læringsmål"))
    look(page, "programmer-veiledning")
    for title in ("Veiledning: mål for året", "Veiledning: akuttvakter"):
        page.get_by_role("button", name=f"Bekreft Ola Hansen {title}").click()
        page.get_by_role("status").filter(has_text="Bekreftet").wait_for()
    assert "Venter på din vurdering" in page.locator("main").inner_text()
    page.get_by_role("link", name="IM-001 Vurdere og behandle akutt syke pasienter").click()
    page.get_by_role("button", name="Vurder som oppnådd IM-001").click()
    page.get_by_role("status").filter(has_text="IM-001 er vurdert som oppnådd").wait_for()
    row = page.get_by_role("row").filter(has_text="IM-001").first
    assert "Vurdert som oppnådd: Kari Nordmann" in row.inner_text()
    assert page.get_by_role("button", name="Godkjenn IM-001").count() == 0  # the leader approves
    look(page, "programmer-vurdert")


def leader_sees_who_is_behind_approves_and_prints_the_record(page):
    sign_in(page, "lise")
    page.goto("/programmer/oversikt")
    assert page.get_by_role("heading", name="Utdanningsløp: hvem ligger bak planen").is_visible()
    ola = page.get_by_role("row").filter(has_text="Ola Hansen").first
    assert "Bak planen" in ola.inner_text() and "IM-001" in ola.inner_text()  # awaiting approval
    # Enrolling put the supervision competence into Kari's plan; she does not hold it yet.
    assert "Kari Nordmann" in page.get_by_role("row").filter(has_text="VEILEDNING").first.inner_text()
    look(page, "programmer-oversikt")

    page.get_by_role("link", name="Ola Hansen").click()
    page.get_by_role("button", name="Godkjenn IM-001").click()
    page.get_by_role("status").filter(has_text="IM-001 er godkjent").wait_for()
    row = page.get_by_role("row").filter(has_text="IM-001").first
    assert "Godkjent: Lise Leder" in row.inner_text()
    assert "1 / 4" in page.locator(".cards").inner_text()
    look(page, "programmer-godkjent")

    page.get_by_role("link", name="Utskrift av utdanningsløpet").click()
    page.get_by_role("heading", name="LIS indremedisin (utdrag): Ola Hansen").wait_for()  # the click only starts it
    assert "Veiledning: akuttvakter" in page.locator("main").inner_text()
    look(page, "programmer-utskrift")
    page.emulate_media(media="print")
    assert not page.locator("header.site").is_visible()
    page.emulate_media(media="screen")
    with page.expect_download() as download:
        page.get_by_role("link", name="Eksport som xAPI-hendelser").click()
    assert download.value.suggested_filename == "utdanningslop-E2-LIS-IM.json"
    exported = json.loads(Path(download.value.path()).read_text())
    assert [s["verb"]["id"].rsplit("/", 1)[1] for s in exported] == ["attended", "attended", "assessed-achieved",
                                                                     "approved"]


def test_participant_then_supervisor_then_leader(new_page):
    """One test, as each step builds on the one before: the runner may split a module's tests across other
    modules' (xdist), and the site would be made anew between them."""
    participant_sees_progression_and_logs_supervision_meetings(new_page())
    supervisor_confirms_entries_and_assesses(new_page())
    leader_sees_who_is_behind_approves_and_prints_the_record(new_page())
