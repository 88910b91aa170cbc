"""The web UI in a real browser (headless Chromium via Playwright; the harness is tests/browser_support.py) against
a real server: sign in, see the plan, register evidence, attest it as a leader, see the status change, export;
axe-core finds no serious accessibility violations on the main pages. Screenshots (nb) go to LRS_SCREENSHOTS when set (`make screenshots`:
docs/screenshots/, the committed ones), else to a scratch folder."""
import pytest

from tests.browser_support import axe_check, shoot, sign_in
from tests.competence_support import days_ago

pytestmark = pytest.mark.xdist_group("server")


def test_employee_registers_evidence_leader_attests_status_changes(page, new_page):
    sign_in(page, "employee")
    page.wait_for_url("**/plan")
    assert page.get_by_role("heading", name="Min kompetanseplan").is_visible()
    axe_check(page)
    shoot(page, "min-kompetanseplan")

    page.get_by_label("Kompetanse", exact=True).select_option("HLR")
    page.get_by_label("Hva gjennomførte du?").fill("HLR-kurs, Røde Kors")
    page.get_by_label("Dato gjennomført").fill(days_ago(5).date().isoformat())
    page.get_by_label("Kursbevis (PDF, PNG eller JPEG)").set_input_files(
        files=[{"name": "kursbevis.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 kursbevis"}])
    page.get_by_role("button", name="Registrer", exact=True).click()
    page.get_by_role("status").filter(has_text="Registrert").wait_for()
    hlr = page.get_by_role("row").filter(has_text="Hjerte-lunge-redning").first
    assert "Venter på attestering" in hlr.inner_text()

    lp = new_page()
    sign_in(lp, "leader")
    lp.goto("/leader")
    assert lp.get_by_role("heading", name="Enhetsoversikt").is_visible()
    axe_check(lp)
    shoot(lp, "enhetsoversikt")
    with lp.expect_download() as download:
        lp.get_by_role("link", name="Last ned Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    lp.get_by_role("button", name="Attester HLR-kurs, Røde Kors").click()
    lp.get_by_role("status").filter(has_text="Attestert").wait_for()

    page.reload()
    hlr = page.get_by_role("row").filter(has_text="Hjerte-lunge-redning").first
    assert "Oppfylt" in hlr.inner_text() and "HLR-kurs, Røde Kors" in hlr.inner_text()


def test_admin_pages_are_accessible(page):
    sign_in(page, "admin")
    page.goto("/admin")
    assert page.get_by_role("heading", name="Administrasjon").is_visible()
    axe_check(page)
    shoot(page, "administrasjon")
    page.goto("/statements?person=E2")
    assert "https://kurs.helse.example.no/hlr" in page.content()
    axe_check(page)


def test_a_person_sees_who_read_their_records_and_admins_search_the_log(page, new_page):
    ap = new_page()
    sign_in(ap, "admin")
    ap.goto("/statements?person=E1")
    ap.goto("/admin/privacy?employee=E1")
    assert ap.title().startswith("Tilgangslogg")
    log = ap.get_by_role("row").filter(has_text="Læringsdata (søk)").first
    assert "admin" in log.inner_text() and "E1" in log.inner_text()
    axe_check(ap)
    shoot(ap, "tilgangslogg")

    sign_in(page, "kari")
    page.goto("/privacy")
    assert page.get_by_role("heading", name="Hvem har sett dataene mine").is_visible()
    seen = page.locator(".access-day li").filter(has_text="Læringsdata (søk)").first
    assert seen.inner_text().startswith("Admin, administrator: Læringsdata (søk)"), seen.inner_text()
    axe_check(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Last ned alle dataene dine (JSON)").click()
    assert download.value.suggested_filename.endswith(".json")


def test_sign_in_page_and_phone_width(new_page):
    page = new_page("phone")
    page.goto("/login")
    axe_check(page)
    sign_in(page, "employee")
    page.wait_for_url("**/plan")
    # Nothing wider than the screen but the tables, which scroll in their own box.
    assert page.evaluate("document.body.scrollWidth") <= 390 + 1
    shoot(page, "mobil-plan")


def test_instructor_logs_a_session_on_a_tablet(page):
    page.set_viewport_size({"width": 820, "height": 1180})
    sign_in(page, "instruktor")
    page.goto("/sim/new?scenario=sepsis-akutt")
    axe_check(page)
    page.reload()  # a fresh page for typing (axe leaves its script behind)
    page.get_by_label("Hvor (avdeling, rom)").fill("Akuttmottaket, rom 3")
    for n, (who, profession, role) in enumerate((("E1", "sykepleier", "teamleder"), ("E2", "lis", "lege")), 1):
        row = page.get_by_role("group", name=f"Deltaker {n}")
        row.get_by_label("Ansattnr.").fill(who)
        row.get_by_label("Yrke").fill(profession)
        row.get_by_label("Rolle i scenarioet").fill(role)
    page.get_by_label("Samlet vurdering av teamets ikke-tekniske ferdigheter (1–10)").fill("8")
    page.get_by_label("Varighet (minutter)").fill("20")
    page.get_by_label("Tidspunkt").fill("2026-11-24T09:15")
    shoot(page, "simulering-logg-okt")
    page.get_by_role("button", name="Logg økten").click()
    page.wait_for_url("**/sim/", timeout=5000)
    assert page.url.endswith("/sim/"), page.locator("main").inner_text()[:300]
    page.get_by_role("status").filter(has_text="Økten er logget").wait_for()
    assert "1 økter, 2 deltakelser." in page.content()
    axe_check(page)
    shoot(page, "simulering-mine-okter")


def test_employee_takes_a_module_from_the_plan_and_the_requirement_is_fulfilled(site, page):
    """The whole way: the plan, the cmi5 module (launched by the LRS as LMS), the answers, passed, and the plan
    again, where the competence engine has made the passed module evidence."""
    from tests.test_cmi5_browser import ANSWERS, pass_hand_hygiene
    sign_in(page, "employee")
    page.wait_for_url("**/plan")
    row = page.get_by_role("row").filter(has_text="Håndhygiene").first
    assert "Ikke forfalt ennå" in row.inner_text()
    row.get_by_role("button", name="Start kurset").click()
    pass_hand_hygiene(page)
    assert set(ANSWERS) == {"hh-foer-aseptisk", "hh-hansker", "hh-forutsetninger", "hh-tid", "hh-vask"}
    # The engine's job reads new statements every two seconds.
    for _ in range(30):
        page.goto("/plan")
        row = page.get_by_role("row").filter(has_text="Håndhygiene").first
        if "Oppfylt" in row.inner_text():
            break
        page.wait_for_timeout(1000)
    assert "Oppfylt" in row.inner_text(), row.inner_text()
    shoot(page, "plan-etter-modul")

    # The author sees the module's numbers, this pass among them.
    page.get_by_role("button", name="Logg ut").click()
    sign_in(page, "forfatter")
    page.goto("/author")
    cells = page.get_by_role("row").filter(has_text="Håndhygiene").first.inner_text()
    assert "HAND" in cells and "100 %" in cells, cells
    axe_check(page)
    shoot(page, "mine-moduler")
