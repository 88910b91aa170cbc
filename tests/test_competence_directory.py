"""The employee directory for other systems (GET /api/competence/directory/employees, scope competence/directory),
which simulation/ asks instead of reading the LRS's tables; and the in-app credential a plugin gets from the LRS."""
import glob
import json

import pytest
from flask import g

from lrs.principal import Principal
from tests.competence_support import HOME, load_trust
from tests.conftest import XAPIClient, basic

URL = "/api/competence/directory/employees"


def test_it_says_who_is_an_employee_and_the_agent_that_is_them(app, client_for):
    load_trust(app)
    r = client_for("competence/directory").get(URL, query_string=[("id", "E1"), ("id", "NOBODY"), ("id", "E1")])
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"employees": [
        {"id": "E1", "known": True, "agent": {"objectType": "Agent", "account": {"homePage": HOME, "name": "E1"}}},
        {"id": "NOBODY", "known": False,
         "agent": {"objectType": "Agent", "account": {"homePage": HOME, "name": "NOBODY"}}}]}


@pytest.mark.parametrize("query, status, message", [
    ([], 400, "give one or more employee ids"),
    ([("id", str(i)) for i in range(501)], 400, "at most 500 ids"),
])
def test_bad_lookups_are_refused_saying_why(app, client_for, query, status, message):
    r = client_for("competence/directory").get(URL, query_string=query)
    assert r.status_code == status and message in r.get_json()["error"]["message"]


def test_only_a_credential_with_the_scope_may_look(app, client_for):
    assert app.test_client().get(URL, query_string={"id": "E1"}).status_code == 401
    r = client_for("statements/read").get(URL, query_string={"id": "E1"})
    assert r.status_code == 403 and "competence/directory" in r.get_json()["error"]["message"]


def test_it_is_in_the_openapi_description(app):
    spec = app.test_client().get("/api/competence/openapi.json").get_json()
    assert "get" in spec["paths"][URL]


def test_a_kept_plugin_credential_without_a_newer_scope_is_replaced(app, client_for):
    """simulation/'s in-app credential kept from before it needed competence/directory: the next use revokes it
    and makes one with the scopes it needs, and logging works."""
    load_trust(app)
    host = app.extensions["simulation.host"]
    old_key, old_secret = host.credential("simulation", "simulation (team-training log)", ("statements/write",))

    @app.before_request
    def _signed_in():
        g.principal = Principal("u-l1", "L1", frozenset({"instructor"}))
    r = app.test_client().post("/api/simulation/sessions", json={
        "scenario": "sepsis-akutt", "start": "2026-11-20T09:00:00+01:00", "place": "in_situ", "facilitators": ["L1"],
        "participants": [{"employee_id": "E1", "profession": "sykepleier", "role": "teamleder"}],
        "team_ratings": {"team": {"global": 8}}})
    assert r.status_code == 201, r.get_json()
    (kept,) = glob.glob(f"{app.instance_path}/simulation-credential-*.json")
    with open(kept) as f:
        assert json.load(f)["key"] != old_key
    old = XAPIClient(app.test_client(), basic(old_key, old_secret))
    assert old.post("/xapi/statements", json=[]).status_code == 401  # revoked
