"""What Moodle's logstore_xapi plugin posts when a trust points it at this LRS: batches (a JSON array per POST),
HTTP Basic auth, X-Experience-API-Version 1.0.0 (older releases 1.0.1), Content-Type application/json, and
statements shaped as its transformers make them (PHP's json_encode escapes every slash; no ids; a context
activity sometimes a single object). Every batch must answer 200: the plugin treats anything else as failed."""
import base64
import json
from pathlib import Path

import pytest

from tests.conftest import make_credential

BATCH = (Path(__file__).parent / "data" / "moodle_logstore_xapi.json").read_text()


def plugin_headers(cred, version="1.0.0"):
    """The headers logstore_xapi's loader sets (src/loader/moodle_curl_lrs.php), nothing more."""
    auth = base64.b64encode(f"{cred['key']}:{cred['secret']}".encode()).decode()
    return {"Authorization": "Basic " + auth, "X-Experience-API-Version": version,
            "Content-Type": "application/json"}


@pytest.fixture
def plugin_credential(app):
    """What an admin makes for the plugin: it writes statements and reads nothing."""
    return make_credential(app, ("statements/write",), name="Moodle logstore_xapi")


@pytest.mark.parametrize("version", ["1.0.0", "1.0.1"])
def test_the_plugins_batch_is_stored_whole(app, plugin_credential, xapi, version):
    client = app.test_client()
    assert "\\/" in BATCH  # as PHP sends it
    r = client.post("/xapi/statements", data=BATCH.encode(), headers=plugin_headers(plugin_credential, version))
    assert r.status_code == 200, r.get_json()
    ids = r.get_json()
    assert len(ids) == 5 and len(set(ids)) == 5
    sent = json.loads(BATCH)
    for sid, stmt in zip(ids, sent):
        got = xapi.get(f"/xapi/statements?statementId={sid}").get_json()
        assert got["verb"]["id"] == stmt["verb"]["id"] and got["object"]["id"] == stmt["object"]["id"]
        assert got["actor"]["account"] == stmt["actor"]["account"]
        assert got["context"]["extensions"] == stmt["context"]["extensions"]
    quiz = xapi.get(f"/xapi/statements?statementId={ids[2]}").get_json()
    assert quiz["result"]["score"] == {"raw": 9, "min": 0, "max": 10, "scaled": 0.9}
    badge = xapi.get(f"/xapi/statements?statementId={ids[4]}").get_json()
    # A single context activity is the one-element array xAPI 1.0.x asks the LRS to store it as.
    assert badge["context"]["contextActivities"]["parent"] == [sent[4]["context"]["contextActivities"]["parent"]]


def test_the_plugins_statements_are_found_by_course(app, plugin_credential, xapi):
    app.test_client().post("/xapi/statements", data=BATCH.encode(), headers=plugin_headers(plugin_credential))
    course = "https://moodle.helse.example.no/course/view.php?id=2"
    r = xapi.get("/xapi/statements", query_string={"activity": course, "related_activities": "true"})
    assert r.status_code == 200
    found = {s["object"]["id"].rsplit("/", 1)[1] for s in r.get_json()["statements"]}
    # The course itself and what is grouped or parented under it; the quiz's answers are grouped under the quiz.
    assert found == {"view.php?id=2", "view.php?id=21", "view.php?id=22", "overview.php?id=3"}


def test_with_mbox_actors_as_the_plugin_sends_when_told_to(app, plugin_credential, xapi):
    batch = json.loads(BATCH)
    for stmt in batch:
        stmt["actor"] = {"name": "Emma Hansen", "mbox": "mailto:emma@helse.example.no"}
    r = app.test_client().post("/xapi/statements", data=json.dumps(batch),
                               headers=plugin_headers(plugin_credential))
    assert r.status_code == 200
    r = xapi.get("/xapi/statements", query_string={"agent": json.dumps({"mbox": "mailto:emma@helse.example.no"})})
    assert len(r.get_json()["statements"]) == 5


def test_a_wrong_password_is_401_not_a_stored_batch(app, plugin_credential, xapi):
    headers = plugin_headers({**plugin_credential, "secret": "wrong"})
    r = app.test_client().post("/xapi/statements", data=BATCH.encode(), headers=headers)
    assert r.status_code == 401 and "credential" in r.get_json()["error"]["message"]
    assert xapi.get("/xapi/statements").get_json()["statements"] == []


def test_one_bad_statement_refuses_the_whole_batch_with_a_message(app, plugin_credential, xapi):
    batch = json.loads(BATCH)
    batch[3]["verb"]["id"] = "answered"  # not an IRI
    r = app.test_client().post("/xapi/statements", data=json.dumps(batch), headers=plugin_headers(plugin_credential))
    assert r.status_code == 400 and "verb" in r.get_json()["error"]["message"]
    assert xapi.get("/xapi/statements").get_json()["statements"] == []
