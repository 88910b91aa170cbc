"""Who may ask, which versions, CORS, caching, the alternate request syntax, About."""
import json
from urllib.parse import urlencode

import pytest

from lrs import create_app
from tests.conftest import XAPIClient, basic, make_credential
from tests.helpers import new_id, post, query, statement


def test_about_needs_no_credential_and_lists_versions(app):
    r = app.test_client().get("/xapi/about")
    assert r.status_code == 200
    assert set(r.json["version"]) >= {"1.0.3", "2.0.0"}
    assert r.headers["X-Experience-API-Version"]


def test_no_credential_is_401(app):
    r = app.test_client().get("/xapi/statements", headers={"X-Experience-API-Version": "1.0.3"})
    assert r.status_code == 401 and "WWW-Authenticate" in r.headers


def test_wrong_secret_is_401(app, credential):
    r = app.test_client().get("/xapi/statements", headers={
        "X-Experience-API-Version": "1.0.3", "Authorization": basic(credential["key"], "wrong")})
    assert r.status_code == 401


def test_revoked_credential_is_401(app, xapi, credential, runner_revoke=None):
    from lrs.store.credentials import revoke
    assert query(xapi).status_code == 200
    revoke(app.extensions["lrs.engine"], credential["key"])
    assert query(xapi).status_code == 401


def test_scopes_limit_what_a_credential_may_do(client_for):
    writer, reader = client_for("statements/write"), client_for("statements/read")
    assert post(writer, statement()).status_code == 200
    assert query(writer).status_code == 403
    assert post(reader, statement()).status_code == 403
    assert len(query(reader).json["statements"]) == 1
    assert post(client_for("state"), statement()).status_code == 403
    assert query(client_for("all/read")).status_code == 200


def test_read_mine_sees_only_its_own_statements(client_for):
    mine, other = client_for("statements/write", "statements/read/mine"), client_for("statements/write")
    [own] = post(mine, statement()).json
    [theirs] = post(other, statement()).json
    assert [s["id"] for s in query(mine).json["statements"]] == [own]
    assert mine.get(f"/xapi/statements?statementId={theirs}").status_code == 404


@pytest.mark.parametrize("version", ["1.0", "1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0", "2.0.0"])
def test_every_1_0_x_and_2_0_x_version_is_served(xapi, version):
    xapi.version = version
    r = query(xapi)
    assert r.status_code == 200
    assert r.headers["X-Experience-API-Version"] == ("2.0.0" if version.startswith("2") else "1.0.3")


@pytest.mark.parametrize("version", [None, "0.95", "0.9", "1.1.0", "3.0.0", "latest"])
def test_missing_or_unsupported_versions_are_rejected(xapi, version):
    xapi.version = version
    r = query(xapi)
    assert r.status_code == 400 and "X-Experience-API-Version" in r.json["error"]["message"]


@pytest.mark.parametrize("version, answered", [("1.0", "1.0.3"), ("1.0.3", "1.0.3"), ("2.0", "2.0.0"),
                                               ("2.0.0", "2.0.0")])
def test_every_answer_says_the_version_the_request_named(app, version, answered):
    # Refusals too: a 1.0.3 client that gets 401, 404 or 405 reads a 1.0.3 answer (xAPI 1.0.3 3.3.s3.b1).
    stranger = XAPIClient(app.test_client(), basic("nobody", "wrong"), version)
    for r, status in ((stranger.get("/xapi/statements"), 401), (stranger.get("/xapi/nowhere"), 404),
                      (stranger.request("DELETE", "/xapi/statements"), 405), (stranger.get("/xapi/about"), 200),
                      (stranger.request("OPTIONS", "/xapi/statements"), 204)):
        assert (r.status_code, r.headers["X-Experience-API-Version"]) == (status, answered)
    r = app.test_client().post("/xapi/statements?method=GET", **form(**{"X-Experience-API-Version": version}))
    assert (r.status_code, r.headers["X-Experience-API-Version"]) == (401, answered)


@pytest.mark.parametrize("setting, default", [(None, "2.0.0"), ("1.0", "1.0.3"), ("1.0.3", "1.0.3"), ("2.0", "2.0.0")])
def test_a_request_naming_no_version_is_answered_in_the_default_version(db_url, monkeypatch, setting, default):
    # Nothing in such a request says which version the client speaks; LRS_XAPI_DEFAULT_VERSION decides
    # (docs/conformance.md: the 1.0.3 and 2.0 suites send the same request and expect 1.0.3 and 2.0.0).
    if setting:
        monkeypatch.setenv("LRS_XAPI_DEFAULT_VERSION", setting)
    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test"})
    try:
        cred = make_credential(app)
        for version in (None, "0.9", "1.1.0", "latest"):
            r = XAPIClient(app.test_client(), basic(cred["key"], cred["secret"]), version).get("/xapi/statements")
            assert (r.status_code, r.headers["X-Experience-API-Version"]) == (400, default)
        assert app.test_client().get("/xapi/about").headers["X-Experience-API-Version"] == default
    finally:
        app.extensions["lrs.engine"].dispose()


@pytest.mark.parametrize("setting", ["1.1", "0.9.5", "latest", ""])
def test_an_unknown_default_version_stops_the_app_at_start(tmp_path, monkeypatch, setting):
    monkeypatch.setenv("LRS_XAPI_DEFAULT_VERSION", setting)
    with pytest.raises(ValueError, match="LRS_XAPI_DEFAULT_VERSION must be one of 1.0.3, 2.0.0"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/lrs.db", "TESTING": True, "SECRET_KEY": "test"})


def test_cors_preflight_allows_xapi_headers_without_credential(app):
    r = app.test_client().options("/xapi/statements", headers={
        "Origin": "https://content.example.no", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization,x-experience-api-version,content-type,if-match"})
    assert r.status_code in (200, 204)
    assert r.headers["Access-Control-Allow-Origin"] == "https://content.example.no"
    allowed = r.headers["Access-Control-Allow-Headers"].lower()
    for h in ("authorization", "x-experience-api-version", "content-type", "if-match", "if-none-match"):
        assert h in allowed
    assert "PUT" in r.headers["Access-Control-Allow-Methods"]


def test_responses_expose_xapi_headers_and_are_never_cached(xapi):
    r = xapi.get("/xapi/statements", headers={"Origin": "https://content.example.no"})
    exposed = r.headers["Access-Control-Expose-Headers"]
    for h in ("ETag", "X-Experience-API-Version", "X-Experience-API-Consistent-Through", "Last-Modified"):
        assert h in exposed
    assert r.headers["Cache-Control"] == "no-store"
    assert "Origin" in r.headers["Vary"]
    assert xapi.get("/xapi/nowhere").headers["Cache-Control"] == "no-store"


def form(**fields):
    return {"data": urlencode(fields), "content_type": "application/x-www-form-urlencoded"}


def test_alternate_syntax_put_and_get(app, credential):
    c, auth, sid = app.test_client(), basic(credential["key"], credential["secret"]), new_id()
    r = c.post("/xapi/statements?method=PUT", **form(
        statementId=sid, Authorization=auth, **{"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"},
        content=json.dumps(statement())))
    assert r.status_code == 204, r.get_data(as_text=True)
    r = c.post("/xapi/statements?method=GET", **form(
        statementId=sid, Authorization=auth, **{"X-Experience-API-Version": "1.0.3"}))
    assert r.status_code == 200 and r.json["id"] == sid


def test_alternate_syntax_without_credential_is_401(app):
    r = app.test_client().post("/xapi/statements?method=GET", **form(**{"X-Experience-API-Version": "1.0.3"}))
    assert r.status_code == 401


def test_alternate_syntax_with_other_query_parameters_is_400(app, credential):
    auth = basic(credential["key"], credential["secret"])
    r = app.test_client().post(f"/xapi/statements?method=GET&statementId={new_id()}", **form(
        Authorization=auth, **{"X-Experience-API-Version": "1.0.3"}))
    assert r.status_code == 400


def test_alternate_syntax_with_a_body_cut_short_is_400_and_stores_nothing(app, credential):
    c, auth, sid = app.test_client(), basic(credential["key"], credential["secret"]), new_id()
    body = form(statementId=sid, Authorization=auth, content=json.dumps(statement()),
                **{"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"})
    # the client said more than it sent (it left halfway): what came must not be taken for the request
    r = c.post("/xapi/statements?method=PUT", **body,
               environ_overrides={"CONTENT_LENGTH": str(len(body["data"]) + 100)})
    assert r.status_code == 400 and "ended before its Content-Length" in r.json["error"]["message"]
    r = c.get(f"/xapi/statements?statementId={sid}",
              headers={"Authorization": auth, "X-Experience-API-Version": "1.0.3"})
    assert r.status_code == 404


def test_unknown_xapi_paths_are_json_404(xapi):
    r = xapi.get("/xapi/nowhere")
    assert r.status_code == 404 and r.json["error"]["message"]


def test_wrong_method_is_405(xapi):
    assert xapi.request("DELETE", "/xapi/statements").status_code == 405
