"""Issue 20's axe proof: no serious or critical axe-core violation on any page, at 1366x768 and at 390x844, for
each role, and nothing but a table's own scroll box wider than the phone (WCAG 1.4.10). The pages are those the
role's crawl finds (tests/test_crawl.py), one of each kind (/employees/E1 stands for every /employees/<id>), error
pages among them, the sign-in page and a 404; all violations of a role are listed together. And the menu: open on a
wide screen, a "Meny" disclosure on a phone that opens from the keyboard, without JavaScript."""
import re
from urllib.parse import urlsplit

import pytest

from tests.browser_support import (ACCOUNTS, at_width, axe_check, broken_words, crawl, in_first_screen, menu,
                                   sign_in)
from tests.test_crawl import STARTS

pytestmark = pytest.mark.xdist_group("server")


def kind(path: str) -> str:
    """/employees/E1 and /employees/E2 are one kind of page; so are all statements, whatever their query."""
    return re.sub(r"/[^/]*\d[^/]*", "/<id>", path.split("?")[0])


def pages_of(page, role) -> list[str]:
    """One page of each kind the role's crawl finds, error pages among them (a 403 is a page too)."""
    visits = crawl(page, ("/", STARTS[role]))
    one_each = {}
    for path, visit in sorted(visits.items()):
        if visit.content_type == "text/html" and not path.startswith("/lang/"):  # "/" is where it leads
            one_each.setdefault((kind(urlsplit(visit.final_url).path), visit.status), path)
    return sorted(one_each.values())


def violations(page, path) -> list[str]:
    found = []
    for size in ("desktop", "phone"):
        at_width(page, size)
        page.goto(path)
        try:
            axe_check(page)
        except AssertionError as e:
            found.append(f"{size} {e}")
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > 391:
        found.append(f"phone {path} is {width} px wide: only .scroll boxes may be wider than the screen")
    if broken := broken_words(page):
        found.append(f"phone {path} breaks words in two: {', '.join(sorted(set(broken)))}")
    return found


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_no_serious_violation_on_any_page_of_a_role(page, role):
    sign_in(page, role)
    paths = pages_of(page, role)
    # An author without an employee number has one page of their own (their modules; "/" leads there too).
    assert len(paths) >= (1 if role == "author" else 2), paths
    found = [v for path in paths for v in violations(page, path)]
    assert not found, f"{role} ({len(paths)} pages):\n" + "\n".join(found)


def test_no_serious_violation_on_the_sign_in_page_and_a_missing_one(page):
    assert violations(page, "/login") + violations(page, "/finnes-ikke") == []
    page.goto("/login")
    page.get_by_label("Brukernavn").fill("kari")
    page.get_by_label("Passord").fill("feil passord")
    page.get_by_role("button", name="Logg inn").click()
    page.get_by_role("alert").wait_for()  # the error, said in words
    axe_check(page)


@pytest.mark.parametrize("javascript", [True, False])
def test_the_menu_is_a_disclosure_on_a_phone(browser, site, javascript):
    context = browser.new_context(locale="nb-NO", base_url=site.url, java_script_enabled=javascript)
    page = context.new_page()
    try:
        sign_in(page, "admin")
        link = page.get_by_role("navigation", name="Hovedmeny").get_by_role("link", name="Læringsdata")
        at_width(page, "desktop")
        assert in_first_screen(page, link)
        assert not page.get_by_text("Meny", exact=True).is_visible()

        at_width(page, "phone")
        assert not link.is_visible()
        button = page.get_by_text("Meny", exact=True)
        assert in_first_screen(page, button)
        button.focus()
        page.keyboard.press("Enter")
        assert in_first_screen(page, link)
        link.click()
        page.wait_for_url("**/statements")
        assert page.get_by_role("heading", name="Læringsdata").is_visible()
        menu(page).get_by_role("link", name="Administrasjon").click()  # the harness's way through the menu
        page.wait_for_url("**/admin")
    finally:
        context.close()
