"""The document resources on a real server (tests.server_support.Server: gunicorn, two worker processes), driven by TinCanPython
(tincan 1.0.0, xAPI 1.0.3) the way an outside client uses them, and by plain HTTP where tincan cannot go.

tincan 1.0.0 decodes every request body and response body as UTF-8 text, and http.client sends text as Latin-1,
so through tincan only ASCII documents travel unchanged; arbitrary bytes are checked with `requests` below. It also
sends save_state's PUT twice, and never fills Document.etag from a response (it looks for the header in a list of
tuples), so the tests read ETags from the HTTP response themselves."""
import json
import os
import threading
import uuid

import pytest
import requests
from tincan import (Activity, ActivityProfileDocument, Agent, AgentAccount, AgentProfileDocument, RemoteLRS,
                    StateDocument)

from tests.conftest import fresh_database
from tests.server_support import Server

pytestmark = pytest.mark.xdist_group("server")

VERSION = "1.0.3"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory, worker_id):
    with fresh_database(request.param, tmp_path_factory.mktemp("docs"), f"docs_{worker_id}") as url:
        server = Server(url, workers=2, threads=4, env={"LRS_SECRET_KEY": "docs-tests-secret"})
        server.start(timeout=60)
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def credential(server):
    return server.credential("state", "profile")


@pytest.fixture(scope="module")
def lrs(server, credential):
    key, secret = credential
    return RemoteLRS(endpoint=server.url + "/xapi/", username=key, password=secret, version=VERSION)


@pytest.fixture(scope="module")
def http(credential):
    s = requests.Session()
    s.auth = credential
    s.headers["X-Experience-API-Version"] = VERSION
    return s


@pytest.fixture
def activity():
    """A fresh activity per test, so tests sharing the module's server do not see each other's documents."""
    return Activity(id=f"https://kurs.helse.example.no/{uuid.uuid4()}")


def learner(name="kari"):
    return Agent(name=name.title(), account=AgentAccount(home_page="https://kompetanse.example.no", name=name))


def ok(response):
    assert response.success, (response.response.status, response.data)
    return response


def status(response):
    return response.response.status


def etag(response):
    return response.response.getheader("ETag")


def state(activity, state_id, content, content_type="application/json", agent=None, etag=None):
    return StateDocument(id=state_id, activity=activity, agent=agent or learner(), content=bytearray(content),
                         content_type=content_type, etag=etag)


def test_state_round_trip(lrs, activity):
    body = json.dumps({"bookmark": "page-7", "score": 0.5}).encode()
    ok(lrs.save_state(state(activity, "progress", body)))
    r = ok(lrs.retrieve_state(activity, learner(), "progress"))
    assert status(r) == 200
    assert r.content.content == bytearray(body)
    assert r.response.getheader("Content-Type") == "application/json"
    assert etag(r) and etag(r).startswith('"') and len(etag(r)) == 42
    assert r.response.getheader("Last-Modified")


def test_state_ascii_bytes_round_trip_with_their_content_type(lrs, activity):
    body = bytes(range(128)) * 3  # NUL and every control character: all tincan can carry unchanged
    ok(lrs.save_state(state(activity, "raw", body, "application/octet-stream")))
    r = ok(lrs.retrieve_state(activity, learner(), "raw"))
    assert r.content.content == bytearray(body)
    assert r.response.getheader("Content-Type") == "application/octet-stream"


def test_any_bytes_round_trip_over_http(server, http, activity):
    body = bytes(range(256)) * 16 + os.urandom(8192)
    for path, params in [("activities/state", {"activityId": activity.id, "agent": learner().to_json(VERSION),
                                               "stateId": "bin"}),
                         ("activities/profile", {"activityId": activity.id, "profileId": "bin"}),
                         ("agents/profile", {"agent": learner("bin-" + activity.id[-8:]).to_json(VERSION),
                                             "profileId": "bin"})]:
        url = f"{server.url}/xapi/{path}"
        r = http.put(url, params=params, data=body, headers={"Content-Type": "image/png", "If-None-Match": "*"})
        assert r.status_code == 204, r.text
        got = http.get(url, params=params)
        assert got.status_code == 200 and got.content == body
        assert got.headers["Content-Type"] == "image/png"
        assert got.headers["ETag"] == r.headers["ETag"]


def test_state_ids_and_since(lrs, activity):
    for sid in ("b", "a"):
        ok(lrs.save_state(state(activity, sid, b'{"v": 1}')))
    assert ok(lrs.retrieve_state_ids(activity, learner())).content == ["a", "b"]
    assert ok(lrs.retrieve_state_ids(activity, learner(), since="2000-01-01T00:00:00Z")).content == ["a", "b"]
    assert ok(lrs.retrieve_state_ids(activity, learner(), since="2999-01-01T00:00:00Z")).content == []
    assert ok(lrs.retrieve_state_ids(activity, learner("ola"))).content == []
    r = lrs.retrieve_state_ids(activity, learner(), since="not a time")
    assert status(r) == 400 and "since" in r.data


def test_state_save_without_etag_overwrites_under_1_0_3(lrs, activity):
    # tincan sends the PUT twice; under xAPI 1.0.3 State needs no concurrency headers, so both succeed.
    ok(lrs.save_state(state(activity, "s", b'{"v": 1}')))
    ok(lrs.save_state(state(activity, "s", b'{"v": 2}')))
    assert ok(lrs.retrieve_state(activity, learner(), "s")).content.content == bytearray(b'{"v": 2}')


def test_state_save_with_a_stale_etag_is_412(lrs, activity):
    ok(lrs.save_state(state(activity, "s", b'{"v": 1}')))
    stale = '"' + "0" * 40 + '"'
    r = lrs.save_state(state(activity, "s", b'{"v": 2}', etag=stale))
    assert status(r) == 412
    assert ok(lrs.retrieve_state(activity, learner(), "s")).content.content == bytearray(b'{"v": 1}')


def test_delete_state_with_etag(lrs, activity):
    ok(lrs.save_state(state(activity, "d", b'{"v": 1}')))
    current = etag(ok(lrs.retrieve_state(activity, learner(), "d")))
    r = lrs.delete_state(state(activity, "d", b"", etag='"' + "1" * 40 + '"'))
    assert status(r) == 412
    assert status(lrs.retrieve_state(activity, learner(), "d")) == 200
    assert status(ok(lrs.delete_state(state(activity, "d", b"", etag=current)))) == 204
    assert status(lrs.retrieve_state(activity, learner(), "d")) == 404


def test_clear_state(lrs, activity, server, http):
    for sid in ("a", "b"):
        ok(lrs.save_state(state(activity, sid, b'{"v": 1}')))
    ok(lrs.save_state(state(activity, "other", b'{"v": 1}', agent=learner("ola"))))
    assert status(ok(lrs.clear_state(activity, learner()))) == 204
    assert ok(lrs.retrieve_state_ids(activity, learner())).content == []
    assert ok(lrs.retrieve_state_ids(activity, learner("ola"))).content == ["other"]


def test_state_per_registration(lrs, activity, server, http):
    # tincan's save_state leaves the registration out, so it is written over HTTP and read back with tincan.
    registration = str(uuid.uuid4())
    params = {"activityId": activity.id, "agent": learner().to_json(VERSION), "stateId": "r",
              "registration": registration}
    assert http.put(server.url + "/xapi/activities/state", params=params, json={"reg": True}).status_code == 204
    ok(lrs.save_state(state(activity, "r", b'{"reg": false}')))
    got = ok(lrs.retrieve_state(activity, learner(), "r", registration=registration))
    assert json.loads(bytes(got.content.content)) == {"reg": True}
    assert ok(lrs.retrieve_state_ids(activity, learner(), registration=registration)).content == ["r"]
    ok(lrs.clear_state(activity, learner(), registration=registration))
    assert status(lrs.retrieve_state(activity, learner(), "r", registration=registration)) == 404
    assert json.loads(bytes(ok(lrs.retrieve_state(activity, learner(), "r")).content.content)) == {"reg": False}


def create_profile(server, http, path, params, body, content_type="application/json"):
    """tincan 1.0.0 sends If-Match only when the document has an ETag and never If-None-Match, so it cannot create
    a profile document under xAPI 1.0.3 (3.1.s3.b1: a profile PUT MUST carry one of them): plain HTTP does."""
    r = http.put(f"{server.url}/xapi/{path}", params=params, data=body,
                 headers={"Content-Type": content_type, "If-None-Match": "*"})
    assert r.status_code == 204, r.text


def test_activity_profile(server, http, lrs, activity):
    doc = ActivityProfileDocument(id="settings", activity=activity, content=bytearray(b'{"passScore": 0.8}'),
                                  content_type="application/json")
    r = lrs.save_activity_profile(doc)  # neither If-Match nor If-None-Match
    assert status(r) == 400 and "If-None-Match" in r.data
    assert status(lrs.retrieve_activity_profile(activity, "settings")) == 404
    create_profile(server, http, "activities/profile", {"activityId": activity.id, "profileId": "settings"},
                   b'{"passScore": 0.8}')
    got = ok(lrs.retrieve_activity_profile(activity, "settings"))
    assert got.content.content == bytearray(b'{"passScore": 0.8}')
    current = etag(got)

    # A second save without an ETag is refused (409): xAPI 1.0.3 requires If-Match or If-None-Match here.
    doc.content = bytearray(b'{"passScore": 0.9}')
    r = lrs.save_activity_profile(doc)
    assert status(r) == 409 and "If-Match" in r.data
    doc.etag = '"' + "2" * 40 + '"'
    assert status(lrs.save_activity_profile(doc)) == 412
    doc.etag = current
    assert status(ok(lrs.save_activity_profile(doc))) == 204
    assert ok(lrs.retrieve_activity_profile(activity, "settings")).content.content == bytearray(b'{"passScore": 0.9}')

    create_profile(server, http, "activities/profile", {"activityId": activity.id, "profileId": "notes"}, b"hei",
                   "text/plain")
    assert ok(lrs.retrieve_activity_profile_ids(activity)).content == ["notes", "settings"]
    assert ok(lrs.retrieve_activity_profile_ids(activity, since="2999-01-01T00:00:00Z")).content == []

    doc.etag = current  # stale now
    assert status(lrs.delete_activity_profile(doc)) == 412
    doc.etag = etag(ok(lrs.retrieve_activity_profile(activity, "settings")))
    assert status(ok(lrs.delete_activity_profile(doc))) == 204
    assert status(lrs.retrieve_activity_profile(activity, "settings")) == 404
    assert ok(lrs.retrieve_activity_profile_ids(activity)).content == ["notes"]


def test_agent_profile(server, http, lrs, activity):
    who = learner("ap-" + activity.id[-12:])
    doc = AgentProfileDocument(id="preferences", agent=who, content=bytearray(b'{"language": "nb-NO"}'),
                               content_type="application/json")
    assert status(lrs.save_agent_profile(doc)) == 400
    create_profile(server, http, "agents/profile", {"agent": who.to_json(VERSION), "profileId": "preferences"},
                   b'{"language": "nb-NO"}')
    got = ok(lrs.retrieve_agent_profile(who, "preferences"))
    assert got.content.content == bytearray(b'{"language": "nb-NO"}')
    assert status(lrs.save_agent_profile(doc)) == 409
    doc.etag = etag(got)
    doc.content = bytearray(b'{"language": "en-GB"}')
    ok(lrs.save_agent_profile(doc))
    assert ok(lrs.retrieve_agent_profile_ids(who)).content == ["preferences"]
    assert ok(lrs.retrieve_agent_profile_ids(learner("nobody-" + activity.id[-12:]))).content == []
    doc.etag = etag(ok(lrs.retrieve_agent_profile(who, "preferences")))
    ok(lrs.delete_agent_profile(doc))
    assert ok(lrs.retrieve_agent_profile_ids(who)).content == []


def test_post_merges_over_http(server, http, activity):
    url = server.url + "/xapi/activities/state"
    params = {"activityId": activity.id, "agent": learner().to_json(VERSION), "stateId": "m"}
    assert http.post(url, params=params, json={"x": "foo", "y": "bar"}).status_code == 204
    assert http.post(url, params=params, json={"x": "bash", "z": "faz"}).status_code == 204
    assert http.get(url, params=params).json() == {"x": "bash", "y": "bar", "z": "faz"}


@pytest.mark.parametrize("path", ["activities/state", "activities/profile", "agents/profile"])
def test_writers_with_the_same_etag_race_over_http_exactly_one_wins(server, credential, activity, path):
    """Several processes (two gunicorn workers, four threads each) and several clients: one winner per round."""
    url = f"{server.url}/xapi/{path}"
    params = {"activityId": activity.id, "agent": learner("race-" + activity.id[-12:]).to_json(VERSION)}
    if path == "activities/profile":
        del params["agent"]
    if path == "agents/profile":
        del params["activityId"]
    id_param = "stateId" if path == "activities/state" else "profileId"
    sessions = []
    for _ in range(4):
        s = requests.Session()
        s.auth = credential
        s.headers["X-Experience-API-Version"] = VERSION
        sessions.append(s)

    for round_ in range(10):
        p = {**params, id_param: f"doc-{round_}"}
        r = sessions[0].put(url, params=p, json={"writer": None}, headers={"If-None-Match": "*"})
        assert r.status_code == 204, r.text
        tag = r.headers["ETag"]
        barrier = threading.Barrier(len(sessions))
        results = [None] * len(sessions)

        def write(i):
            barrier.wait(timeout=30)
            method = sessions[i].put if i % 2 else sessions[i].post
            results[i] = method(url, params=p, json={"writer": i}, headers={"If-Match": tag}, timeout=60).status_code

        threads = [threading.Thread(target=write, args=(i,)) for i in range(len(sessions))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert sorted(results) == [204] + [412] * (len(sessions) - 1), results
        got = sessions[0].get(url, params=p)
        assert got.json()["writer"] == results.index(204)
