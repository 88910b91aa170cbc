"""The admin in a real browser at a PC's and a phone's width: signing in lands on the admin page, whose first screen
counts users, keys and failures; roles are given as named checkboxes and units from the unit tree; a key is
revoked only after a page saying what that stops; the audit log says who did it by name."""
import pytest

from tests.roles_journey_support import (axe_clean, chromium_fixture, in_first_screen,  # noqa: F401 (fixtures)
                                         roles_site_fixture, screen_fixture, sign_in_as, skip_without_chromium,
                                         snap_fixture)

pytestmark = pytest.mark.xdist_group("server")
skip_without_chromium()


def test_admin_gives_roles_revokes_a_key_and_sees_who_did_what(roles_site, screen, snap):
    page = screen
    name = "Per Olsen" if page.width_name == "pc" else "Kari Nordmann"
    sign_in_as(page, roles_site, "admin")
    page.wait_for_url("**/admin")
    assert in_first_screen(page, page.get_by_role("heading", name="Administrasjon", exact=True))
    assert in_first_screen(page, page.get_by_role("link", name="brukere", exact=False).first)
    assert in_first_screen(page, page.get_by_role("link", name="aktive API-nøkler"))
    axe_clean(page)
    snap(page, "admin-oversikt")

    page.reload()
    page.get_by_role("link", name=f"Endre roller {name}").click()
    assert in_first_screen(page, page.get_by_role("heading", name=f"Roller for {name}"))
    roles = page.get_by_role("group", name="Roller")
    assert roles.get_by_label("Ansatt").is_checked() and not roles.get_by_label("Leder").is_checked()
    assert in_first_screen(page, roles.get_by_label("Instruktør"))
    axe_clean(page)
    snap(page, "admin-roller")
    page.reload()
    page.get_by_role("group", name="Roller").get_by_label("Leder").check()
    page.get_by_label("Driftsavdelingen").check()
    page.get_by_role("button", name="Lagre").click()
    page.wait_for_url("**/admin#users")
    assert page.get_by_role("status").filter(has_text=f"Rollene til {name} er endret.").is_visible()
    row = page.get_by_role("row").filter(has_text=name)
    assert "Ansatt, Leder" in row.inner_text() and "Driftsavdelingen" in row.inner_text()

    key_row = page.get_by_role("row").filter(has_text=f"Moodle ({page.width_name})")
    key_row.get_by_role("link", name="Trekk tilbake").click()
    assert in_first_screen(page, page.get_by_role("heading", name="Trekke tilbake API-nøkkelen?"))
    confirm = page.get_by_role("button", name="Trekk tilbake nøkkelen")
    assert in_first_screen(page, confirm)
    assert f"Moodle ({page.width_name})" in page.locator("main").inner_text()
    axe_clean(page)
    snap(page, "admin-trekk-tilbake")
    page.reload()
    page.get_by_role("button", name="Trekk tilbake nøkkelen").click()
    page.wait_for_url("**/admin#credentials")
    assert page.get_by_role("status").filter(has_text="er trukket tilbake").is_visible()
    key_row = page.get_by_role("row").filter(has_text=f"Moodle ({page.width_name})").first
    assert "trukket tilbake" in key_row.inner_text()
    audit = page.get_by_role("region", name="Revisjonslogg")
    first = audit.get_by_role("row").nth(1).inner_text()
    assert "Åse Admin" in first and "credential-revoked" in first
    axe_clean(page)
