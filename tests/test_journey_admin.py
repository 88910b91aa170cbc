"""The admin in a real browser at a PC's and a phone's width: signing in lands on the admin page, whose first screen
counts users, keys and failures; roles are given as named checkboxes and units from the unit tree; a key is
revoked only after a page saying what that stops; the audit log says who did it by name."""
import pytest

from tests.browser_support import axe_check, in_first_screen, shoot, sign_in

pytestmark = pytest.mark.xdist_group("server")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_admin_gives_roles_revokes_a_key_and_sees_who_did_what(new_page, size):
    page = new_page(size)
    name = "Kari Nordmann" if size == "desktop" else "Ivar Instruktør"
    sign_in(page, "admin")
    page.wait_for_url("**/admin")
    assert in_first_screen(page, page.get_by_role("heading", name="Administrasjon", exact=True))
    assert in_first_screen(page, page.get_by_role("link", name="brukere", exact=False).first)
    assert in_first_screen(page, page.get_by_role("link", name="aktive API-nøkler"))
    axe_check(page)
    shoot(page, f"admin-oversikt-{size}", full_page=False)

    page.reload()
    page.get_by_role("link", name=f"Endre roller {name}").click()
    assert in_first_screen(page, page.get_by_role("heading", name=f"Roller for {name}"))
    roles = page.get_by_role("group", name="Roller")
    assert not roles.get_by_label("Leder").is_checked()
    assert in_first_screen(page, roles.get_by_label("Instruktør"))
    axe_check(page)
    shoot(page, f"admin-roller-{size}", full_page=False)
    page.reload()
    page.get_by_role("group", name="Roller").get_by_label("Leder").check()
    page.get_by_label("Driftsavdelingen").check()
    page.get_by_role("button", name="Lagre").click()
    page.wait_for_url("**/admin#users")
    assert page.get_by_role("status").filter(has_text=f"Rollene til {name} er endret.").is_visible()
    row = page.get_by_role("row").filter(has_text=name)
    assert "Leder" in row.inner_text() and "Driftsavdelingen" in row.inner_text()

    page.get_by_text("Ny API-nøkkel").click()  # a key for a system, to revoke below
    page.get_by_label("Hvem bruker den").fill(f"Moodle ({size})")
    page.get_by_label("Tilganger").select_option("statements/write")
    page.get_by_role("button", name="Lag nøkkel").click()
    page.goto("/admin#credentials")

    key_row = page.get_by_role("row").filter(has_text=f"Moodle ({size})")
    key_row.get_by_role("link", name="Trekk tilbake").click()
    assert in_first_screen(page, page.get_by_role("heading", name="Trekke tilbake API-nøkkelen?"))
    confirm = page.get_by_role("button", name="Trekk tilbake nøkkelen")
    assert in_first_screen(page, confirm)
    assert f"Moodle ({size})" in page.locator("main").inner_text()
    axe_check(page)
    shoot(page, f"admin-trekk-tilbake-{size}", full_page=False)
    page.reload()
    page.get_by_role("button", name="Trekk tilbake nøkkelen").click()
    page.wait_for_url("**/admin#credentials")
    assert page.get_by_role("status").filter(has_text="er trukket tilbake").is_visible()
    key_row = page.get_by_role("row").filter(has_text=f"Moodle ({size})").first
    assert "trukket tilbake" in key_row.inner_text()
    audit = page.get_by_role("region", name="Revisjonslogg")
    first = audit.get_by_role("row").nth(1).inner_text()
    assert "Admin (admin)" in first and "credential-revoked" in first
    axe_check(page)
