"""The LTI journey in a browser (Playwright, Debian's chromium): a Moodle course page of the loopback platform
launches "Min kompetanseplan" in an iframe and in a new window; the tool's pages let that platform (and only it)
frame them."""
import pytest

from tests.browser_support import CHROMIUM, SIZES, axe_check, shoot
from tests.helpers import PASSWORD, password_hash
from tests.lti_platform import Platform

KARI = {"sub": "moodle-11", "name": "Kari Nordmann", "idnumber": "E1"}
NOBODY = {"sub": "moodle-99", "name": "Ola Ukjent", "idnumber": "E999"}
AUTHOR = {"sub": "moodle-30", "name": "Frida Forfatter", "idnumber": "", "message_type": "LtiDeepLinkingRequest",
          "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]}


@pytest.fixture(scope="module")
def moodle():
    with Platform() as platform:
        yield platform


@pytest.fixture(scope="module")
def tool(tmp_path_factory, moodle):
    """A served LRS whose PUBLIC_URL is its own address, with the test trust, Kari, and the platform registered."""
    from lrs import create_app
    from lrs.lti import service
    from lrs.store.db import write_transaction
    from lrs.store.migrate import upgrade
    from lrs.web import accounts
    from tests.competence_support import load_trust
    from tests.conftest import fresh_database
    from tests.server_support import Server, _free_port

    with fresh_database("sqlite", tmp_path_factory.mktemp("lti"), "lti") as url:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "lti-browser"})
        engine = app.extensions["lrs.engine"]
        upgrade(engine)
        load_trust(app)
        with write_transaction(engine) as conn:
            accounts.create(conn, "kari", "Kari Nordmann", ["employee"], password_hash(), employee_id="E1")
            accounts.create(conn, "admin", "Admin", ["admin"], password_hash())
        from lrs.cmi5.lms import import_package
        from tests.cmi5_support import au_xml, course_xml, zip_package
        import_package(engine, zip_package(course_xml(body=au_xml(1))), "test", "https://lrs.example/")
        with write_transaction(engine) as conn:
            platform_id = service.create_platform(
                conn, "Helse Vest Moodle", issuer=moodle.url, client_id=moodle.client_id,
                deployment_ids=moodle.deployment_id, auth_login_url=moodle.url + "/auth",
                auth_token_url=moodle.url + "/token", key_set_url=moodle.url + "/jwks",
                match_claim="https://purl.imsglobal.org/spec/lti/claim/lis#person_sourcedid", match_field="employee_id")
        engine.dispose()
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = Server(url, workers=1, threads=4, port=port,
                        env={"LRS_SECRET_KEY": "lti-browser", "LRS_PUBLIC_URL": base}).start(timeout=60)
        moodle.register_tool(base + "/lti/login", base + "/lti/launch", base + f"/lti/jwks/{platform_id}")
        moodle.launch = KARI
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium): browser tests skipped")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_moodle_launches_the_plan_framed_and_in_a_new_window(browser, moodle, tool, size):
    context = browser.new_context(locale="nb-NO", viewport=SIZES[size])
    blocked = []
    context.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        moodle.launch = KARI
        course = context.new_page()
        course.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        course.goto(moodle.url + "/course")
        framed = course.frame_locator("#tool")
        heading = framed.get_by_role("heading", name="Min kompetanseplan")
        heading.wait_for(timeout=15000)
        assert heading.is_visible()
        frame = next(f for f in course.frames if f.url.startswith(tool.url))
        assert frame.url == tool.url + "/plan"
        shoot(course, f"lti-plan-framed-{size}", full_page=False)

        # the same launch in a new window: a page of its own, signed in by the launch
        with context.expect_page() as opened:
            course.get_by_role("link", name="Åpne i nytt vindu").click()
        window = opened.value
        window.wait_for_url(tool.url + "/plan", timeout=15000)
        assert window.get_by_role("heading", name="Min kompetanseplan").is_visible()
        response = window.request.get(tool.url + "/plan")
        assert f"frame-ancestors 'self' {moodle.url}" in response.headers["content-security-policy"]
        shoot(window, f"lti-plan-window-{size}", full_page=False)
        if size == "desktop":
            axe_check(window)
        assert blocked == [], blocked
    finally:
        context.close()



def _watched(browser, size="desktop"):
    context = browser.new_context(locale="nb-NO", viewport=SIZES[size])
    blocked = []
    context.on("page", lambda p: p.on("console", lambda m: blocked.append(m.text)
                                      if "Content Security Policy" in m.text else None))
    return context, blocked


def test_an_unmatched_launch_is_answered_inside_the_frame(browser, moodle, tool):
    context, blocked = _watched(browser)
    try:
        moodle.launch = NOBODY
        course = context.new_page()
        course.goto(moodle.url + "/course")
        framed = course.frame_locator("#tool")
        framed.get_by_role("heading", name="Vi fant deg ikke her").wait_for(timeout=15000)
        assert "E999" in framed.locator("main").inner_text()
        shoot(course, "lti-unmatched-framed", full_page=False)
        assert blocked == [], blocked
    finally:
        context.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_author_places_a_module_by_deep_linking(browser, moodle, tool, size):
    context, blocked = _watched(browser, size)
    try:
        moodle.launch = AUTHOR
        moodle.deep_link_jwt = None
        course = context.new_page()
        course.goto(moodle.url + "/course")
        framed = course.frame_locator("#tool")
        framed.get_by_role("heading", name="Velg modul til Moodle-kurset").wait_for(timeout=15000)
        assert framed.get_by_label("Testkurs").is_checked()
        shoot(course, f"lti-deep-link-{size}", full_page=False)
        framed.get_by_role("button", name="Legg til i Moodle").click()
        # the answer goes to Moodle by itself (lti.js; the CSP lets this form post to the platform only)
        framed.locator("#done").wait_for(timeout=15000)
        item = moodle.decode_tool_jwt(moodle.deep_link_jwt, course.request.get(moodle.tool["jwks_uri"]).json())[
            "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"][0]
        assert item["custom"]["course"] == "https://kurs.helse.example.no/test-course"
        assert blocked == [], blocked
    finally:
        context.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_admin_page_of_platforms(browser, moodle, tool, size):
    context, blocked = _watched(browser, size)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto(tool.url + "/login")
        page.get_by_label("Brukernavn").fill("admin")
        page.get_by_label("Passord").fill(PASSWORD)
        page.get_by_role("button", name="Logg inn").click()
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto(tool.url + "/admin")
        page.get_by_role("link", name="Moodle (LTI)").click()
        page.get_by_role("heading", name="Helse Vest Moodle").wait_for()
        page.get_by_role("button", name="Lag registreringsadresse").click()
        assert "/lti/register?token=" in page.locator("#registration-url").inner_text()
        shoot(page, f"lti-admin-{size}")
        axe_check(page)
        assert blocked == [], blocked
    finally:
        context.close()
