"""The employee's journey in a real browser (headless Chromium via Playwright) against a real server, at 1366×768
and on a phone (390×844): the plan answers "what must I do, and by when?" in the first screen without scrolling (the
summary in words and the next action), the Start button stays next to its status, the next action leads to the
registration form, a form error is shown next to its field with what was typed kept, the privacy page is in the
menu, and an unknown address is a page with a way back. axe-core finds no serious or critical violation on any of
these pages. Screenshots (nb) go to LRS_SCREENSHOTS when set (`make screenshots`), else to a scratch folder."""
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
WIDTHS = {"desktop": (1366, 768), "phone": (390, 844)}

if CHROMIUM is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI needs Chromium for the browser tests: apt-get install chromium (see .ci/run)")
    pytest.skip("Chromium is not installed (apt-get install chromium): browser tests skipped",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
from axe_playwright_python.sync_playwright import Axe  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A served LRS on SQLite with the test trust, Kari's HLR running out in about 25 days, and the hand hygiene
    module published (it gives evidence for SMITTE-HH-01, which nurses need)."""
    with fresh_database("sqlite", tmp_path_factory.mktemp("journey"), "journey") as url:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests"})
        from lrs.store.migrate import upgrade
        engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
        upgrade(engine)
        imports.import_hr(engine, settings, "units.csv", (DATA / "units.csv").read_text())
        imports.import_catalog(engine, settings, "catalog.yaml", (DATA / "catalog.yaml").read_text())
        imports.import_hr(engine, settings, "employees.csv", (DATA / "employees.csv").read_text())
        imports.import_catalog(engine, settings, "hh.yaml", (
            "competences:\n  - {code: SMITTE-HH-01, name_nb: Håndhygiene, name_en: Hand hygiene, area: Smittevern,"
            " validity_months: 24, renewal_days: 30}\n"))
        imports.import_catalog(engine, settings, "requirements.yaml", "requirements:\n" + "".join(
            f"  - {{role: {r}, competence: {c}, mandatory: {m}, new_employee_days: {d}{u}}}\n" for r, c, m, d, u in (
                ("sykepleier", "HLR", "true", 30, ""), ("sykepleier", "LMH", "true", 90, ""),
                ("sykepleier", "TEAM", "false", 180, ", unit: akutt"), ("lege", "HLR", "true", 30, ""),
                ("portor", "BRANN", "true", 30, ""), ("sykepleier", "SMITTE-HH-01", "true", 30, ""))))
        accounts.create(engine, "kari", "Kari Nordmann", ["employee"], PASSWORD, employee_id="E1")
        accounts.create(engine, "lise", "Lise Leder", ["employee", "leader"], PASSWORD, employee_id="L1",
                        led_units=["med"])
        engine.dispose()
        server = Server(url, workers=1, threads=4, env={"LRS_SECRET_KEY": "browser-tests",
                                                        "LRS_LOGIN_RATE_LIMIT": "1000 per minute"}).start(timeout=60)
        try:
            import requests
            key, secret = server.credential("all")
            r = requests.post(server.url + "/xapi/statements", json=[passed_hlr("E1", days_ago(340))],
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


@pytest.fixture(scope="module")
def shoot(tmp_path_factory):
    folder = Path(os.environ.get("LRS_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        page.screenshot(path=str(folder / f"{name}-forste-skjerm.png"))  # what is seen without scrolling
    return take


@pytest.fixture(params=list(WIDTHS))
def page(request, browser):
    width, height = WIDTHS[request.param]
    context = browser.new_context(locale="nb-NO", viewport={"width": width, "height": height})
    page = context.new_page()
    page.width_name = request.param
    blocked = []  # the pages' Content-Security-Policy must not block anything they use
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    yield page
    context.close()
    assert blocked == [], blocked


def sign_in(page, site, username):
    page.goto(site.url + "/login")
    page.get_by_label("Brukernavn").fill(username)
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()


def open_plan(page, site):
    """Kari's plan, once the engine (every two seconds) has made her HLR course evidence."""
    sign_in(page, site, "kari")
    page.wait_for_url("**/plan")
    for _ in range(30):
        if "går ut" in page.locator("#summary-text").inner_text():
            return
        page.wait_for_timeout(1000)
        page.reload()
    raise AssertionError(page.locator("#summary-text").inner_text())


def no_serious_violations(page):
    results = Axe().run(page)
    serious = [(v["id"], v["help"]) for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], serious


def in_first_screen(page, locator) -> bool:
    """Whether the element is wholly inside the viewport with the page scrolled to the top."""
    page.evaluate("window.scrollTo(0, 0)")
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["x"] >= 0 and box["y"] + box["height"] <= size["height"] \
        and box["x"] + box["width"] <= size["width"]


def test_the_plan_answers_what_to_do_and_by_when_in_the_first_screen(site, page, shoot):
    open_plan(page, site)
    summary = page.locator("#summary-text")
    assert summary.inner_text().startswith("1 går ut om ") and "neste frist" in summary.inner_text()
    action = page.locator(".next-action").get_by_role("link", name="Registrer gjennomført opplæring")
    assert "Hjerte-lunge-redning" in page.locator(".next-action").inner_text()
    assert in_first_screen(page, summary) and in_first_screen(page, action), page.width_name
    # Nothing wider than the screen: on a phone the plan is a list of cards, not a table to scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    # The module's Start button is next to the status of its requirement, on the screen, at every width.
    row = page.get_by_role("row").filter(has_text="Håndhygiene").first
    status, start = row.locator(".status"), row.get_by_role("button", name="Start kurset")
    s, b = status.bounding_box(), start.bounding_box()
    assert b["x"] + b["width"] <= page.viewport_size["width"]
    assert abs((b["y"] + b["height"] / 2) - (s["y"] + s["height"] / 2)) < 40, (s, b)
    # Fulfilled rows and rows by urgency: HLR (running out) first.
    first = page.locator("tr.plan-row").first
    assert "Hjerte-lunge-redning" in first.inner_text() and "Går ut" in first.inner_text()
    no_serious_violations(page)
    shoot(page, f"journey-ansatt-plan-{page.width_name}")


def test_the_next_action_leads_to_the_form_whose_errors_keep_what_was_typed(site, page, shoot):
    open_plan(page, site)
    page.locator(".next-action").get_by_role("link", name="Registrer gjennomført opplæring").click()
    assert page.get_by_label("Kompetanse", exact=True).input_value() == "HLR"
    page.get_by_label("Hva gjennomførte du?").fill("HLR-kurs, Røde Kors")
    page.get_by_role("button", name="Registrer", exact=True).click()  # no date
    summary = page.get_by_role("alert").filter(has_text="Skjemaet har feil som må rettes")
    summary.wait_for()
    assert "Dato gjennomført: Skriv datoen da du ble ferdig." in summary.inner_text()
    assert page.get_by_label("Hva gjennomførte du?").input_value() == "HLR-kurs, Røde Kors"
    assert page.locator("#completed_on-error").is_visible()
    no_serious_violations(page)
    shoot(page, f"journey-ansatt-skjemafeil-{page.width_name}")
    summary.get_by_role("link").first.click()
    page.get_by_label("Dato gjennomført").fill(days_ago(5).date().isoformat())
    page.get_by_role("button", name="Registrer", exact=True).click()
    page.get_by_role("status").filter(has_text="Registrert").wait_for()
    registered = page.get_by_role("row").filter(has_text="HLR-kurs, Røde Kors").first
    assert "Venter på attestering" in registered.inner_text()


def test_privacy_is_in_the_menu_and_a_wrong_address_has_a_way_back(site, browser, page, shoot):
    leader = browser.new_context(locale="nb-NO")
    lp = leader.new_page()
    sign_in(lp, site, "lise")
    lp.goto(site.url + "/employees/E1")  # Kari's leader reads her plan
    assert lp.get_by_role("heading", name="Kompetanseplan for Kari Nordmann").is_visible()
    leader.close()

    sign_in(page, site, "kari")
    page.wait_for_url("**/plan")
    page.get_by_role("navigation", name="Hovedmeny").get_by_role("link", name="Personvern").click()
    assert page.get_by_role("heading", name="Hvem har sett dataene mine").is_visible()
    # In plain words: who by name, the role and the unit by name, what they saw; no codes, scopes or ids.
    read = page.locator(".access-day li").filter(has_text="Lise Leder").first
    assert "leder for Medisinsk klinikk: Kompetanseplan (nettside)" in read.inner_text()
    assert "leader:" not in page.content() and "scope:" not in page.content()
    no_serious_violations(page)
    shoot(page, f"journey-ansatt-personvern-{page.width_name}")
    page.goto(site.url + "/finnes-ikke")
    assert page.get_by_role("heading", name="Fant ikke siden").is_visible()
    no_serious_violations(page)
    shoot(page, f"journey-ansatt-404-{page.width_name}")
    page.get_by_role("link", name="Til forsiden").click()
    page.wait_for_url("**/plan")
