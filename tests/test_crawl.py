"""Issue 20's crawl: as each role, every same-origin link from its start page answers 2xx, so a broken link or a
page its own menu offers but refuses fails here. And who may open what: the pages of the other roles answer 403,
exactly the ones listed below per role (a page that stops checking who asks, or starts refusing, fails)."""
import pytest

from tests.browser_support import ACCOUNTS, crawl, sign_in

pytestmark = pytest.mark.xdist_group("server")

# Where each role starts besides "/" (the home page, which sends it on by role).
STARTS = {"employee": "/plan", "leader": "/leader", "instructor": "/sim/", "author": "/author", "admin": "/admin"}

# The role-bound pages (and one other person's records): which each role may not open.
GUARDED = ["/leader", "/leader/export.csv", "/employees/E1", "/employees/E2", "/employees/E3", "/statements", "/sim/",
           "/sim/new", "/author", "/admin", "/admin/privacy", "/admin/privacy/access.csv",
           "/privacy/employees/E2/export.json"]
EVERYONE_ELSES = {"/employees/E2", "/employees/E3", "/privacy/employees/E2/export.json"}
FORBIDDEN = {
    # Kari (E1, Akuttmottaket): her own plan only.
    "employee": set(GUARDED) - {"/employees/E1"},
    # Lise leads Medisinsk klinikk (E1, E2 and herself); E3 is in Driftsavdelingen.
    "leader": {"/employees/E3", "/statements", "/sim/", "/sim/new", "/author", "/admin", "/admin/privacy",
               "/admin/privacy/access.csv", "/privacy/employees/E2/export.json"},
    "instructor": {"/leader", "/leader/export.csv", "/employees/E1", "/author", "/admin", "/admin/privacy",
                   "/admin/privacy/access.csv"} | EVERYONE_ELSES,
    "author": set(GUARDED) - {"/author"},
    "admin": set(),
}


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_every_link_a_role_is_shown_answers(page, role):
    sign_in(page, role)
    visits = crawl(page, ("/", STARTS[role]))
    broken = {path: f"{v.status} (linked from {v.source or 'the start'})" for path, v in visits.items()
              if not 200 <= v.status < 300}
    assert broken == {}, f"{role}: {broken}"
    assert STARTS[role] in visits and len(visits) > 3, sorted(visits)
    if role == "leader":  # the certificate of the training waiting in the attestation queue
        assert any(path.startswith("/evidence/") for path in visits), sorted(visits)


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_each_role_is_refused_exactly_the_pages_not_its_own(page, role):
    sign_in(page, role)
    refused = {path for path in GUARDED if page.request.get(path, max_redirects=0).status == 403}
    assert refused == FORBIDDEN[role], f"{role}: refused but not listed {refused - FORBIDDEN[role]}, " \
        f"listed but not refused {FORBIDDEN[role] - refused}"
