"""What the instructor's, author's and admin's browser journeys share (tests/test_journey_*.py): a served LRS with
the test trust and an account for each role (the instructor is no employee), Chromium, the two widths, and the
checks each journey makes: what is in the first screen, and axe-core. Screenshots go to LRS_SCREENSHOTS when set
(`make screenshots`), else to a scratch folder. A journey imports the fixtures (roles_site_fixture …) and asks for
them by name (roles_site, chromium, screen, snap)."""
import os
import shutil
from pathlib import Path

import pytest

from lrs import create_app
from lrs.competence import imports
from lrs.store import credentials as creds
from lrs.web import accounts
from tests.competence_support import DATA, days_ago, passed_hlr
from tests.conftest import fresh_database
from tests.helpers import PASSWORD
from tests.server_support import Server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTHS = {"pc": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


def skip_without_chromium():
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            raise RuntimeError("CI needs Chromium for the browser tests: apt-get install chromium (see .ci/run)")
        pytest.skip("Chromium is not installed (apt-get install chromium): browser tests skipped",
                    allow_module_level=True)


@pytest.fixture(scope="module", name="roles_site")
def roles_site_fixture(tmp_path_factory):
    """A served LRS on SQLite: the test trust, a learning record, two API keys, and one account per role."""
    with fresh_database("sqlite", tmp_path_factory.mktemp("roles"), "roles") as url:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests"})
        from lrs.store.migrate import upgrade
        engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
        upgrade(engine)
        imports.import_hr(engine, settings, "units.csv", (DATA / "units.csv").read_text())
        imports.import_catalog(engine, settings, "catalog.yaml", (DATA / "catalog.yaml").read_text())
        imports.import_hr(engine, settings, "employees.csv", (DATA / "employees.csv").read_text())
        accounts.create(engine, "kari", "Kari Nordmann", ["employee"], PASSWORD, employee_id="E1")
        accounts.create(engine, "per", "Per Olsen", ["employee"], PASSWORD, employee_id="E3")
        accounts.create(engine, "admin", "Åse Admin", ["admin"], PASSWORD)
        accounts.create(engine, "forfatter", "Frida Forfatter", ["author"], PASSWORD)
        accounts.create(engine, "instruktor", "Ine Instruktør", ["instructor"], PASSWORD)  # no employee
        for width in WIDTHS:  # a key for the admin to revoke at each width
            creds.create(engine, f"Moodle ({width})", ("statements/write",))
        engine.dispose()
        server = Server(url, workers=1, threads=4, env={"LRS_SECRET_KEY": "browser-tests",
                                                        "LRS_LOGIN_RATE_LIMIT": "1000 per minute"}).start(timeout=60)
        try:
            import requests
            key, secret = server.credential("all")
            r = requests.post(server.url + "/xapi/statements", json=[passed_hlr("E2", days_ago(340))],
                              auth=(key, secret), headers={"X-Experience-API-Version": "1.0.3"}, timeout=10)
            assert r.status_code == 200
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module", name="chromium")
def chromium_fixture():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(params=list(WIDTHS), name="screen")
def screen_fixture(request, chromium):
    """A page at one of the two widths (a PC at 1366×768, a phone at 390×844); its name is page.width_name.
    The pages' Content-Security-Policy must block nothing they use."""
    context = chromium.new_context(locale="nb-NO", viewport=WIDTHS[request.param], accept_downloads=True)
    page = context.new_page()
    page.width_name = request.param
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    yield page
    context.close()
    assert blocked == [], blocked


@pytest.fixture(scope="module", name="snap")
def snap_fixture(tmp_path_factory):
    folder = Path(os.environ.get("LRS_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)

    def shoot(page, name):
        path = folder / f"{name}-{page.width_name}.png"
        page.screenshot(path=str(path))  # the first screen, as the user sees it before scrolling
        return path
    return shoot


def sign_in_as(page, site, username):
    page.goto(site.url + "/login")
    page.get_by_label("Brukernavn").fill(username)
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()


def in_first_screen(page, locator) -> bool:
    """Whether the element is visible, whole, in the first screen (the page scrolled to the top)."""
    page.evaluate("window.scrollTo(0, 0)")
    locator.wait_for()
    box = locator.bounding_box()
    view = page.viewport_size
    return bool(box) and box["y"] >= 0 and box["x"] >= 0 and box["y"] + box["height"] <= view["height"] \
        and box["x"] + box["width"] <= view["width"] + 1


def axe_clean(page):
    from axe_playwright_python.sync_playwright import Axe
    results = Axe().run(page)
    serious = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]
               if v["impact"] in ("serious", "critical")]
    assert serious == [], serious
