"""Issue 20, the instructor's, author's and admin's parts through the Flask test client: each role lands on its own
page; the admin's roles, units, key revocation and audit log; the author's module upload and its competence
codes."""
import pytest

from lrs.web import accounts
from tests.helpers import PASSWORD, create_people, sign_in, token_of

pytestmark = pytest.mark.usefixtures("trust")


@pytest.fixture
def people(app):
    engine = app.extensions["lrs.engine"]
    create_people(engine)
    accounts.create(engine, "instruktor", "Ine Instruktør", ["instructor"], PASSWORD)
    accounts.create(engine, "forfatter", "Frida Forfatter", ["author"], PASSWORD)
    accounts.create(engine, "ingen", "Ingen Rolle", [], PASSWORD)


@pytest.mark.parametrize("username, lands_on", [
    ("kari", "/plan"), ("lise", "/leader"), ("instruktor", "/sim/"), ("forfatter", "/author"), ("admin", "/admin")])
def test_each_role_lands_on_its_page_after_signing_in(app, people, username, lands_on):
    client = app.test_client()
    r = sign_in(client, username)
    assert client.get(r.headers["Location"]).headers["Location"].endswith(lands_on)
    assert client.get(lands_on).status_code == 200


def test_an_account_without_a_role_is_told_so(app, people):
    client = app.test_client()
    sign_in(client, "ingen")
    r = client.get("/")
    assert r.status_code == 403 and "Kontoen din har ingen rolle her ennå" in r.get_data(as_text=True)


def _user(app, username):
    return next(u for u in accounts.all_users(app.extensions["lrs.engine"]) if u["username"] == username)


def test_admin_gives_roles_by_name_and_units_from_the_tree(app, people):
    admin = app.test_client()
    sign_in(admin, "admin")
    per = _user(app, "per")
    page = admin.get(f"/admin/users/{per['id']}").get_data(as_text=True)
    assert '<label for="role-leader"><input type="checkbox" id="role-leader" name="roles" value="leader" > Leder' in page
    assert "Instruktør" in page and "Kursforfatter" in page
    assert 'value="drift" > Driftsavdelingen</label>' in page and 'class="depth-1"' in page
    token = token_of(page)
    r = admin.post(f"/admin/users/{per['id']}", data={"csrf_token": token, "roles": ["employee", "leader"],
                                                      "led_units": ["drift", "mars"]})
    text = r.get_data(as_text=True)
    assert r.status_code == 400 and "Ukjent enhet: mars. Velg enhetene fra enhetstreet." in text
    assert 'value="leader" checked> Leder' in text and 'value="drift" checked> Driftsavdelingen' in text  # kept
    assert _user(app, "per")["led_units"] == ""
    r = admin.post(f"/admin/users/{per['id']}", data={"csrf_token": token, "roles": ["employee", "leader"],
                                                      "led_units": ["drift"]})
    assert r.status_code == 302
    assert (_user(app, "per")["roles"], _user(app, "per")["led_units"]) == ("employee leader", "drift")
    overview = admin.get("/admin").get_data(as_text=True)
    assert "<td>Ansatt, Leder</td>" in overview and "<td>Driftsavdelingen</td>" in overview
    r = admin.post("/admin/users", data={"csrf_token": token, "username": "ny", "display_name": "Ny Person",
                                         "roles": ["leader"], "led_units": ["atlantis"]}, follow_redirects=True)
    assert "Ukjent enhet: atlantis." in r.get_data(as_text=True)
    assert "ny" not in {u["username"] for u in accounts.all_users(app.extensions["lrs.engine"])}


def test_revoking_a_key_asks_first_and_the_audit_log_says_who(app, people, credential):
    admin = app.test_client()
    sign_in(admin, "admin")
    key = credential["key"]
    assert f'href="/admin/credentials/{key}/revoke"' in admin.get("/admin").get_data(as_text=True)
    confirm = admin.get(f"/admin/credentials/{key}/revoke")
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Trekke tilbake API-nøkkelen?" in text and "kan ikke angres" in text
    assert admin.get("/xapi/about").status_code == 200
    r = admin.post(f"/admin/credentials/{key}/revoke", data={"csrf_token": token_of(text)}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "er trukket tilbake" in page
    assert "<th scope=\"col\">Hvem</th>" in page and "Admin Istrator <span class=\"muted\">(admin)</span>" in page
    assert admin.get("/admin/credentials/nope/revoke").status_code == 404
