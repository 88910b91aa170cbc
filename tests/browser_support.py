"""The browser harness: what every Playwright test of the web UI builds on (loaded by tests/conftest.py).

Fixtures
    site        a served LRS (module-scoped; SQLite) with the test trust (tests/data), learning records, the example
                hand-hygiene module published, training E2 registered (waiting for attestation), and one account
                per role, all with the password PASSWORD: kari (employee E1), lise (leader of med, and employee
                L1), instruktor (instructor, no employee number), forfatter (author), admin (admin). `site.url`, `site.accounts` (role -> user name).
    browser     Debian's chromium through Playwright (module-scoped). Skips when chromium is missing; fails under
                CI=true.
    page        a fresh page in its own browser context, nb-NO, desktop size, base_url = site.url (so
                page.goto("/plan") works). Fails the test if the Content-Security-Policy blocked anything.
    new_page    new_page(size="desktop") -> another such page (a second user, a phone), closed after the test.

Functions (import them: `from tests.browser_support import sign_in, ...`)
    sign_in(page, role)        signs in as the role's account ("employee", "leader", "instructor", "author",
                               "admin", or a user name) through the sign-in page; waits for the start page.
    at_width(page, size)       "desktop" (1366x768) or "phone" (390x844).
    in_first_screen(page, loc) the element is visible without scrolling (inside the viewport at the top); in a
                               failed assert it says where the element was.
    menu(page)                 the main menu, opened first on a phone (below 761 px it is a "Meny" disclosure).
    shoot(page, name)          a screenshot NAME.png in LRS_SCREENSHOTS (`make screenshots`: docs/screenshots) or a
                               scratch folder (the path is returned).
    axe_check(page)            axe-core: fails on any serious or critical violation, listing rule, help and elements.
    crawl(page, start="/")     follows every same-origin link from start (or a tuple of starts) as the page's
                               signed-in user: {path?query: Visit(status, content_type, final_url, source)}.
"""
import os
import shutil
import tempfile
from collections import deque
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from tests.helpers import PASSWORD, password_hash

CHROMIUM = os.environ.get("LRS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "modules"
SIZES = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
# role -> the account of the site fixture that has it
ACCOUNTS = {"employee": "kari", "leader": "lise", "instructor": "instruktor", "author": "forfatter", "admin": "admin"}


# ------------------------------------------------------------------------------------------------ the site


@dataclass
class Site:
    url: str
    server: object
    accounts: dict


def build_site(url: str):
    """The test trust, the accounts and the records in the (empty) database at url; returns the started Server."""
    from lrs import create_app
    from lrs.competence import imports
    from lrs.store.db import write_transaction
    from lrs.store.migrate import upgrade
    from lrs.web import accounts
    from tests.competence_support import DATA
    from tests.server_support import Server

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests"})
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    upgrade(engine)
    with write_transaction(engine) as conn:
        imports.import_hr(conn, settings, "units.csv", (DATA / "units.csv").read_text())
        imports.import_catalog(conn, settings, "catalog.yaml", (DATA / "catalog.yaml").read_text())
        imports.import_hr(conn, settings, "employees.csv", (DATA / "employees.csv").read_text())
        # The example hand-hygiene module gives evidence for HAND, which nurses need.
        imports.import_catalog(conn, settings, "hh.yaml", (
            "competences:\n  - {code: HAND, name_nb: Håndhygiene, name_en: Hand hygiene, area: Smittevern,"
            " validity_months: 24, renewal_days: 30}\n"))
        imports.import_catalog(conn, settings, "requirements.yaml", "requirements:\n" + "".join(
            f"  - {{role: {r}, competence: {c}, mandatory: {m}, new_employee_days: {d}{u}}}\n" for r, c, m, d, u in (
                ("sykepleier", "HLR", "true", 30, ""), ("sykepleier", "LMH", "true", 90, ""),
                ("sykepleier", "TEAM", "false", 180, ", unit: akutt"), ("lege", "HLR", "true", 30, ""),
                ("portor", "BRANN", "true", 30, ""), ("sykepleier", "HAND", "true", 30, ""))))
    with write_transaction(engine) as conn:
        accounts.create(conn, "kari", "Kari Nordmann", ["employee"], password_hash(), employee_id="E1")
        accounts.create(conn, "lise", "Lise Leder", ["employee", "leader"], password_hash(), employee_id="L1",
                        led_units=["med"])
        accounts.create(conn, "instruktor", "Ivar Instruktør", ["instructor"], password_hash())
        accounts.create(conn, "forfatter", "Frida Forfatter", ["author"], password_hash())
        accounts.create(conn, "admin", "Admin", ["admin"], password_hash())
    # Training Ola (E2) registered himself, with a certificate: waiting in Lise's attestation queue.
    from lrs.competence import evidence
    from lrs.store.db import transaction
    from tests.competence_support import days_ago
    with app.app_context(), transaction(write=True) as conn:
        evidence.register(conn, settings, "E2", "LMH", "Legemiddelkurs, Helsebiblioteket", days_ago(12).date(),
                          ("kursbevis.pdf", "application/pdf", b"%PDF-1.4 kursbevis"))
    engine.dispose()
    return Server(url, workers=1, threads=4, env={"LRS_SECRET_KEY": "browser-tests",
                                                  "LRS_LOGIN_RATE_LIMIT": "1000 per minute"}).start(timeout=60)


def add_records(server) -> None:
    """A passed HLR course for E2 (340 days ago), and the example module published (course_builder)."""
    import requests

    from course_builder import cli as course_builder
    from tests.competence_support import days_ago, passed_hlr
    key, secret = server.credential("all")
    r = requests.post(server.url + "/xapi/statements", json=[passed_hlr("E2", days_ago(340))],
                      auth=(key, secret), headers={"X-Experience-API-Version": "1.0.3"}, timeout=10)
    assert r.status_code == 200, r.text
    key, secret = server.credential("cmi5/admin")
    course_builder.main(["publish", str(EXAMPLES / "handhygiene"), "--lrs", server.url, "--key", key,
                         "--secret", secret])


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from tests.conftest import fresh_database
    with fresh_database("sqlite", tmp_path_factory.mktemp("web"), "web") as url:
        server = build_site(url)
        try:
            add_records(server)
            yield Site(server.url, server, dict(ACCOUNTS))
        finally:
            server.stop()


# ------------------------------------------------------------------------------------------------ the browser


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs Chromium for the browser tests: apt-get install chromium (see .ci/run)")
        pytest.skip("Chromium is not installed (apt-get install chromium): browser tests skipped")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, site):
    """new_page(size="desktop") -> a page in a new context (its own cookies); all closed after the test, which
    fails if the Content-Security-Policy blocked anything on any of them (the browser says so on the console)."""
    contexts, blocked = [], []

    def make(size="desktop"):
        context = browser.new_context(locale="nb-NO", viewport=SIZES[size], base_url=site.url,
                                      accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        return page

    yield make
    for context in contexts:
        context.close()
    assert blocked == [], blocked


@pytest.fixture
def page(new_page):
    return new_page()


def sign_in(page, role: str) -> None:
    """Signs in as ACCOUNTS[role] (or the user name `role`) on the sign-in page; waits until it has left it."""
    page.goto("/login")
    page.get_by_label("Brukernavn").fill(ACCOUNTS.get(role, role))
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_url(lambda url: "/login" not in url)


def at_width(page, size: str) -> None:
    """"desktop" (1366x768) or "phone" (390x844)."""
    page.set_viewport_size(SIZES[size])


class FirstScreen:
    """in_first_screen's answer: true or false, and, in a failed assert, where the element was."""

    def __init__(self, ok: bool, why: str):
        self.ok, self.why = ok, why

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return f"<{self.why}>"


def in_first_screen(page, locator) -> FirstScreen:
    """Whether the (first) element is visible and wholly inside the viewport with the page scrolled to the top:
    `assert in_first_screen(page, page.get_by_role("button", name="Start"))`."""
    page.wait_for_load_state()  # a page scrolls to its URL's #anchor when loaded: not after this scroll to the top
    page.evaluate("window.scrollTo(0, 0)")
    locator = locator.first
    if not locator.is_visible():
        return FirstScreen(False, f"{locator} is not visible (missing, hidden, or in a closed menu)")
    box, view = locator.bounding_box(), page.viewport_size
    inside = (box is not None and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= view["width"] + 1
              and box["y"] + box["height"] <= view["height"] + 1)
    return FirstScreen(inside, f"{locator} at x={box['x']:.0f}..{box['x'] + box['width']:.0f}, "
                               f"y={box['y']:.0f}..{box['y'] + box['height']:.0f} in a {view['width']}x"
                               f"{view['height']} screen")


_BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll("main td, main th")) {
    const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walk.nextNode(); node; node = walk.nextNode()) {
      // words: letters alone between spaces (an address or an id may break anywhere)
      for (const m of node.textContent.matchAll(/(?<=^|\\s|[(])[\\p{L}]{2,24}(?=$|\\s|[.,:;)])/gu)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (lines.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""


def broken_words(page) -> list[str]:
    """The words (letters alone between spaces, at most 24) in the page's table cells that the layout breaks across
    two lines, as a column too narrow for them does ("akuttvakte / r"): a phone-width page should have none."""
    return page.evaluate(_BROKEN_WORDS)


def menu(page):
    """The main menu (navigation "Hovedmeny"), opened first when it is the phone's closed "Meny" disclosure:
    `menu(page).get_by_role("link", name="Enhetsoversikt").click()`."""
    nav = page.get_by_role("navigation", name="Hovedmeny")
    summary = nav.locator("summary")
    if summary.count() and summary.is_visible() and nav.locator("details[open]").count() == 0:
        summary.click()
    return nav


_SCRATCH = Path(tempfile.gettempdir()) / f"lrs-screenshots-{os.getpid()}"


def shoot(page, name: str, full_page: bool = True) -> Path:
    """NAME.png in LRS_SCREENSHOTS, else in a scratch folder; returns its path."""
    folder = Path(os.environ.get("LRS_SCREENSHOTS") or _SCRATCH)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    from playwright.sync_api import Error as PlaywrightError
    # Under load Chromium's compositor may have no frame ready just after a reload or a resize ("Unable to capture
    # screenshot", seen in CI): the picture is for people to look at, so a second try a moment later is fair.
    for attempt in range(3):
        try:
            page.screenshot(path=str(path), full_page=full_page)
            return path
        except PlaywrightError as e:
            if "Unable to capture screenshot" not in str(e) or attempt == 2:
                raise
            page.wait_for_timeout(500)


def axe_check(page) -> None:
    """Runs axe-core on the page; fails listing every serious or critical violation with the elements it found."""
    from axe_playwright_python.sync_playwright import Axe
    violations = Axe().run(page).response["violations"]
    serious = [f"{v['impact']}: {v['id']} ({v['help']}) at " + ", ".join(
        " ".join(map(str, n["target"])) for n in v["nodes"][:5]) for v in violations
        if v["impact"] in ("serious", "critical")]
    if serious:
        raise AssertionError(f"axe on {page.url}:\n  " + "\n  ".join(serious))


# ------------------------------------------------------------------------------------------------ the crawl


@dataclass
class Visit:
    status: int
    content_type: str
    final_url: str  # after redirects
    source: str  # the page that linked here


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and (href := dict(attrs).get("href")):
            self.hrefs.append(href)


def crawl(page, start: str | tuple = "/", limit: int = 500) -> dict:
    """Every same-origin link reachable from start (a path, or a tuple of them), fetched (GET, following redirects) with the page's cookies:
    {path?query: Visit}, keyed by the URL linked to (not where it redirected). The links of every HTML answer are
    followed, error pages' too (their menu). Language links (/lang/xx, once each) are fetched last: they change the
    session's language, and the crawl ends in the one it began with. Fails beyond `limit` pages."""
    starts = (start,) if isinstance(start, str) else start
    base = page.url if page.url.startswith("http") else starts[0]  # signed in, the page is on the site already
    origin = urlsplit(urljoin(base, starts[0]))[:2]

    def key(url):  # path?query; a language link once per language, whatever page it returns to
        parts = urlsplit(url)
        return parts.path if parts.path.startswith("/lang/") else parts.path + (f"?{parts.query}" * bool(parts.query))

    seen: dict = {}
    queue, later = deque((urljoin(base, path), "") for path in starts), deque()
    while queue or later:
        url, source = queue.popleft() if queue else later.popleft()
        if key(url) in seen:
            continue
        assert len(seen) < limit, f"the crawl from {start} found more than {limit} pages"
        response = page.request.get(url, fail_on_status_code=False)
        ctype = response.headers.get("content-type", "").split(";")[0]
        seen[key(url)] = Visit(response.status, ctype, response.url, source)
        if ctype != "text/html":
            continue
        parser = _Links()
        parser.feed(response.text())
        for href in parser.hrefs:
            if href.startswith("#"):  # a place on this page (the skip link), not another page
                continue
            target = urldefrag(urljoin(response.url, href))[0]
            if urlsplit(target)[:2] == origin and key(target) not in seen:
                (later if "/lang/" in target else queue).append((target, key(url)))
    return seen
