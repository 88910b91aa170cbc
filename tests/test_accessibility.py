"""Issue 20's axe proof: no serious or critical axe-core violation on any page, at 1366x768 and at 390x844, for
each role. The pages are those the role's crawl finds (tests/test_crawl.py), one of each kind (/employees/E1 stands
for every /employees/<id>), error pages among them, the sign-in page and a 404; all violations of a role are listed together."""
import re

import pytest

from tests.browser_support import ACCOUNTS, at_width, axe_check, crawl, sign_in
from tests.test_crawl import STARTS

pytestmark = pytest.mark.xdist_group("server")


def kind(path: str) -> str:
    """/employees/E1 and /employees/E2 are one kind of page; so are all statements, whatever their query."""
    return re.sub(r"/[^/]*\d[^/]*", "/<id>", path.split("?")[0])


def pages_of(page, role) -> list[str]:
    """One page of each kind the role's crawl finds, error pages among them (a 403 is a page too)."""
    visits = crawl(page, "/") | crawl(page, STARTS[role])
    one_each = {}
    for path, visit in sorted(visits.items()):
        if visit.content_type == "text/html" and not path.startswith("/lang/"):
            one_each.setdefault((kind(path), visit.status), path)
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
    return found


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_no_serious_violation_on_any_page_of_a_role(page, role):
    sign_in(page, role)
    paths = pages_of(page, role)
    assert STARTS[role] in paths, paths
    found = [v for path in paths for v in violations(page, path)]
    assert not found, f"{role} ({len(paths)} pages):\n" + "\n".join(found)


def test_no_serious_violation_on_the_sign_in_page_and_a_missing_one(page):
    assert violations(page, "/login") + violations(page, "/finnes-ikke") == []
