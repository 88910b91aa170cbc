"""Property-based: generated valid statements are stored and come back equal; generated invalid ones get 400;
nothing ever answers 500."""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import post
from tests.strategies import invalid_statements, valid_statements

LRS_SETS = {"id", "stored", "authority", "version", "timestamp"}
_settings = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
def test_valid_statements_are_stored_and_returned_equal(xapi, version):
    xapi.version = version

    @_settings
    @given(valid_statements(version))
    def check(stmt):
        stmt = {k: v for k, v in stmt.items() if k not in ("id", "authority", "stored")}
        r = post(xapi, stmt)
        assert r.status_code == 200, (r.get_data(as_text=True), stmt)
        [sid] = r.json
        got = xapi.get(f"/xapi/statements?statementId={sid}").json
        assert {k: v for k, v in got.items() if k not in LRS_SETS} == \
               {k: v for k, v in stmt.items() if k not in LRS_SETS}
        for key in ("timestamp", "version"):
            if key in stmt:
                assert got[key] == stmt[key]
    check()


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
def test_invalid_statements_get_400_and_store_nothing(xapi, version):
    xapi.version = version

    @_settings
    @given(invalid_statements(version))
    def check(case):
        stmt = case[1] if isinstance(case, tuple) else case
        r = post(xapi, [stmt])
        assert r.status_code == 400, (case, r.get_data(as_text=True))
        assert r.json["error"]["message"]
    check()
    assert xapi.get("/xapi/statements").json["statements"] == []


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                      max_size=5), max_leaves=20)


def test_arbitrary_json_never_gets_a_500(xapi):
    @_settings
    @given(st.one_of(json_values, st.dictionaries(
        st.sampled_from(["actor", "verb", "object", "result", "context", "id", "timestamp", "attachments"]),
        json_values, max_size=6)))
    def check(body):
        r = xapi.post("/xapi/statements", data=json.dumps(body), content_type="application/json")
        assert r.status_code < 500, (body, r.get_data(as_text=True))
    check()
