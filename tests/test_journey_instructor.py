"""The simulation instructor, who is no employee, in a real browser at a PC's and a phone's width: signing in lands
on their sessions, with the way to log one in the first screen; a session with per-participant ANTS ratings is
logged, a mistake is said in words with what was typed kept, and the session is then listed as theirs."""
import pytest

from tests.browser_support import axe_check, in_first_screen, shoot, sign_in

pytestmark = pytest.mark.xdist_group("server")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_instructor_logs_a_session_with_ratings_and_sees_it(new_page, size):
    page = new_page(size)
    sign_in(page, "instruktor")
    page.wait_for_url("**/sim/")
    assert in_first_screen(page, page.get_by_role("heading", name="Mine simuleringsøkter"))
    log_new = page.get_by_role("link", name="Logg ny økt")
    assert in_first_screen(page, log_new)
    axe_check(page)
    shoot(page, f"instruktor-mine-okter-{size}", full_page=False)

    log_new.click()
    page.get_by_label("Scenario", exact=True).select_option("hjertestans-sengepost")
    page.get_by_role("button", name="Velg").click()
    assert in_first_screen(page, page.get_by_role("heading", name="Logg simuleringsøkt"))
    axe_check(page)
    page.reload()  # a fresh page for typing (axe leaves its script behind)
    hour = "09" if size == "desktop" else "11"
    page.get_by_label("Tidspunkt").fill(f"2026-11-24T{hour}:15")
    page.get_by_label("Hvor (avdeling, rom)").fill("Sengepost 3")
    first = page.get_by_role("group", name="Deltaker 1")
    first.get_by_label("Ansattnr.").fill("E1")
    first.get_by_label("Yrke").fill("sykepleier")  # no role yet: a mistake to be told about
    first.get_by_text("Vurdering: ANTS").click()
    first.get_by_label("Oppgavehåndtering (1–4)").fill("3")
    first.get_by_label("Beslutningstaking (1–4)").fill("4")
    second = page.get_by_role("group", name="Deltaker 2")
    second.get_by_label("Ansattnr.").fill("E2")
    second.get_by_label("Yrke").fill("lis")
    second.get_by_label("Rolle i scenarioet").fill("lege")
    page.get_by_label("Samlet vurdering av teamets ikke-tekniske ferdigheter (1–10)").fill("8")
    page.get_by_role("button", name="Logg økten").click()

    summary = page.get_by_role("alert").filter(has_text="Økten er ikke logget ennå")
    assert in_first_screen(page, summary)
    assert "Deltaker 1 (E1): skriv både yrke og rolle i scenarioet." in summary.inner_text()
    first = page.get_by_role("group", name="Deltaker 1")
    assert first.get_by_label("Oppgavehåndtering (1–4)").input_value() == "3"  # kept, and shown open
    assert page.get_by_label("Hvor (avdeling, rom)").input_value() == "Sengepost 3"
    axe_check(page)
    shoot(page, f"instruktor-feil-i-skjema-{size}", full_page=False)
    first.get_by_label("Rolle i scenarioet").fill("teamleder")
    page.get_by_role("button", name="Logg økten").click()

    page.wait_for_url("**/sim/")
    status = page.get_by_role("status").filter(has_text="Økten er logget")
    assert in_first_screen(page, status)
    assert in_first_screen(page, page.get_by_text("Du har logget"))
    assert "Hjertestans på sengepost" in page.get_by_role("table").first.inner_text()
    axe_check(page)
    shoot(page, f"instruktor-okt-logget-{size}", full_page=False)
