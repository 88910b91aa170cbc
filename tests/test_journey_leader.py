"""The leader's journey in a real browser, at 1366x768 and on a phone (390x844): the people counts and the
attestation count are in the first screen without scrolling, a count filters the matrix, the matrix keeps its
header and names in view, and a rejection with its reason reaches the employee's plan; axe finds nothing serious.
Screenshots: leder-oversikt (desktop), leder-oversikt-mobil, leder-avvis-mobil."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser_support import axe_check, in_first_screen, menu, shoot, sign_in
from tests.competence_support import days_ago

pytestmark = pytest.mark.xdist_group("server")


def register_evidence(page, title):
    """Kari registers a course taken elsewhere, for her leader to attest."""
    sign_in(page, "employee")
    page.goto("/plan")
    page.get_by_label("Kompetanse", exact=True).select_option("HLR")
    page.get_by_label("Hva gjennomførte du?").fill(title)
    page.get_by_label("Dato gjennomført").fill(days_ago(5).date().isoformat())
    page.get_by_role("button", name="Registrer", exact=True).click()
    expect(page.get_by_text("Registrert. Lederen din får den til attestering.")).to_be_visible()  # after the load


def counts_in_first_screen(page):
    counts = page.get_by_role("list", name="Personer, per status")
    for label in ("ikke i orden", "mangler noe", "har noe utløpt", "har noe som går ut snart", "i orden",
                  "til attestering"):
        link = counts.get_by_role("link", name=re.compile(rf"^\d+ {label}$"))
        assert in_first_screen(page, link), label


def test_leader_sees_counts_first_filters_and_rejects_with_a_reason(site, new_page):
    employee = new_page()
    register_evidence(employee, "HLR hos Røde Kors")

    leader = new_page("desktop")
    sign_in(leader, "leader")
    assert menu(leader).get_by_role("link", name=re.compile(r"^Enhetsoversikt \d+ til attestering$")).is_visible()
    leader.goto("/leader")
    assert leader.get_by_role("heading", name="Enhetsoversikt: Medisinsk klinikk").is_visible()
    assert leader.get_by_text(re.compile(r"^\d+ av 3 personer er i orden")).is_visible()
    counts_in_first_screen(leader)
    assert in_first_screen(leader, leader.get_by_role("link", name=re.compile(r"^\d+ til attestering$")))
    axe_check(leader)
    shoot(leader, "leder-oversikt")

    # a count is a filter: "har noe som går ut snart" lists Ola (his HLR is 340 days old)
    leader.get_by_role("link", name=re.compile(r"^1 har noe som går ut snart$")).click()
    matrix = leader.get_by_role("region", name="Kompetansematrise")
    # the click starts a page load: expect waits for the filtered page, where reading at once could see none
    expect(matrix.get_by_role("rowheader")).to_have_text(["Ola Hansen"])
    assert leader.get_by_text("Viser 1–1 av 1 personer.").is_visible()
    # the header row and the name column stay put when the matrix scrolls (CSS sticky)
    for cell in (matrix.get_by_role("columnheader", name="Ansatt"), matrix.get_by_role("rowheader").first):
        assert cell.evaluate("e => getComputedStyle(e).position") == "sticky"
    axe_check(leader)

    phone = new_page("phone")
    sign_in(phone, "leader")
    phone.goto("/leader")
    counts_in_first_screen(phone)
    axe_check(phone)
    shoot(phone, "leder-oversikt-mobil")

    # the harness's site already has Ola's course waiting; Kari's registration makes it two
    phone.get_by_role("link", name="2 til attestering", exact=True).click()
    queue = phone.locator("ul.queue > li").filter(has_text="HLR hos Røde Kors")
    attest = queue.get_by_role("button", name=re.compile("^Attester"))
    reject = queue.locator("summary").filter(has_text="Avvis")
    for control in (attest, reject):
        control.scroll_into_view_if_needed()
        box = control.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, "a decision button is off-screen on a phone"
    reject.click()
    reason = queue.get_by_label("Hvorfor avviser du? Den ansatte ser begrunnelsen.")
    assert reason.is_visible()
    reason.fill("Kursbeviset mangler: last det opp og registrer kurset på nytt.")
    axe_check(phone)
    shoot(phone, "leder-avvis-mobil", full_page=False)
    queue.get_by_role("button", name="Avvis med begrunnelse").click()
    phone.get_by_text("Avvist. Den ansatte ser begrunnelsen i planen sin.").wait_for()  # after the form's answer
    assert phone.locator("ul.queue > li").filter(has_text="HLR hos Røde Kors").count() == 0
    assert phone.get_by_role("link", name="1 til attestering", exact=True).is_visible()

    employee.goto("/plan")
    assert employee.get_by_text("Begrunnelse fra lederen: Kursbeviset mangler: last det opp og registrer kurset "
                                "på nytt.").is_visible()
