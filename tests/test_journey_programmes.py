"""Education programmes in a real browser against a real server: the participant (a LIS doctor) logs supervision
meetings, the supervisor (veileder) confirms them and assesses the objective, the leader sees who is behind and
which supervisor lacks supervision competence, approves, prints the record and downloads the xAPI export.
axe-core finds no serious violations; each page is shot at 1366x768 and on a 390x844 phone (LRS_SCREENSHOTS, else
a scratch folder)."""
import os
import shutil
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
from tests.competence_support import COMPLETED, DATA, passed_hlr, statement
from tests.conftest import fresh_database
from tests.helpers import PASSWORD
from tests.server_support import Server
from tests.test_programmes import VEILEDNING

pytestmark = pytest.mark.xdist_group("server")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI needs Chromium for the browser tests: apt-get install chromium (see .ci/run)")
    pytest.skip("Chromium is not installed (apt-get install chromium): browser tests skipped",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
from axe_playwright_python.sync_playwright import Axe  # noqa: E402

WIDE, PHONE = {"width": 1366, "height": 768}, {"width": 390, "height": 844}


def ago(days):
    return datetime.now(timezone.utc) - timedelta(days=days)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A served LRS on SQLite: the test trust, the example programmes, Ola (E2) in LIS-IM for 13 months with Kari
    (E1) as supervisor and Lise (L1) as leader, and Ola's CPR and two simulation sessions as xAPI statements."""
    with fresh_database("sqlite", tmp_path_factory.mktemp("programmes"), "programmes") as url:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests"})
        from lrs.store.migrate import upgrade
        engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
        upgrade(engine)
        imports.import_hr(engine, settings, "units.csv", (DATA / "units.csv").read_text())
        imports.import_catalog(engine, settings, "catalog.yaml", (DATA / "catalog.yaml").read_text())
        imports.import_hr(engine, settings, "employees.csv", (DATA / "employees.csv").read_text())
        imports.import_catalog(engine, settings, "veiledning.yaml", VEILEDNING)
        with write_transaction(engine) as conn:
            for path in sorted(EXAMPLES.glob("*.yaml")):
                service.import_programme(conn, path.name, path.read_text())
            start = settings.day(datetime.now(timezone.utc)) - relativedelta(months=13)
            service.enrol(conn, settings, "LIS-IM", "E2", start, "E1", "L1")
        accounts.create(engine, "ola", "Ola Hansen", ["employee"], PASSWORD, employee_id="E2")
        accounts.create(engine, "kari", "Kari Nordmann", ["employee"], PASSWORD, employee_id="E1")
        accounts.create(engine, "lise", "Lise Leder", ["employee", "leader"], PASSWORD, employee_id="L1",
                        led_units=["med"])
        engine.dispose()
        server = Server(url, workers=1, threads=4, env={"LRS_SECRET_KEY": "browser-tests",
                                                        "LRS_LOGIN_RATE_LIMIT": "1000 per minute"}).start(timeout=60)
        try:
            key, secret = server.credential("all")
            import requests
            sessions = []
            for days in (40, 20):
                s = statement("E2", COMPLETED, f"https://sim.helse.example.no/session/{uuid.uuid4()}", ago(days),
                              activity_type=SIM_SESSION)
                s["context"] = {"contextActivities": {"parent": [{"id": "https://sim.helse.example.no/scenario/sepsis"}]}}
                sessions.append(s)
            r = requests.post(server.url + "/xapi/statements", json=[passed_hlr("E2", ago(10)), *sessions],
                              auth=(key, secret), headers={"X-Experience-API-Version": "1.0.3"}, timeout=10)
            assert r.status_code == 200, r.text
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def shoot(tmp_path_factory):
    folder = Path(os.environ.get("LRS_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        """The page at 1366x768 (first screen) and on a phone (whole page); nothing wider than the phone's screen
        but the tables, which scroll in their own box."""
        page.set_viewport_size(WIDE)
        page.screenshot(path=str(folder / f"{name}.png"))
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(folder / f"{name}-mobil.png"), full_page=True)
        assert page.evaluate("document.body.scrollWidth") <= PHONE["width"] + 1, name
        page.set_viewport_size(WIDE)
    take.folder = folder
    return take


@pytest.fixture
def context(browser):
    context = browser.new_context(locale="nb-NO", viewport=WIDE, accept_downloads=True)
    blocked = []
    context.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    yield context
    context.close()
    assert blocked == [], blocked


def sign_in(context, site, username):
    page = context.new_page()
    page.goto(site.url + "/login")
    page.get_by_label("Brukernavn").fill(username)
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_load_state()
    return page


def no_serious_violations(page):
    results = Axe().run(page)
    serious = [(v["id"], v["help"]) for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], serious
    page.reload()  # axe leaves its script behind


def test_participant_sees_progression_and_logs_supervision_meetings(site, context, shoot):
    page = sign_in(context, site, "ola")
    page.get_by_role("link", name="Utdanningsløp").click()
    page.wait_for_url("**/programmer/deltaker/*")
    assert page.get_by_role("heading", name="Min progresjon: LIS indremedisin (utdrag)").is_visible()
    assert "Bak planen" in page.locator(".cards").inner_text()  # the first screen says it
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
    no_serious_violations(page)
    shoot(page, "programmer-deltaker")

    for days, title in ((30, "Veiledning: mål for året"), (12, "Veiledning: akuttvakter")):
        page.get_by_label("Læringsmål").select_option("IM-001")
        page.get_by_label("Hva slags").select_option("supervision")
        page.get_by_label("Hva gjorde du?").fill(title)
        page.get_by_label("Dato", exact=True).fill(ago(days).date().isoformat())
        page.get_by_role("button", name="Registrer", exact=True).click()
        page.get_by_role("status").filter(has_text="Registrert").wait_for()
    entries = page.get_by_role("region", name="Registreringer").inner_text()
    assert entries.count("Venter på bekreftelse") == 2
    assert page.get_by_role("button", name="Vurder som oppnådd").count() == 0


def test_supervisor_confirms_entries_and_assesses(site, context, shoot):
    page = sign_in(context, site, "kari")
    page.goto(site.url + "/programmer/veiledning")
    assert page.get_by_role("heading", name="Mine kandidater i veiledning").is_visible()
    assert "Ola Hansen" in page.locator("main").inner_text()
    no_serious_violations(page)
    shoot(page, "programmer-veiledning")
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
    no_serious_violations(page)
    shoot(page, "programmer-vurdert")


def test_leader_sees_who_is_behind_approves_and_prints_the_record(site, context, shoot):
    page = sign_in(context, site, "lise")
    page.goto(site.url + "/programmer/oversikt")
    assert page.get_by_role("heading", name="Utdanningsløp: hvem ligger bak planen").is_visible()
    ola = page.get_by_role("row").filter(has_text="Ola Hansen").first
    assert "Bak planen" in ola.inner_text() and "IM-001" in ola.inner_text()  # awaiting approval
    # Enrolling put the supervision competence into Kari's plan; she does not hold it yet.
    assert "Kari Nordmann" in page.get_by_role("row").filter(has_text="VEILEDNING").first.inner_text()
    no_serious_violations(page)
    shoot(page, "programmer-oversikt")

    page.get_by_role("link", name="Ola Hansen").click()
    page.get_by_role("button", name="Godkjenn IM-001").click()
    page.get_by_role("status").filter(has_text="IM-001 er godkjent").wait_for()
    row = page.get_by_role("row").filter(has_text="IM-001").first
    assert "Godkjent: Lise Leder" in row.inner_text()
    assert "1 / 4" in page.locator(".cards").inner_text()
    no_serious_violations(page)
    shoot(page, "programmer-godkjent")

    page.get_by_role("link", name="Utskrift av utdanningsløpet").click()
    assert page.get_by_role("heading", name="LIS indremedisin (utdrag): Ola Hansen").is_visible()
    assert "Veiledning: akuttvakter" in page.locator("main").inner_text()
    no_serious_violations(page)
    shoot(page, "programmer-utskrift")
    page.emulate_media(media="print")
    assert not page.locator("header.site").is_visible()
    page.emulate_media(media="screen")
    with page.expect_download() as download:
        page.get_by_role("link", name="Eksport som xAPI-hendelser").click()
    assert download.value.suggested_filename == "utdanningslop-E2-LIS-IM.json"
    import json
    exported = json.loads(Path(download.value.path()).read_text())
    assert [s["verb"]["id"].rsplit("/", 1)[1] for s in exported] == ["attended", "attended", "assessed-achieved",
                                                                     "approved"]
