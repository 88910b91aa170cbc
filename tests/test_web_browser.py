"""The web UI in a real browser (headless Chromium via Playwright) against a real server: sign in, see the plan,
register evidence, attest it as a leader, see the status change, export; axe-core finds no serious
accessibility violations on the main pages. Screenshots (nb) go to LRS_SCREENSHOTS when set (`make screenshots`:
docs/screenshots/, the committed ones), else to a scratch folder."""
import os
import shutil
from pathlib import Path

import pytest

from lrs import create_app
from lrs.competence import imports
from lrs.web import accounts
from tests.competence_support import DATA, days_ago, passed_hlr
from tests.conftest import fresh_database
from tests.helpers import PASSWORD
from tests.server_support import Server

pytestmark = pytest.mark.xdist_group("server")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "modules"

if CHROMIUM is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI needs Chromium for the browser tests: apt-get install chromium (see .ci/run)")
    pytest.skip("Chromium is not installed (apt-get install chromium): browser tests skipped",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
from axe_playwright_python.sync_playwright import Axe  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A served LRS on SQLite with the test trust, some learning records and three users."""
    with fresh_database("sqlite", tmp_path_factory.mktemp("web"), "web") as url:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests"})
        from lrs.store.migrate import upgrade
        engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
        upgrade(engine)
        imports.import_hr(engine, settings, "units.csv", (DATA / "units.csv").read_text())
        imports.import_catalog(engine, settings, "catalog.yaml", (DATA / "catalog.yaml").read_text())
        imports.import_hr(engine, settings, "employees.csv", (DATA / "employees.csv").read_text())
        # The example hand-hygiene module gives evidence for HAND, which nurses need.
        imports.import_catalog(engine, settings, "hh.yaml", (
            "competences:\n  - {code: HAND, name_nb: Håndhygiene, name_en: Hand hygiene, area: Smittevern,"
            " validity_months: 24, renewal_days: 30}\n"))
        imports.import_catalog(engine, settings, "requirements.yaml", "requirements:\n" + "".join(
            f"  - {{role: {r}, competence: {c}, mandatory: {m}, new_employee_days: {d}{u}}}\n" for r, c, m, d, u in (
                ("sykepleier", "HLR", "true", 30, ""), ("sykepleier", "LMH", "true", 90, ""),
                ("sykepleier", "TEAM", "false", 180, ", unit: akutt"), ("lege", "HLR", "true", 30, ""),
                ("portor", "BRANN", "true", 30, ""), ("sykepleier", "HAND", "true", 30, ""))))
        accounts.create(engine, "kari", "Kari Nordmann", ["employee"], PASSWORD, employee_id="E1")
        accounts.create(engine, "lise", "Lise Leder", ["employee", "leader"], PASSWORD, employee_id="L1",
                        led_units=["med"])
        accounts.create(engine, "admin", "Admin", ["admin"], PASSWORD)
        accounts.create(engine, "forfatter", "Frida Forfatter", ["author"], PASSWORD)
        accounts.create(engine, "instruktor", "Lise Instruktør", ["employee", "instructor"], PASSWORD,
                        employee_id="L1")
        engine.dispose()
        server = Server(url, workers=1, threads=4, env={"LRS_SECRET_KEY": "browser-tests",
                                                        "LRS_LOGIN_RATE_LIMIT": "1000 per minute"}).start(timeout=60)
        try:
            key, secret = server.credential("all")
            import requests
            r = requests.post(server.url + "/xapi/statements", json=[passed_hlr("E2", days_ago(340))],
                              auth=(key, secret), headers={"X-Experience-API-Version": "1.0.3"}, timeout=10)
            assert r.status_code == 200
            key, secret = server.credential("cmi5/admin")
            from course_builder import cli as course_builder
            course_builder.main(["publish", str(EXAMPLES / "handhygiene"), "--lrs", server.url, "--key", key,
                                 "--secret", secret])
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="nb-NO", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    # The pages' Content-Security-Policy must not block anything they use (the browser says so on the console).
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    yield page
    context.close()
    assert blocked == [], blocked


def sign_in(page, site, username):
    page.goto(site.url + "/login")
    page.get_by_label("Brukernavn").fill(username)
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()


def no_serious_violations(page):
    results = Axe().run(page)
    serious = [(v["id"], v["help"]) for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], serious


@pytest.fixture(scope="module")
def shoot(tmp_path_factory):
    folder = Path(os.environ.get("LRS_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return lambda page, name: page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_employee_registers_evidence_leader_attests_status_changes(site, page, browser, shoot):
    sign_in(page, site, "kari")
    page.wait_for_url("**/plan")
    assert page.get_by_role("heading", name="Min kompetanseplan").is_visible()
    no_serious_violations(page)
    shoot(page, "min-kompetanseplan")

    page.get_by_label("Kompetanse", exact=True).select_option("HLR")
    page.get_by_label("Hva gjennomførte du?").fill("HLR-kurs, Røde Kors")
    page.get_by_label("Dato gjennomført").fill(days_ago(5).date().isoformat())
    page.get_by_label("Kursbevis (PDF, PNG eller JPEG)").set_input_files(
        files=[{"name": "kursbevis.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 kursbevis"}])
    page.get_by_role("button", name="Registrer", exact=True).click()
    page.get_by_role("status").filter(has_text="Registrert").wait_for()
    hlr = page.get_by_role("row").filter(has_text="Hjerte-lunge-redning").first
    assert "Venter på attestering" in hlr.inner_text()

    leader = browser.new_context(locale="nb-NO", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    lp = leader.new_page()
    sign_in(lp, site, "lise")
    lp.goto(site.url + "/leader")
    assert lp.get_by_role("heading", name="Enhetsoversikt").is_visible()
    no_serious_violations(lp)
    shoot(lp, "enhetsoversikt")
    with lp.expect_download() as download:
        lp.get_by_role("link", name="Last ned Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    lp.get_by_role("button", name="Attester HLR-kurs, Røde Kors").click()
    lp.get_by_role("status").filter(has_text="Attestert").wait_for()
    leader.close()

    page.reload()
    hlr = page.get_by_role("row").filter(has_text="Hjerte-lunge-redning").first
    assert "Oppfylt" in hlr.inner_text() and "HLR-kurs, Røde Kors" in hlr.inner_text()


def test_admin_pages_are_accessible(site, page, shoot):
    sign_in(page, site, "admin")
    page.goto(site.url + "/admin")
    assert page.get_by_role("heading", name="Administrasjon").is_visible()
    no_serious_violations(page)
    shoot(page, "administrasjon")
    page.goto(site.url + "/statements?person=E2")
    assert "https://kurs.helse.example.no/hlr" in page.content()
    no_serious_violations(page)


def test_a_person_sees_who_read_their_records_and_admins_search_the_log(site, page, browser, shoot):
    admin = browser.new_context(locale="nb-NO", viewport={"width": 1280, "height": 900})
    ap = admin.new_page()
    sign_in(ap, site, "admin")
    ap.goto(site.url + "/statements?person=E1")
    ap.goto(site.url + "/admin/privacy?employee=E1")
    assert ap.title().startswith("Tilgangslogg")
    log = ap.get_by_role("row").filter(has_text="Læringsdata (søk)").first
    assert "admin" in log.inner_text() and "E1" in log.inner_text()
    no_serious_violations(ap)
    shoot(ap, "tilgangslogg")
    admin.close()

    sign_in(page, site, "kari")
    page.goto(site.url + "/privacy")
    assert page.get_by_role("heading", name="Hvem har sett dataene mine").is_visible()
    seen = page.get_by_role("row").filter(has_text="Læringsdata (søk)").first
    assert "Admin" in seen.inner_text() and "admin" in seen.inner_text()
    no_serious_violations(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Last ned alle dataene dine (JSON)").click()
    assert download.value.suggested_filename.endswith(".json")


def test_sign_in_page_and_phone_width(site, browser, shoot):
    phone = browser.new_context(locale="nb-NO", viewport={"width": 390, "height": 844})
    page = phone.new_page()
    page.goto(site.url + "/login")
    no_serious_violations(page)
    sign_in(page, site, "kari")
    page.wait_for_url("**/plan")
    # Nothing wider than the screen but the tables, which scroll in their own box.
    assert page.evaluate("document.body.scrollWidth") <= 390 + 1
    shoot(page, "mobil-plan")
    phone.close()


def test_instructor_logs_a_session_on_a_tablet(site, browser, shoot):
    tablet = browser.new_context(locale="nb-NO", viewport={"width": 820, "height": 1180})
    page = tablet.new_page()
    sign_in(page, site, "instruktor")
    page.goto(site.url + "/sim/new?scenario=sepsis-akutt")
    no_serious_violations(page)
    page.reload()  # a fresh page for typing (axe leaves its script behind)
    page.get_by_label("Hvor (avdeling, rom)").fill("Akuttmottaket, rom 3")
    for n, (who, profession, role) in enumerate((("E1", "sykepleier", "teamleder"), ("E2", "lis", "lege")), 1):
        row = page.get_by_role("group", name=f"Deltaker {n}")
        row.get_by_label("Ansattnr.").fill(who)
        row.get_by_label("Yrke").fill(profession)
        row.get_by_label("Rolle i scenarioet").fill(role)
    page.get_by_label("Samlet vurdering av teamets ikke-tekniske ferdigheter (1–10)").fill("8")
    page.get_by_label("Varighet (minutter)").fill("20")
    page.get_by_label("Tidspunkt").fill("2026-11-24T09:15")
    shoot(page, "simulering-logg-okt")
    page.get_by_role("button", name="Logg økten").click()
    page.wait_for_url("**/sim/")
    assert page.url.endswith("/sim/"), page.locator("main").inner_text()[:300]
    page.get_by_role("status").filter(has_text="Økten er logget").wait_for()
    assert "1 økter, 2 deltakelser." in page.content()
    no_serious_violations(page)
    shoot(page, "simulering-mine-okter")
    tablet.close()


def test_employee_takes_a_module_from_the_plan_and_the_requirement_is_fulfilled(site, page, shoot):
    """The whole way: the plan, the cmi5 module (launched by the LRS as LMS), the answers, passed, and the plan
    again, where the competence engine has made the passed module evidence."""
    from tests.test_cmi5_browser import ANSWERS, pass_hand_hygiene
    sign_in(page, site, "kari")
    page.wait_for_url("**/plan")
    row = page.get_by_role("row").filter(has_text="Håndhygiene").first
    assert "Ikke forfalt ennå" in row.inner_text()
    row.get_by_role("button", name="Start kurset").click()
    pass_hand_hygiene(page)
    assert set(ANSWERS) == {"hh-foer-aseptisk", "hh-hansker", "hh-forutsetninger", "hh-tid", "hh-vask"}
    # The engine's job reads new statements every two seconds.
    for _ in range(30):
        page.goto(site.url + "/plan")
        row = page.get_by_role("row").filter(has_text="Håndhygiene").first
        if "Oppfylt" in row.inner_text():
            break
        page.wait_for_timeout(1000)
    assert "Oppfylt" in row.inner_text(), row.inner_text()
    shoot(page, "plan-etter-modul")

    # The author sees the module's numbers, this pass among them.
    page.get_by_role("button", name="Logg ut").click()
    sign_in(page, site, "forfatter")
    page.goto(site.url + "/author")
    cells = page.get_by_role("row").filter(has_text="Håndhygiene").first.inner_text()
    assert "HAND" in cells and "100 %" in cells, cells
    no_serious_violations(page)
    shoot(page, "mine-moduler")
