"""JSON bodies: one nesting limit (LRS_JSON_MAX_DEPTH) for every JSON body, answered with 400 naming it, and no
JSON body up to the size limits ever gets a 5xx (statements, documents of each kind, the rules API)."""
import json
import uuid
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import post, statement
from tests.strategies import odd_json

KARI = json.dumps({"mbox": "mailto:kari@example.no"})
ACTIVITY = "https://kurs.helse.example.no/hlr"
DOCUMENTS = {
    "state": "/xapi/activities/state?" + urlencode({"activityId": ACTIVITY, "agent": KARI, "stateId": "s"}),
    "activity profile": "/xapi/activities/profile?" + urlencode({"activityId": ACTIVITY, "profileId": "p"}),
    "agent profile": "/xapi/agents/profile?" + urlencode({"agent": KARI, "profileId": "p"}),
}
EXT = "https://kurs.helse.example.no/ext/x"
LIMIT_MESSAGE = "more than 64 levels deep; this LRS accepts at most 64 (LRS_JSON_MAX_DEPTH)"


def nested(levels: int, leaf="x"):
    """A value of `levels` nested arrays."""
    value = leaf
    for _ in range(levels):
        value = [value]
    return value


def with_extension(value) -> dict:
    """A statement whose result extension is `value`: the statement, result and extensions are 3 levels."""
    return statement(result={"extensions": {EXT: value}})


def send(xapi, method: str, target: str, body: bytes):
    """`body` to `target`: statements (POST, PUT), a document (PUT, POST) or the rules API (PUT)."""
    if target == "statements":
        path = "/xapi/statements" + (f"?statementId={uuid.uuid4()}" if method == "PUT" else "")
    elif target == "rules":
        path = "/api/competence/rules/odd"
    else:
        path = DOCUMENTS[target]
    return xapi.request(method, path, data=body, headers={"Content-Type": "application/json"})


TARGETS = [("POST", "statements"), ("PUT", "statements"), ("PUT", "rules")] + [
    (m, d) for d in DOCUMENTS for m in ("PUT", "POST")]


@pytest.mark.parametrize("method, target", TARGETS)
@pytest.mark.parametrize("levels", [65, 300, 1100, 100_000])
def test_a_body_nested_deeper_than_the_limit_is_refused_naming_it(xapi, method, target, levels):
    body = json.dumps({"a": nested(levels - 1)}) if levels < 500 else '{"a":' + "[" * levels + "]" * levels + "}"
    r = send(xapi, method, target, body.encode())
    assert r.status_code == 400, r.get_data(as_text=True)
    assert LIMIT_MESSAGE in r.json["error"]["message"]


def test_a_statement_exactly_at_the_limit_is_stored_and_one_level_more_is_not(xapi):
    at_limit = with_extension(nested(61))  # 3 + 61 = 64 levels
    r = post(xapi, at_limit)
    assert r.status_code == 200, r.get_data(as_text=True)
    got = xapi.get(f"/xapi/statements?statementId={r.json[0]}").json
    assert got["result"]["extensions"][EXT] == nested(61)
    r = post(xapi, [with_extension("ok"), with_extension(nested(62))])
    assert r.status_code == 400 and LIMIT_MESSAGE in r.json["error"]["message"]
    assert len(xapi.get("/xapi/statements").json["statements"]) == 1  # nothing of the refused batch


def test_the_limit_is_a_setting(app, xapi):
    app.config["JSON_MAX_DEPTH"] = 8
    r = post(xapi, with_extension(nested(6)))
    assert r.status_code == 400
    assert "more than 8 levels deep; this LRS accepts at most 8 (LRS_JSON_MAX_DEPTH)" in r.json["error"]["message"]
    assert post(xapi, with_extension(nested(5))).status_code == 200


def test_a_deep_multipart_statement_part_is_refused(xapi):
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{json.dumps(with_extension(nested(100)))}\r\n"
            f"--{boundary}--\r\n").encode()
    r = xapi.post("/xapi/statements", data=body, headers={"Content-Type": f"multipart/mixed; boundary={boundary}"})
    assert r.status_code == 400 and "part 1 (the statements) nests" in r.json["error"]["message"]


# Where the odd JSON goes: the whole body, or one value inside a statement or a document.
_STATEMENT = json.dumps(statement(result={"extensions": {EXT: "@ODD@"}}))
PLACES = {
    "whole body": "@ODD@",
    "result extension": _STATEMENT,
    "context extension": json.dumps(statement(context={"extensions": {EXT: "@ODD@"}})),
    "actor name": json.dumps(statement(actor={"name": "@ODD@", "mbox": "mailto:kari@example.no"})),
    "statement id": json.dumps(statement(id="@ODD@")),
    "in a batch": "[" + _STATEMENT + "," + _STATEMENT + "]",
    "document property": '{"a":1,"b":"@ODD@"}',
}


@pytest.mark.parametrize("method, target", TARGETS)
def test_no_json_body_gets_a_5xx(xapi, method, target):
    @given(st.sampled_from(sorted(PLACES)), odd_json())
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    def check(place, odd):
        body = PLACES[place].replace('"@ODD@"', odd).encode("utf-8", "surrogatepass")
        r = send(xapi, method, target, body)
        assert r.status_code < 500, (place, body[:200], r.get_data(as_text=True)[:500])
    check()


def test_the_cookie_authenticated_json_api_has_the_same_limit(app, trust, sign_in):
    """Flask's get_json reads these bodies: a body nested too deep is invalid JSON there (400), not a 500."""
    from tests.competence_support import EMPLOYEE_E1
    web = app.test_client()
    sign_in(EMPLOYEE_E1)
    body = '{"competence":"HLR","title":' + "[" * 100_000 + "]" * 100_000 + "}"
    r = web.post("/api/competence/me/evidence", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.get_data(as_text=True)[:300]
