"""End to end in a real browser: a module built and published with course-builder, launched through the cmi5 API
of a real LRS server, taken in headless Chromium (Playwright) until passed; the LRS holds the cmi5 statements in
order and the registration is satisfied. Needs Chromium (Debian: apt-get install chromium; or LRS_CHROMIUM=path).

Screenshots go to LRS_SCREENSHOTS when set (docs/screenshots/ holds the committed ones)."""
import base64
import functools
import http.server
import json
import os
import shutil
import threading
import urllib.request
import zipfile
from urllib.parse import parse_qs, urlsplit

import pytest

from course_builder import cli
from course_builder.build import build
from lrs.cmi5 import vocab
from tests.conftest import fresh_database
from tests.server_support import Server

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples", "modules")
CHROMIUM = os.environ.get("LRS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")

playwright = pytest.importorskip("playwright.sync_api")
if not CHROMIUM:
    if os.environ.get("CI") == "true":
        raise RuntimeError("Chromium is required under CI=true (apt-get install chromium)")
    pytest.skip("Chromium not found (apt-get install chromium, or set LRS_CHROMIUM)", allow_module_level=True)

# The right answers of examples/modules/handhygiene, per question: the option ids to tick.
ANSWERS = {"hh-foer-aseptisk": ["b"], "hh-hansker": ["false"], "hh-forutsetninger": ["a", "b", "d"],
           "hh-tid": ["b"], "hh-vask": ["b"]}


def call(server, auth, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(server.url + path, data=data, method=method, headers={
        "Authorization": auth, "X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def shot(page, tmp_path, name):
    folder = os.environ.get("LRS_SCREENSHOTS") or str(tmp_path)
    os.makedirs(folder, exist_ok=True)
    page.screenshot(path=os.path.join(folder, name), full_page=True)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_employee_takes_the_module_in_a_browser_and_passes(kind, tmp_path):
    with fresh_database(kind, tmp_path, "browser") as url, Server(url, workers=1, threads=4) as server:
        key, secret = server.credential("cmi5/admin", "all/read")
        auth = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
        cli.main(["publish", os.path.join(EXAMPLES, "handhygiene"), "--lrs", server.url, "--key", key,
                  "--secret", secret])
        [course] = call(server, auth, "GET", "/cmi5/api/courses")["courses"]
        launch = call(server, auth, "POST", f"/cmi5/api/courses/{course['id']}/launch",
                      {"employee_id": "e1001", "au": 0, "return_url": server.url + "/xapi/about"})

        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 900, "height": 900}, locale="nb-NO")
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(launch["url"])
            page.wait_for_selector("h1:has-text('Hvorfor håndhygiene?')")
            shot(page, tmp_path, "cmi5-1-start.png")
            page.click("button.next")
            for qid in ("hh-foer-aseptisk", "hh-hansker"):
                answer(page, qid)
            shot(page, tmp_path, "cmi5-2-questions.png")
            page.click("button.next")
            page.click("button.finish")  # not all answered yet: the module says so and sends nothing
            page.wait_for_selector(".missing")
            for qid in ("hh-forutsetninger", "hh-tid", "hh-vask"):
                answer(page, qid)
            page.click("button.finish")
            page.wait_for_selector(".result.passed")
            assert "5 / 5" in page.inner_text(".score")
            shot(page, tmp_path, "cmi5-3-passed.png")
            browser.close()
        assert errors == []

        reg = launch["registration"]
        found = call(server, auth, "GET", f"/xapi/statements?registration={reg}&ascending=true&limit=100")
        stmts = found["statements"]
        defined = [vocab.name(s["verb"]["id"]) for s in stmts
                   if {"id": vocab.CATEGORY} in s.get("context", {}).get("contextActivities", {}).get("category", [])]
        # satisfied follows the statement that met moveOn (CompletedAndPassed: the completed)
        assert defined == ["launched", "initialized", "passed", "completed", "satisfied", "terminated"]
        answered = [s for s in stmts if s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/answered"]
        assert len(answered) == 5 and all(s["result"]["success"] for s in answered)
        assert all(s["context"]["extensions"][vocab.SESSION_ID] == launch["session_id"] for s in stmts)
        passed = next(s for s in stmts if s["verb"]["id"] == vocab.PASSED)
        assert passed["result"]["score"]["scaled"] == 1 and passed["object"]["id"] == launch["activity_id"]
        progress = call(server, auth, "GET", f"/cmi5/api/registrations/{reg}")
        assert progress["satisfied"] and progress["aus"][0]["passed"] and progress["aus"][0]["completed"]


def answer(page, qid):
    for option in ANSWERS[qid]:
        page.check(f"#q-{qid}-{option}")
    page.click(f"fieldset[data-question='{qid}'] button.check")
    page.wait_for_selector(f"fieldset[data-question='{qid}'] .feedback.right")


def pass_hand_hygiene(page):
    """From the module's first page to its result: every answer right, passed."""
    page.wait_for_selector("h1:has-text('Hvorfor håndhygiene?')")
    page.click("button.next")
    for qid in ("hh-foer-aseptisk", "hh-hansker"):
        answer(page, qid)
    page.click("button.next")
    for qid in ("hh-forutsetninger", "hh-tid", "hh-vask"):
        answer(page, qid)
    page.click("button.finish")
    page.wait_for_selector(".result.passed")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_learner_resumes_from_the_bookmark_and_the_left_session_is_abandoned(kind, tmp_path):
    with fresh_database(kind, tmp_path, "resume") as url, Server(url, workers=1, threads=4) as server:
        key, secret = server.credential("cmi5/admin", "all/read")
        auth = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
        cli.main(["publish", os.path.join(EXAMPLES, "handhygiene"), "--lrs", server.url, "--key", key,
                  "--secret", secret])
        [course] = call(server, auth, "GET", "/cmi5/api/courses")["courses"]
        path = f"/cmi5/api/courses/{course['id']}/launch"
        first = call(server, auth, "POST", path, {"employee_id": "e1001"})
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(first["url"])
            page.click("button.next")
            answer(page, "hh-foer-aseptisk")
            page.wait_for_load_state("networkidle")
            page.close()  # the learner closes the window without finishing
            again = call(server, auth, "POST", path, {"employee_id": "e1001", "registration": first["registration"]})
            page = browser.new_page()
            page.goto(again["url"])
            page.wait_for_selector("h1:has-text('De fem øyeblikkene')")  # back on the page where they left
            assert page.is_checked("#q-hh-foer-aseptisk-b") and page.is_disabled("#q-hh-foer-aseptisk-b")
            browser.close()
        reg = first["registration"]
        stmts = call(server, auth, "GET", f"/xapi/statements?registration={reg}&ascending=true&limit=100")["statements"]
        abandoned = [s for s in stmts if s["verb"]["id"] == vocab.ABANDONED]
        assert [s["context"]["extensions"][vocab.SESSION_ID] for s in abandoned] == [first["session_id"]]
        launched = [s["context"]["extensions"][vocab.SESSION_ID] for s in stmts if s["verb"]["id"] == vocab.LAUNCHED]
        assert launched == [first["session_id"], again["session_id"]]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_module_served_from_another_origin_reports_across_origins(kind, tmp_path):
    """The module's files on a web server of their own (another origin than the LRS), imported as a cmi5.xml with
    an absolute AU URL: the AU fetches its token and posts its statements cross-origin (CORS preflights on the
    fetch URL and on /xapi), and the session completes. Content that appends "/statements" to the endpoint itself
    reaches the LRS too, with or without a slash of its own: no redirect a preflight cannot follow."""
    root = tmp_path / "web"
    with zipfile.ZipFile(build(os.path.join(EXAMPLES, "handhygiene"), str(tmp_path))) as z:
        z.extractall(root)
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=web.serve_forever, daemon=True).start()
    content = f"http://127.0.0.1:{web.server_address[1]}"
    try:
        with fresh_database(kind, tmp_path, "origin") as url, Server(url, workers=1, threads=4) as server:
            assert content != server.url
            key, secret = server.credential("cmi5/admin", "all/read")
            auth = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
            xml = (root / "cmi5.xml").read_bytes().replace(b"<url>au/index.html</url>",
                                                            f"<url>{content}/au/index.html</url>".encode())
            req = urllib.request.Request(server.url + "/cmi5/api/courses", data=xml, method="POST",
                                         headers={"Authorization": auth, "Content-Type": "application/xml"})
            with urllib.request.urlopen(req, timeout=30) as r:
                course = json.loads(r.read())
            launch = call(server, auth, "POST", f"/cmi5/api/courses/{course['id']}/launch", {"employee_id": "e1001"})
            assert launch["url"].startswith(content + "/au/index.html?endpoint=")

            with playwright.sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
                page = browser.new_page()
                errors, failed = [], []
                page.on("pageerror", lambda e: errors.append(str(e)))
                # (a 404 of a state not yet written is logged too: only a blocked request counts here)
                page.on("console", lambda m: ("CORS" in m.text or "blocked" in m.text) and errors.append(m.text))
                page.on("requestfailed", lambda r: failed.append(r.url))
                page.goto(launch["url"])
                pass_hand_hygiene(page)
                page.wait_for_load_state("networkidle")
                # Content of its own making: endpoint + "/statements", and the doubled slash an endpoint with a
                # trailing slash gave. A preflighted request that a redirect broke would throw here.
                endpoint = parse_qs(urlsplit(launch["url"]).query)["endpoint"][0]
                assert endpoint == server.url + "/xapi"
                statuses = page.evaluate("""async (urls) => Promise.all(urls.map(async (u) => {
                    const r = await fetch(u, {headers: {"X-Experience-API-Version": "1.0.3",
                                                        "Authorization": "Basic " + btoa("nobody:wrong")}});
                    return r.status;
                }))""", [endpoint + "/statements", endpoint + "//statements", endpoint + "/statements/"])
                assert statuses == [401, 401, 401]
                browser.close()
            assert errors == [] and failed == []

            reg = launch["registration"]
            stmts = call(server, auth, "GET",
                         f"/xapi/statements?registration={reg}&ascending=true&limit=100")["statements"]
            defined = [vocab.name(s["verb"]["id"]) for s in stmts
                       if {"id": vocab.CATEGORY} in s.get("context", {}).get("contextActivities", {}).get("category", [])]
            assert defined == ["launched", "initialized", "passed", "completed", "satisfied", "terminated"]
            launched = next(s for s in stmts if s["verb"]["id"] == vocab.LAUNCHED)
            assert launched["context"]["extensions"][vocab.LAUNCH_URL] == content + "/au/index.html"
            progress = call(server, auth, "GET", f"/cmi5/api/registrations/{reg}")
            assert progress["satisfied"] and progress["sessions"][0]["terminated_at"]
    finally:
        web.shutdown()
        web.server_close()

