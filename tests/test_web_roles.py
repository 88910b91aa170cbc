"""Issue 20, the instructor's, author's and admin's parts through the Flask test client: each role lands on its own
page; the admin's roles, units, key revocation and audit log; the author's module upload and its competence
codes."""
import pytest

from lrs.web import accounts
from tests.helpers import PASSWORD, create_people, sign_in

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
