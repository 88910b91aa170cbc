"""Issue 20, the instructor's, author's and admin's parts through the Flask test client: each role lands on its own
page; the admin's roles, units, key revocation and audit log; the author's module upload and its competence
codes."""
import io
import os

import pytest

from course_builder.build import build
from lrs.competence import imports

from lrs.store.db import write_transaction
from lrs.web import accounts
from lrs.store.db import read_transaction
from tests.conftest import make_credential
from tests.helpers import create_people, password_hash, sign_in, token_of

pytestmark = pytest.mark.usefixtures("trust")


@pytest.fixture
def people(app):
    engine = app.extensions["lrs.engine"]
    create_people(engine)
    with write_transaction(engine) as conn:
        accounts.create(conn, "instruktor", "Ine Instruktør", ["instructor"], password_hash())
        accounts.create(conn, "forfatter", "Frida Forfatter", ["author"], password_hash())
        accounts.create(conn, "ingen", "Ingen Rolle", [], password_hash())


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
    with read_transaction(app.extensions["lrs.engine"]) as conn:
        return next(u for u in accounts.all_users(conn) if u["username"] == username)


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
    text = r.get_data(as_text=True)
    assert r.status_code == 400 and "Ukjent enhet: atlantis." in text
    assert '<details id="new-user" open>' in text and 'value="Ny Person"' in text  # what was typed is kept
    assert 'id="new-role-leader" name="roles" value="leader" checked>' in text
    with read_transaction(app.extensions["lrs.engine"]) as conn:
        assert "ny" not in {u["username"] for u in accounts.all_users(conn)}


def test_the_roles_on_the_admin_page_refuse_an_unknown_unit_as_the_other_forms_do(app, people):
    """One check of the units given (all three forms): an unknown unit is a 400 in words, and nothing is kept."""
    admin = app.test_client()
    sign_in(admin, "admin")
    per = _user(app, "per")
    token = token_of(admin.get("/admin").get_data(as_text=True))
    r = admin.post(f"/admin/users/{per['id']}/roles", data={"csrf_token": token, "roles": ["employee", "leader"],
                                                           "led_units": ["drift", "atlantis"]})
    assert r.status_code == 400 and "Ukjent enhet: atlantis. Velg enhetene fra enhetstreet." in r.get_data(as_text=True)
    assert (_user(app, "per")["roles"], _user(app, "per")["led_units"]) == ("employee", "")


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


EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples", "modules")


def test_author_publishes_a_module_only_when_its_competences_are_in_the_catalog(app, people, tmp_path):
    package = open(build(os.path.join(EXAMPLES, "handhygiene"), str(tmp_path)), "rb").read()
    author = app.test_client()
    sign_in(author, "forfatter")
    page = author.get("/author").get_data(as_text=True)
    assert "Publiser modulen" in page and "0 moduler publisert." in page

    def upload(data, name="handhygiene.zip"):
        return author.post("/author/publish", data={"csrf_token": token_of(page), "package": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    r = upload(package)  # the test trust's catalog has no HAND
    text = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Modulen nevner kompetansekoder som ikke finnes i katalogen: HAND." in text
    assert "<code>HLR</code> Hjerte-lunge-redning" in text and "<code>TEAM</code>" in text  # the codes that exist
    assert "0 moduler publisert." in text
    bad = upload(b"not a package", "x.zip")
    assert bad.status_code == 400 and "Pakken kan ikke publiseres" in bad.get_data(as_text=True)
    wrong = upload(b"x", "notes.txt")
    assert wrong.status_code == 400 and "en .zip eller en cmi5.xml" in wrong.get_data(as_text=True)

    with write_transaction(app.extensions["lrs.engine"]) as conn:
        imports.import_catalog(conn, app.extensions["competence.settings"], "hand.yaml", (
            "competences:\n  - {code: HAND, name_nb: Håndhygiene, name_en: Hand hygiene, area: Smittevern,"
            " validity_months: 12}\n"))
    r = upload(package)
    assert r.status_code == 302
    page = author.get("/author").get_data(as_text=True)
    assert "er publisert som versjon 1 og teller for HAND." in page and "1 modul publisert." in page
    author.get("/lang/en")
    assert "1 module published." in author.get("/author").get_data(as_text=True)
    author.get("/lang/nb")
    assert "Håndhygiene – de fem øyeblikkene" in page
    again = author.get(upload(package).headers["Location"]).get_data(as_text=True)
    assert "publisert fra før med akkurat dette innholdet (versjon 1)" in again
    employee = app.test_client()
    sign_in(employee, "kari")
    assert employee.get("/author").status_code == 403
    assert employee.post("/author/publish", data={"csrf_token": token_of(employee.get("/plan").get_data(as_text=True)),
                                                  "package": (io.BytesIO(package), "h.zip")},
                         content_type="multipart/form-data").status_code == 403


def test_the_catalog_codes_a_module_may_name_are_read_with_the_publishing_credential(app, people):
    from tests.conftest import basic
    cred = make_credential(app, ("cmi5/admin",), name="course-builder")
    r = app.test_client().get("/cmi5/api/competences", headers={"Authorization": basic(cred["key"], cred["secret"])})
    assert r.status_code == 200
    codes = {c["code"]: c for c in r.get_json()["competences"]}
    assert codes["HLR"]["name_nb"] == "Hjerte-lunge-redning" and "TEAM" in codes
    other = make_credential(app, ("statements/read",), name="reader")
    assert app.test_client().get("/cmi5/api/competences", headers={
        "Authorization": basic(other["key"], other["secret"])}).status_code == 403
