"""The employee's journey in a real browser (Chromium via Playwright, the shared harness tests/browser_support.py)
against a real server, at 1366×768 and on a phone (390×844): the plan answers "what must I do, and by when?" in the
first screen without scrolling (the summary in words and the next action), the Start button stays beside its
status, the next action leads to the registration form, a form error is shown beside its field with what was
typed kept, the privacy page is in the menu and in plain words, and a wrong address is a page with a way back.
axe-core finds no serious or critical violation on any of these pages, at both widths. Screenshots (nb) go to
LRS_SCREENSHOTS (`make screenshots`: docs/screenshots) or a scratch folder."""
import pytest

from tests.browser_support import at_width, axe_check, in_first_screen, menu, shoot, sign_in
from tests.competence_support import days_ago, passed_hlr

pytestmark = pytest.mark.xdist_group("server")
SIZES = ["desktop", "phone"]


@pytest.fixture(scope="module")
def kari_hlr(site):
    """Kari's HLR course, passed 340 days ago: it runs out in about 25 days."""
    import requests
    key, secret = site.server.credential("statements/write")
    r = requests.post(site.url + "/xapi/statements", json=[passed_hlr("E1", days_ago(340))],
                      auth=(key, secret), headers={"X-Experience-API-Version": "1.0.3"}, timeout=10)
    assert r.status_code == 200, r.text


def open_plan(page):
    """Kari's plan, once the engine (every two seconds) has made her HLR course evidence."""
    sign_in(page, "employee")
    page.wait_for_url("**/plan")
    hlr = page.locator("tr.plan-row").filter(has_text="Hjerte-lunge-redning")
    for _ in range(30):
        if "Går snart ut" in hlr.inner_text():
            return
        page.wait_for_timeout(1000)
        page.reload()
    raise AssertionError(hlr.inner_text())


@pytest.mark.parametrize("size", SIZES)
def test_the_plan_answers_what_to_do_and_by_when_in_the_first_screen(kari_hlr, page, size):
    at_width(page, size)
    open_plan(page)
    summary = page.locator("#summary-text")
    assert summary.inner_text().startswith("1 går ut om ") and "neste frist" in summary.inner_text()
    action = page.locator(".next-action").get_by_role("link", name="Registrer gjennomført opplæring")
    assert "Hjerte-lunge-redning" in page.locator(".next-action").inner_text()
    assert in_first_screen(page, summary) and in_first_screen(page, action), size
    # Nothing wider than the screen: on a phone the plan is a list of cards, not a table to scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    # The module's Start button is beside the status of its requirement, on the screen, at every width.
    row = page.get_by_role("row").filter(has_text="Håndhygiene").first
    status, start = row.locator(".status"), row.get_by_role("button", name="kurset")
    s, b = status.bounding_box(), start.bounding_box()
    assert b["x"] + b["width"] <= page.viewport_size["width"]
    assert abs((b["y"] + b["height"] / 2) - (s["y"] + s["height"] / 2)) < 40, (s, b)
    # Most urgent first: HLR, which runs out soon; its evidence by name and date, never an IRI.
    first = page.locator("tr.plan-row").first
    assert "Hjerte-lunge-redning" in first.inner_text() and "Går ut" in first.inner_text()
    assert "Kurs bestått, " in first.inner_text() and "https://" not in first.inner_text()
    axe_check(page)
    shoot(page, f"ansatt-plan-{size}")
    shoot(page, f"ansatt-plan-{size}-forste-skjerm", full_page=False)


@pytest.mark.parametrize("size", SIZES)
def test_the_next_action_leads_to_the_form_whose_errors_keep_what_was_typed(kari_hlr, page, size):
    at_width(page, size)
    open_plan(page)
    if "Hjerte-lunge-redning" in page.locator(".next-action").inner_text():
        page.locator(".next-action").get_by_role("link", name="Registrer gjennomført opplæring").click()
    else:  # registered at the other width already: it waits for attestation, and the row's link is the way
        page.locator("tr.plan-row").filter(has_text="Hjerte-lunge-redning").get_by_role("link", name="Registrer").click()
    assert page.get_by_label("Kompetanse", exact=True).input_value() == "HLR"
    page.get_by_label("Hva gjennomførte du?").fill("HLR-kurs, Røde Kors")
    page.get_by_role("button", name="Registrer", exact=True).click()  # no date
    summary = page.get_by_role("alert").filter(has_text="Skjemaet har feil som må rettes")
    summary.wait_for()
    assert "Dato gjennomført: Skriv datoen da du ble ferdig." in summary.inner_text()
    assert page.get_by_label("Hva gjennomførte du?").input_value() == "HLR-kurs, Røde Kors"
    assert page.locator("#completed_on-error").is_visible()
    axe_check(page)
    shoot(page, f"ansatt-skjemafeil-{size}", full_page=False)
    summary.get_by_role("link").first.click()
    page.get_by_label("Dato gjennomført").fill(days_ago(5).date().isoformat())
    page.get_by_role("button", name="Registrer", exact=True).click()
    page.get_by_role("status").filter(has_text="Registrert").wait_for()
    registered = page.get_by_role("row").filter(has_text="HLR-kurs, Røde Kors").first
    assert "Venter på attestering" in registered.inner_text()
    # Done for now: the summary says it waits, and the next action is the next thing to do.
    assert "1 venter på attestering" in page.locator("#summary-text").inner_text()
    assert "Hjerte-lunge-redning" not in page.locator(".next-action").inner_text()


@pytest.mark.parametrize("size", SIZES)
def test_privacy_is_in_the_menu_and_a_wrong_address_has_a_way_back(kari_hlr, page, new_page, size):
    leader = new_page()
    sign_in(leader, "leader")
    leader.goto("/employees/E1")  # Kari's leader reads her plan
    assert leader.get_by_role("heading", name="Kompetanseplan for Kari Nordmann").is_visible()

    at_width(page, size)
    sign_in(page, "employee")
    menu(page).get_by_role("link", name="Personvern").click()
    page.get_by_role("heading", name="Hvem har sett dataene mine").wait_for()  # the click only starts the navigation
    # In plain words: who by name, the role and the unit by name, what they saw; no codes, scopes or ids.
    read = page.locator(".access-day li").filter(has_text="Lise Leder").first
    assert "leder for Medisinsk klinikk: Kompetanseplan (nettside)" in read.inner_text()
    assert "leader:" not in page.content() and "scope:" not in page.content()
    axe_check(page)
    shoot(page, f"ansatt-personvern-{size}")
    page.goto("/finnes-ikke")
    assert page.get_by_role("heading", name="Fant ikke siden").is_visible()
    assert in_first_screen(page, page.get_by_role("link", name="Til forsiden"))
    axe_check(page)
    shoot(page, f"feilside-404-{size}", full_page=False)
    page.get_by_role("link", name="Til forsiden").click()
    page.wait_for_url("**/plan")
