"""The document resources: State, Activity Profile and Agent Profile, under xAPI 1.0.3 and 2.0."""
import hashlib
import json
import os
import threading
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

import pytest

from lrs.store import documents as doc_store
from tests.conftest import XAPIClient, basic, make_credential

ACTIVITY = "https://kurs.helse.example.no/hlr"
OTHER_ACTIVITY = "https://kurs.helse.example.no/brann"
KARI = {"objectType": "Agent", "name": "Kari", "mbox": "mailto:kari@example.no"}
OLA = {"objectType": "Agent", "account": {"homePage": "https://kompetanse.example.no", "name": "ola"}}
REG = "9e7f6a3c-1b2d-4e5f-8a9b-0c1d2e3f4a5b"
REG2 = "0c1d2e3f-4a5b-4e5f-8a9b-9e7f6a3c1b2d"


# ------------------------------------------------------------------------------------------------ helpers

class Res:
    """One document resource: its path and how to name a document (or a context) on it."""

    def __init__(self, name, path, id_param, context):
        self.name, self.path, self.id_param, self._context = name, path, id_param, context

    def url(self, doc_id=None, **params):
        p = dict(self._context)
        p.update(params)
        if doc_id is not None:
            p[self.id_param] = doc_id
        p = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in p.items() if v is not None}
        return self.path + "?" + urlencode(p)

    def __repr__(self):
        return self.name


STATE = Res("state", "/xapi/activities/state", "stateId", {"activityId": ACTIVITY, "agent": KARI})
ACTIVITY_PROFILE = Res("activity_profile", "/xapi/activities/profile", "profileId", {"activityId": ACTIVITY})
AGENT_PROFILE = Res("agent_profile", "/xapi/agents/profile", "profileId", {"agent": KARI})
ALL = [STATE, ACTIVITY_PROFILE, AGENT_PROFILE]
PROFILES = [ACTIVITY_PROFILE, AGENT_PROFILE]


def put(c, url, body, ctype="application/json", headers=None):
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    h = {"Content-Type": ctype} if ctype else {}
    h.update(headers or {})
    return c.put(url, data=data, headers=h)


def post(c, url, body, ctype="application/json", headers=None):
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    h = {"Content-Type": ctype} if ctype else {}
    h.update(headers or {})
    return c.post(url, data=data, headers=h)


def delete(c, url, headers=None):
    return c.request("DELETE", url, headers=headers)


def sha1(data: bytes) -> str:
    return '"' + hashlib.sha1(data).hexdigest() + '"'


def error(r) -> str:
    return r.json["error"]["message"]


def create(c, res, doc_id, body, ctype="application/json", **params):
    """Make a document (If-None-Match: * so it works under every version's rules); returns its ETag."""
    r = put(c, res.url(doc_id, **params), body, ctype, {"If-None-Match": "*"})
    assert r.status_code == 204, r.get_data(as_text=True)
    return r.headers["ETag"]


@pytest.fixture(params=["1.0.3", "2.0.0"])
def client(request, xapi, xapi2):
    """The same credential speaking either version."""
    return xapi if request.param == "1.0.3" else xapi2


# ------------------------------------------------------------------------------------------------ round trips

@pytest.mark.parametrize("res", ALL, ids=repr)
def test_json_document_round_trip_with_etag_and_last_modified(client, res):
    body = b'{"x": "foo",  "y": [1, 2.50, {"z": null}]}'  # odd spacing and 2.50: kept as sent
    r = put(client, res.url("doc-1"), body, headers={"If-None-Match": "*"})
    assert r.status_code == 204
    assert r.headers["ETag"] == sha1(body)

    r = client.get(res.url("doc-1"))
    assert r.status_code == 200
    assert r.get_data() == body
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["ETag"] == sha1(body)  # xAPI 1.0.3: quoted SHA-1 hex of the contents
    modified = parsedate_to_datetime(r.headers["Last-Modified"])
    assert abs(modified - datetime.now(timezone.utc)) < timedelta(seconds=60)


@pytest.mark.parametrize("res", ALL, ids=repr)
@pytest.mark.parametrize("ctype", ["application/octet-stream", "image/png", "text/plain; charset=iso-8859-1",
                                   "application/x-custom+xml;version=2"])
def test_any_content_type_is_kept_byte_for_byte(xapi, res, ctype):
    body = bytes(range(256)) * 4 + os.urandom(4096) + b"\x00\xff\xfe"
    create(xapi, res, "bin", body, ctype)
    r = xapi.get(res.url("bin"))
    assert r.status_code == 200
    assert r.get_data() == body
    assert r.headers["Content-Type"] == ctype
    assert r.headers["ETag"] == sha1(body)


def test_text_in_a_legacy_charset_is_not_reencoded(xapi):
    body = "blåbærsyltetøy".encode("iso-8859-1")
    create(xapi, STATE, "latin1", body, "text/plain; charset=iso-8859-1")
    assert xapi.get(STATE.url("latin1")).get_data() == body


def test_put_without_content_type_is_kept_as_octet_stream(xapi):
    assert put(xapi, STATE.url("raw"), b"\x01\x02", ctype=None).status_code == 204
    r = xapi.get(STATE.url("raw"))
    assert r.headers["Content-Type"] == "application/octet-stream" and r.get_data() == b"\x01\x02"


def test_empty_document(xapi):
    assert put(xapi, STATE.url("empty"), b"", "text/plain").status_code == 204
    r = xapi.get(STATE.url("empty"))
    assert r.status_code == 200 and r.get_data() == b"" and r.headers["ETag"] == sha1(b"")


def test_head_gives_the_headers_without_the_document(xapi):
    create(xapi, STATE, "h", b"hello", "text/plain")
    r = xapi.request("HEAD", STATE.url("h"))
    assert r.status_code == 200 and r.get_data() == b""
    assert r.headers["ETag"] == sha1(b"hello") and "Last-Modified" in r.headers


@pytest.mark.parametrize("res", ALL, ids=repr)
def test_missing_document_is_404(client, res):
    r = client.get(res.url("nothing-here"))
    assert r.status_code == 404 and "nothing-here" in error(r)


def test_long_and_unicode_ids_work(xapi):
    long_id = "s" * 5000
    long_activity = ACTIVITY + "?" + "a=" + "x" * 5000
    body = b'{"ok": true}'
    create(xapi, STATE, long_id, body, activityId=long_activity)
    assert xapi.get(STATE.url(long_id, activityId=long_activity)).get_data() == body
    create(xapi, ACTIVITY_PROFILE, "prøve/ø?&=#", body)
    assert xapi.get(ACTIVITY_PROFILE.url("prøve/ø?&=#")).get_data() == body
    assert xapi.get(ACTIVITY_PROFILE.url()).json == ["prøve/ø?&=#"]


def test_the_agent_is_matched_by_its_identifier_only(xapi):
    create(xapi, STATE, "s", b"1", "text/plain")
    same = {"mbox": "mailto:kari@example.no"}  # no objectType, no name
    assert xapi.get(STATE.url("s", agent=same)).get_data() == b"1"
    assert xapi.get(STATE.url("s", agent=OLA)).status_code == 404


def test_state_keeps_an_identified_group_under_its_identifier(xapi):
    group = {"objectType": "Group", "mbox": "mailto:team@example.no"}
    create(xapi, STATE, "g", b"team", "text/plain", agent=group)
    assert xapi.get(STATE.url("g", agent=group)).get_data() == b"team"


def test_alternate_request_syntax_puts_a_document(app, credential):
    c = app.test_client()
    form = {"Authorization": basic(credential["key"], credential["secret"]), "X-Experience-API-Version": "1.0.3",
            "Content-Type": "application/json", "activityId": ACTIVITY, "agent": json.dumps(KARI),
            "stateId": "alt", "content": '{"via": "form"}'}
    r = c.post("/xapi/activities/state?method=PUT", data=form)
    assert r.status_code == 204, r.get_data(as_text=True)
    xapi = XAPIClient(c, basic(credential["key"], credential["secret"]))
    assert xapi.get(STATE.url("alt")).json == {"via": "form"}


# ------------------------------------------------------------------------------------------------ POST and merging

@pytest.mark.parametrize("res", ALL, ids=repr)
def test_post_merges_top_level_properties(client, res):
    assert post(client, res.url("m"), {"x": "foo", "y": "bar", "o": {"a": 1, "b": 2}}).status_code == 204
    r = post(client, res.url("m"), {"x": "bash", "z": "faz", "o": {"c": 3}})
    assert r.status_code == 204
    got = client.get(res.url("m"))
    # Only the top level is merged: the whole of "o" is replaced.
    assert got.json == {"x": "bash", "y": "bar", "z": "faz", "o": {"c": 3}}
    assert r.headers["ETag"] == got.headers["ETag"] == sha1(got.get_data())
    assert got.headers["Content-Type"] == "application/json"


def test_post_onto_nothing_stores_the_body_as_sent(xapi):
    body = b'{ "b": 1,\n  "a": 2 }'
    r = post(xapi, STATE.url("new"), body, "application/json; charset=utf-8")
    assert r.status_code == 204
    got = xapi.get(STATE.url("new"))
    assert got.get_data() == body and got.headers["Content-Type"] == "application/json; charset=utf-8"


def test_merge_keeps_large_integers_and_unicode_exactly(xapi):
    post(xapi, STATE.url("big"), b'{"n": 123456789012345678901234567890, "t": "\xc3\xa6\xc3\xb8\xc3\xa5"}')
    assert post(xapi, STATE.url("big"), {"extra": 1}).status_code == 204
    stored = xapi.get(STATE.url("big")).get_data()
    assert json.loads(stored) == {"n": 123456789012345678901234567890, "t": "æøå", "extra": 1}


@pytest.mark.parametrize("res", ALL, ids=repr)
def test_post_of_json_onto_a_non_json_document_is_400_and_changes_nothing(client, res):
    create(client, res, "bin", b"\x00binary", "application/octet-stream")
    r = post(client, res.url("bin"), {"x": 1})
    assert r.status_code == 400 and "application/json" in error(r)
    got = client.get(res.url("bin"))
    assert got.get_data() == b"\x00binary" and got.headers["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize("res", ALL, ids=repr)
def test_post_of_a_non_json_body_is_400_and_changes_nothing(client, res):
    create(client, res, "j", {"x": 1})
    for body, ctype in [(b"abcdefg", "not/json"), (b'{"x": 2}', "text/plain"), (b'{"x": 2}', None),
                        (b'{"x": 2', "application/json"), (b"[1, 2]", "application/json"),
                        (b'"text"', "application/json"), (b'{"x": NaN}', "application/json"),
                        (b"\xef\xbb\xbf{}", "application/json"), (b"", "application/json")]:
        r = post(client, res.url("j"), body, ctype)
        assert r.status_code == 400, (body, ctype)
    assert client.get(res.url("j")).json == {"x": 1}
    # And onto no document at all: POST is for JSON objects.
    assert post(client, res.url("none"), b"abc", "text/plain").status_code == 400
    assert post(client, res.url("none"), b"[1]", "application/json").status_code == 400
    assert client.get(res.url("none")).status_code == 404


def test_post_onto_a_json_document_that_is_not_an_object_is_400(xapi):
    create(xapi, STATE, "arr", b"[1, 2, 3]", "application/json")
    r = post(xapi, STATE.url("arr"), {"x": 1})
    assert r.status_code == 400 and "JSON object" in error(r)
    assert xapi.get(STATE.url("arr")).get_data() == b"[1, 2, 3]"


# ------------------------------------------------------------------------------------------------ concurrency

@pytest.mark.parametrize("res", ALL, ids=repr)
@pytest.mark.parametrize("method", [put, post], ids=["PUT", "POST"])
def test_if_match_with_the_current_etag_writes_and_a_stale_one_is_412(client, res, method):
    etag = create(client, res, "c", {"v": 1})
    r = method(client, res.url("c"), {"v": 2}, headers={"If-Match": '"' + "0" * 40 + '"'})
    assert r.status_code == 412
    assert client.get(res.url("c")).json == {"v": 1}
    r = method(client, res.url("c"), {"v": 2}, headers={"If-Match": etag})
    assert r.status_code == 204
    assert client.get(res.url("c")).json == {"v": 2}
    # The old ETag is stale now.
    assert method(client, res.url("c"), {"v": 3}, headers={"If-Match": etag}).status_code == 412


@pytest.mark.parametrize("res", ALL, ids=repr)
def test_if_match_star_and_lists_of_etags(client, res):
    etag = create(client, res, "c", {"v": 1})
    assert put(client, res.url("c"), {"v": 2}, headers={"If-Match": "*"}).status_code == 204
    etag = client.get(res.url("c")).headers["ETag"]
    assert put(client, res.url("c"), {"v": 3}, headers={"If-Match": f'"abc", {etag}'}).status_code == 204
    # If-Match compares strongly: a weak tag never matches.
    etag = client.get(res.url("c")).headers["ETag"]
    assert put(client, res.url("c"), {"v": 4}, headers={"If-Match": "W/" + etag}).status_code == 412


@pytest.mark.parametrize("res", ALL, ids=repr)
@pytest.mark.parametrize("method", [put, post], ids=["PUT", "POST"])
def test_if_match_on_a_missing_document_is_412_and_creates_nothing(client, res, method):
    r = method(client, res.url("ghost"), {"v": 1}, headers={"If-Match": '"' + "0" * 40 + '"'})
    assert r.status_code == 412
    assert method(client, res.url("ghost"), {"v": 1}, headers={"If-Match": "*"}).status_code == 412
    assert client.get(res.url("ghost")).status_code == 404


@pytest.mark.parametrize("res", ALL, ids=repr)
@pytest.mark.parametrize("method", [put, post], ids=["PUT", "POST"])
def test_if_none_match_star_creates_only(client, res, method):
    assert method(client, res.url("n"), {"v": 1}, headers={"If-None-Match": "*"}).status_code == 204
    r = method(client, res.url("n"), {"v": 2}, headers={"If-None-Match": "*"})
    assert r.status_code == 412 and "exists" in error(r)
    assert client.get(res.url("n")).json == {"v": 1}
    # If-None-Match with the document's own ETag fails too; with another one it holds.
    etag = client.get(res.url("n")).headers["ETag"]
    assert method(client, res.url("n"), {"v": 3}, headers={"If-None-Match": etag}).status_code == 412
    assert method(client, res.url("n"), {"v": 3}, headers={"If-None-Match": '"other"'}).status_code == 204


@pytest.mark.parametrize("res", PROFILES, ids=repr)
def test_profile_put_without_concurrency_headers_onto_an_existing_document_is_409(client, res):
    create(client, res, "p", {"v": 1})
    r = put(client, res.url("p"), {"v": 2})
    assert r.status_code == 409
    assert "If-Match" in error(r) and r.headers["ETag"] == sha1(json.dumps({"v": 1}).encode())
    assert client.get(res.url("p")).json == {"v": 1}
    assert put(client, res.url("p"), {"v": 2}, headers={"If-Match": r.headers["ETag"]}).status_code == 204


@pytest.mark.parametrize("res", PROFILES, ids=repr)
def test_profile_put_without_concurrency_headers_creating_a_document_is_400_under_1_0_3_only(xapi, xapi2, res):
    # xAPI 1.0.3 3.1.s3.b1: a PUT to either profile resource MUST carry If-Match or If-None-Match; 2.0's LRS
    # standard (IEEE 9274.1.1 4.1.4) keeps only the 409 for an existing document.
    r = put(xapi, res.url("new"), {"v": 1})
    assert r.status_code == 400 and "If-None-Match" in error(r)
    assert r.headers["X-Experience-API-Version"] == "1.0.3"
    assert xapi.get(res.url("new")).status_code == 404
    assert put(xapi2, res.url("new"), {"v": 2}).status_code == 204
    assert xapi.get(res.url("new")).json == {"v": 2}


def test_state_put_without_concurrency_headers_overwrites_under_1_0_3(xapi):
    # xAPI 1.0.3 3.1: "The State Resource will permit PUT, POST and DELETE requests without concurrency headers".
    assert put(xapi, STATE.url("s"), {"v": 1}).status_code == 204
    assert put(xapi, STATE.url("s"), {"v": 2}).status_code == 204
    assert xapi.get(STATE.url("s")).json == {"v": 2}


def test_state_put_without_concurrency_headers_onto_an_existing_document_is_409_under_2_0(xapi2, xapi):
    # xAPI 2.0 (IEEE 9274.1.1) 4.1.4 lists State among the resources of the 409 rule and drops 1.0.3's exception.
    assert put(xapi2, STATE.url("s"), {"v": 1}).status_code == 204
    r = put(xapi2, STATE.url("s"), {"v": 2})
    assert r.status_code == 409 and "If-Match" in error(r)
    assert xapi2.get(STATE.url("s")).json == {"v": 1}
    assert put(xapi2, STATE.url("s"), {"v": 2}, headers={"If-Match": r.headers["ETag"]}).status_code == 204
    # The same document, written by a 1.0.3 request, follows 1.0.3's rules.
    assert put(xapi, STATE.url("s"), {"v": 3}).status_code == 204


@pytest.mark.parametrize("res", ALL, ids=repr)
def test_post_without_concurrency_headers_merges_in_both_versions(client, res):
    create(client, res, "p", {"a": 1})
    assert post(client, res.url("p"), {"b": 2}).status_code == 204
    assert client.get(res.url("p")).json == {"a": 1, "b": 2}


@pytest.mark.parametrize("res", ALL, ids=repr)
def test_delete_honours_if_match(client, res):
    etag = create(client, res, "d", {"v": 1})
    r = delete(client, res.url("d"), {"If-Match": '"' + "1" * 40 + '"'})
    assert r.status_code == 412
    assert client.get(res.url("d")).status_code == 200
    assert delete(client, res.url("d"), {"If-None-Match": "*"}).status_code == 412
    assert delete(client, res.url("d"), {"If-Match": etag}).status_code == 204
    assert client.get(res.url("d")).status_code == 404
    assert delete(client, res.url("d"), {"If-Match": etag}).status_code == 412


@pytest.mark.parametrize("res", ALL, ids=repr)
def test_delete_without_headers_deletes_and_is_204_even_when_nothing_is_there(client, res):
    create(client, res, "d", {"v": 1})
    assert delete(client, res.url("d")).status_code == 204
    assert client.get(res.url("d")).status_code == 404
    assert delete(client, res.url("d")).status_code == 204


def test_conditional_get(xapi):
    etag = create(xapi, STATE, "g", b"abc", "text/plain")
    r = xapi.get(STATE.url("g"), headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.headers["ETag"] == etag and r.get_data() == b""
    assert xapi.get(STATE.url("g"), headers={"If-None-Match": '"x"'}).status_code == 200
    assert xapi.get(STATE.url("g"), headers={"If-Match": '"x"'}).status_code == 412
    assert xapi.get(STATE.url("g"), headers={"If-Match": etag}).get_data() == b"abc"


def test_last_modified_moves_with_each_write(xapi, monkeypatch):
    times = iter([1_700_000_000_000_000, 1_700_000_005_000_000])
    monkeypatch.setattr(doc_store, "_now_us", lambda: next(times))
    create(xapi, STATE, "t", {"v": 1})
    first = parsedate_to_datetime(xapi.get(STATE.url("t")).headers["Last-Modified"])
    post(xapi, STATE.url("t"), {"v": 2})
    second = parsedate_to_datetime(xapi.get(STATE.url("t")).headers["Last-Modified"])
    assert first == datetime.fromtimestamp(1_700_000_000, timezone.utc)
    assert second - first == timedelta(seconds=5)


# ------------------------------------------------------------------------------------------------ races

def _race(app, credential, requests_, version="1.0.3"):
    """Send the requests at the same moment from separate clients (threads); returns the responses' statuses."""
    barrier = threading.Barrier(len(requests_))
    statuses = [None] * len(requests_)
    errors = []

    def run(i, fn):
        c = XAPIClient(app.test_client(), basic(credential["key"], credential["secret"]), version)
        try:
            barrier.wait(timeout=30)
            statuses[i] = fn(c).status_code
        except Exception as e:  # noqa: BLE001  (reported below)
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(requests_)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return statuses


@pytest.mark.parametrize("res", ALL, ids=repr)
@pytest.mark.parametrize("method", [put, post], ids=["PUT", "POST"])
def test_two_writers_with_the_same_etag_exactly_one_wins(app, credential, xapi, res, method):
    for round_ in range(8):
        doc = f"race-{round_}"
        etag = create(xapi, res, doc, {"round": round_, "writer": None})
        writers = [lambda c, w=w: method(c, res.url(doc), {"writer": w}, headers={"If-Match": etag})
                   for w in ("a", "b")]
        statuses = _race(app, credential, writers)
        assert sorted(statuses) == [204, 412], statuses
        winner = "a" if statuses[0] == 204 else "b"
        got = xapi.get(res.url(doc))
        assert got.json["writer"] == winner  # the winner's write, whole
        assert got.headers["ETag"] == sha1(got.get_data())


@pytest.mark.parametrize("res", ALL, ids=repr)
def test_two_creators_with_if_none_match_star_exactly_one_wins(app, credential, xapi, res):
    for round_ in range(8):
        doc = f"new-{round_}"
        creators = [lambda c, w=w: put(c, res.url(doc), {"writer": w}, headers={"If-None-Match": "*"})
                    for w in ("a", "b")]
        statuses = _race(app, credential, creators)
        assert sorted(statuses) == [204, 412], statuses
        assert xapi.get(res.url(doc)).json["writer"] == ("a" if statuses[0] == 204 else "b")


@pytest.mark.parametrize("res", PROFILES, ids=repr)
def test_two_unconditional_creators_of_a_profile_one_wins_the_other_is_409(app, credential, xapi, res):
    for round_ in range(8):
        doc = f"new-{round_}"
        creators = [lambda c, w=w: put(c, res.url(doc), {"writer": w}) for w in ("a", "b")]
        statuses = _race(app, credential, creators, version="2.0.0")  # 1.0.3 refuses both (400)
        assert sorted(statuses) == [204, 409], statuses


def test_many_concurrent_merges_lose_nothing(app, credential, xapi):
    create(xapi, STATE, "counter", {})
    writers = [lambda c, i=i: post(c, STATE.url("counter"), {f"k{i}": i}) for i in range(12)]
    assert _race(app, credential, writers) == [204] * 12
    assert xapi.get(STATE.url("counter")).json == {f"k{i}": i for i in range(12)}


def test_a_delete_racing_a_conditional_write(app, credential, xapi):
    for round_ in range(6):
        doc = f"dr-{round_}"
        etag = create(xapi, STATE, doc, {"v": 0})
        ops = [lambda c: put(c, STATE.url(doc), {"v": 1}, headers={"If-Match": etag}),
               lambda c: delete(c, STATE.url(doc), {"If-Match": etag})]
        statuses = _race(app, credential, ops)
        assert sorted(statuses) == [204, 412], statuses
        got = xapi.get(STATE.url(doc))
        assert (got.status_code == 200) == (statuses[0] == 204)


# ------------------------------------------------------------------------------------------------ listing ids

@pytest.mark.parametrize("res", ALL, ids=repr)
def test_get_without_id_lists_the_ids(client, res):
    assert client.get(res.url()).json == []
    for doc in ("b", "a", "c"):
        create(client, res, doc, {"d": doc})
    r = client.get(res.url())
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    assert r.json == ["a", "b", "c"]
    assert "Last-Modified" in r.headers and r.headers["ETag"] == sha1(r.get_data())


@pytest.mark.parametrize("res", ALL, ids=repr)
def test_since_lists_only_documents_updated_after_it(client, res, monkeypatch):
    clock = iter([1_700_000_000_000_000, 1_700_000_010_000_000, 1_700_000_020_000_000, 1_700_000_030_000_000])
    monkeypatch.setattr(doc_store, "_now_us", lambda: next(clock))
    for doc in ("old", "mid", "new"):
        create(client, res, doc, {"d": doc})
    post(client, res.url("old"), {"touched": True})  # updated last: listed again

    def since(t):
        return client.get(res.url(since=t)).json

    assert since("2023-11-14T22:13:25Z") == ["mid", "new", "old"]
    assert since("2023-11-14T22:13:30Z") == ["new", "old"]  # exclusive: "mid" was stored at exactly :30
    assert since("2023-11-14T22:13:30.000001Z") == ["new", "old"]
    assert since("2023-11-14T23:13:40+01:00") == ["old"]
    assert since("2023-11-14T22:13:50Z") == []
    r = client.get(res.url(since="2023-11-14T22:13:35Z"))
    assert parsedate_to_datetime(r.headers["Last-Modified"]) == datetime.fromtimestamp(1_700_000_030, timezone.utc)


@pytest.mark.parametrize("bad", ["yesterday", "2023-13-01T00:00:00Z", "1700000000", ""])
def test_a_bad_since_is_400(xapi, bad):
    r = xapi.get(STATE.url(since=bad))
    assert r.status_code == 400 and "since" in error(r)


def test_since_with_an_id_is_400(client):
    create(client, STATE, "s", {"v": 1})
    r = client.get(STATE.url("s", since="2020-01-01T00:00:00Z"))
    assert r.status_code == 400 and "since" in error(r) and "stateId" in error(r)


def test_lists_are_per_activity_and_agent(xapi):
    create(xapi, STATE, "mine", b"1", "text/plain")
    create(xapi, STATE, "other-agent", b"1", "text/plain", agent=OLA)
    create(xapi, STATE, "other-activity", b"1", "text/plain", activityId=OTHER_ACTIVITY)
    create(xapi, ACTIVITY_PROFILE, "ap", b"1", "text/plain")
    create(xapi, AGENT_PROFILE, "gp", b"1", "text/plain")
    assert xapi.get(STATE.url()).json == ["mine"]
    assert xapi.get(STATE.url(agent=OLA)).json == ["other-agent"]
    assert xapi.get(ACTIVITY_PROFILE.url()).json == ["ap"]
    assert xapi.get(AGENT_PROFILE.url()).json == ["gp"]
    assert xapi.get(AGENT_PROFILE.url(agent=OLA)).json == []


# ------------------------------------------------------------------------------------------------ registrations

def test_state_is_kept_per_registration(client):
    create(client, STATE, "s", {"r": None})
    create(client, STATE, "s", {"r": 1}, registration=REG)
    create(client, STATE, "t", {"r": 2}, registration=REG2.upper())  # UUIDs compare without case
    assert client.get(STATE.url("s")).json == {"r": None}
    assert client.get(STATE.url("s", registration=REG)).json == {"r": 1}
    assert client.get(STATE.url("t", registration=REG2)).json == {"r": 2}
    assert client.get(STATE.url("t")).status_code == 404
    assert client.get(STATE.url(registration=REG)).json == ["s"]
    assert client.get(STATE.url(registration=REG2)).json == ["t"]
    assert client.get(STATE.url()).json == ["s", "t"]  # without registration: every registration's ids, once


def test_delete_without_state_id_deletes_that_context(client):
    create(client, STATE, "a", {"v": 1})
    create(client, STATE, "a", {"v": 1}, registration=REG)
    create(client, STATE, "b", {"v": 1}, registration=REG2)
    create(client, STATE, "keep", {"v": 1}, agent=OLA)
    create(client, STATE, "keep", {"v": 1}, activityId=OTHER_ACTIVITY)

    assert delete(client, STATE.url(registration=REG)).status_code == 204
    assert client.get(STATE.url(registration=REG)).json == []
    assert client.get(STATE.url()).json == ["a", "b"]

    assert delete(client, STATE.url()).status_code == 204
    assert client.get(STATE.url()).json == []
    assert client.get(STATE.url(agent=OLA)).json == ["keep"]
    assert client.get(STATE.url(activityId=OTHER_ACTIVITY)).json == ["keep"]


def test_delete_of_all_state_with_concurrency_headers_is_400(xapi):
    create(xapi, STATE, "a", {"v": 1})
    r = delete(xapi, STATE.url(), {"If-Match": "*"})
    assert r.status_code == 400 and "stateId" in error(r)
    assert xapi.get(STATE.url()).json == ["a"]


# ------------------------------------------------------------------------------------------------ parameters

@pytest.mark.parametrize("res,missing,method", [
    (STATE, "activityId", "PUT"), (STATE, "agent", "PUT"), (STATE, "stateId", "PUT"), (STATE, "stateId", "POST"),
    (STATE, "activityId", "GET"), (STATE, "agent", "GET"), (STATE, "activityId", "DELETE"), (STATE, "agent", "DELETE"),
    (ACTIVITY_PROFILE, "activityId", "PUT"), (ACTIVITY_PROFILE, "profileId", "PUT"),
    (ACTIVITY_PROFILE, "profileId", "POST"), (ACTIVITY_PROFILE, "profileId", "DELETE"),
    (ACTIVITY_PROFILE, "activityId", "GET"), (AGENT_PROFILE, "agent", "PUT"), (AGENT_PROFILE, "profileId", "PUT"),
    (AGENT_PROFILE, "profileId", "DELETE"), (AGENT_PROFILE, "agent", "GET"),
], ids=str)
def test_a_missing_parameter_is_400_naming_it(client, res, missing, method):
    params = {res.id_param: "x"} if method != "GET" else {}
    params.update(res._context)
    params.pop(missing, None)
    url = res.path + "?" + urlencode({k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()})
    r = client.request(method, url, data=b'{"v": 1}', headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.get_data(as_text=True)
    assert missing in error(r)


@pytest.mark.parametrize("res,params,named", [
    (STATE, {"stateid": "x"}, "stateid"),  # wrong case
    (STATE, {"stateId": "x", "profileId": "y"}, "profileId"),
    (STATE, {"stateId": "x", "format": "exact"}, "format"),
    (ACTIVITY_PROFILE, {"profileId": "x", "agent": json.dumps(KARI)}, "agent"),
    (ACTIVITY_PROFILE, {"profileId": "x", "registration": REG}, "registration"),
    (AGENT_PROFILE, {"profileId": "x", "activityId": ACTIVITY}, "activityId"),
    (AGENT_PROFILE, {"profileId": "x", "Agent": json.dumps(KARI)}, "Agent"),
], ids=str)
def test_an_unknown_parameter_is_400_naming_it(xapi, res, params, named):
    for method in ("GET", "PUT", "POST", "DELETE"):
        r = xapi.request(method, res.url(**params), data=b'{"v": 1}', headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (method, r.get_data(as_text=True))
        assert named in error(r)


@pytest.mark.parametrize("res,params,named", [
    (STATE, {"agent": "not json"}, "agent"),
    (STATE, {"agent": '{"mbox": "kari@example.no"}'}, "agent"),  # not a mailto IRI
    (STATE, {"agent": '{"objectType": "Agent"}'}, "agent"),  # no identifier
    (STATE, {"agent": '["mailto:kari@example.no"]'}, "agent"),
    (STATE, {"agent": json.dumps({"objectType": "Group", "member": [KARI]})}, "agent"),  # anonymous Group
    (STATE, {"registration": "not-a-uuid"}, "registration"),
    (STATE, {"activityId": "not an iri"}, "activityId"),
    (STATE, {"stateId": ""}, "stateId"),
    (ACTIVITY_PROFILE, {"activityId": ""}, "activityId"),
    (ACTIVITY_PROFILE, {"profileId": ""}, "profileId"),
    (AGENT_PROFILE, {"agent": json.dumps({"objectType": "Group", "mbox": "mailto:team@example.no"})}, "agent"),
    (AGENT_PROFILE, {"agent": "{"}, "agent"),
], ids=str)
def test_a_malformed_parameter_is_400_naming_it(client, res, params, named):
    params = {res.id_param: "x", **params}
    r = put(client, res.url(**params), {"v": 1}, headers={"If-None-Match": "*"})
    assert r.status_code == 400, r.get_data(as_text=True)
    assert named in error(r)
    if res.id_param not in params or params[res.id_param]:
        assert client.get(res.url(**params)).status_code == 400


def test_a_parameter_given_twice_is_400(xapi):
    r = xapi.get(STATE.url("a") + "&stateId=b")
    assert r.status_code == 400 and "stateId" in error(r) and "more than once" in error(r)


def test_since_is_not_a_delete_parameter(xapi):
    r = delete(xapi, STATE.url(since="2020-01-01T00:00:00Z"))
    assert r.status_code == 400 and "since" in error(r)


def test_a_nul_character_in_a_parameter_is_400(xapi):
    r = put(xapi, STATE.url("a\x00b"), {"v": 1})
    assert r.status_code == 400 and "stateId" in error(r)


# ------------------------------------------------------------------------------------------------ size limit

@pytest.mark.parametrize("res", ALL, ids=repr)
def test_a_document_over_the_limit_is_413(app, xapi, res):
    app.config["DOCUMENT_MAX_BYTES"] = 1000
    create(xapi, res, "big", b"x" * 1000, "text/plain")  # at the limit: fine
    r = put(xapi, res.url("big"), b"y" * 1001, "text/plain", headers={"If-Match": "*"})
    assert r.status_code == 413 and "1000" in error(r) and "LRS_DOCUMENT_MAX_BYTES" in error(r)
    assert xapi.get(res.url("big")).get_data() == b"x" * 1000
    assert post(xapi, res.url("j"), {"v": "z" * 2000}).status_code == 413


def test_a_merge_that_grows_over_the_limit_is_413_and_changes_nothing(app, xapi):
    app.config["DOCUMENT_MAX_BYTES"] = 1000
    create(xapi, STATE, "m", {"a": "x" * 600})
    r = post(xapi, STATE.url("m"), {"b": "y" * 600})
    assert r.status_code == 413 and "merged" in error(r)
    assert xapi.get(STATE.url("m")).json == {"a": "x" * 600}


def test_the_limit_defaults_to_one_mebibyte(app, xapi):
    assert app.config["DOCUMENT_MAX_BYTES"] == 1024 * 1024
    body = os.urandom(1024 * 1024)
    create(xapi, ACTIVITY_PROFILE, "mib", body, "application/octet-stream")
    assert xapi.get(ACTIVITY_PROFILE.url("mib")).get_data() == body
    assert put(xapi, ACTIVITY_PROFILE.url("mib2"), body + b"!", "application/octet-stream").status_code == 413


# ------------------------------------------------------------------------------------------------ scopes

def test_state_needs_the_state_scope(client_for):
    state, profile, define = client_for("state"), client_for("profile"), client_for("define")
    assert put(state, STATE.url("s"), {"v": 1}).status_code == 204
    assert state.get(STATE.url("s")).status_code == 200
    for other in (profile, define, client_for("statements/write"), client_for("statements/read")):
        assert put(other, STATE.url("s2"), {"v": 1}).status_code == 403
        assert other.get(STATE.url("s")).status_code == 403
        assert delete(other, STATE.url("s")).status_code == 403


@pytest.mark.parametrize("res", PROFILES, ids=repr)
def test_profiles_need_the_profile_scope(client_for, res):
    profile = client_for("profile")
    create(profile, res, "p", {"v": 1})
    assert post(profile, res.url("p"), {"w": 2}).status_code == 204
    assert profile.get(res.url("p")).json == {"v": 1, "w": 2}
    # `define` is for activity and agent definitions, not documents (xAPI's scope table).
    for other in (client_for("state"), client_for("define"), client_for("statements/write")):
        assert put(other, res.url("p2"), {"v": 1}).status_code == 403
        assert post(other, res.url("p"), {"v": 1}).status_code == 403
        assert other.get(res.url("p")).status_code == 403
        assert delete(other, res.url("p")).status_code == 403
    assert profile.get(res.url("p")).json == {"v": 1, "w": 2}


@pytest.mark.parametrize("res", ALL, ids=repr)
def test_all_read_reads_but_does_not_write(client_for, xapi, res):
    create(xapi, res, "d", {"v": 1})
    reader = client_for("all/read")
    assert reader.get(res.url("d")).json == {"v": 1}
    assert reader.get(res.url()).json == ["d"]
    assert put(reader, res.url("d"), {"v": 2}, headers={"If-Match": "*"}).status_code == 403
    assert post(reader, res.url("d"), {"v": 2}).status_code == 403
    assert delete(reader, res.url("d")).status_code == 403


def test_documents_are_shared_by_the_credentials_with_the_scope_and_remember_the_last_writer(app, client_for):
    lms, course = client_for("state", "profile"), client_for("state")
    engine = app.extensions["lrs.engine"]
    key = doc_store.Key(kind="state", doc_id="LMS.LaunchData", activity_id=ACTIVITY,
                        agent_ifi="mbox:mailto:kari@example.no")

    create(lms, STATE, "LMS.LaunchData", {"launchMode": "Normal"})
    first_writer = doc_store.get(engine, key).credential_id
    assert course.get(STATE.url("LMS.LaunchData")).json == {"launchMode": "Normal"}
    assert post(course, STATE.url("LMS.LaunchData"), {"seen": True}).status_code == 204
    second_writer = doc_store.get(engine, key).credential_id
    assert first_writer != second_writer
    assert lms.get(STATE.url("LMS.LaunchData")).json == {"launchMode": "Normal", "seen": True}


def test_no_credential_is_401_and_cors_exposes_the_concurrency_headers(app):
    c = app.test_client()
    r = c.get(STATE.url("s"), headers={"X-Experience-API-Version": "1.0.3"})
    assert r.status_code == 401
    r = c.options(STATE.url("s"), headers={"Origin": "https://kurs.example.no"})
    assert r.status_code == 204
    assert "If-Match" in r.headers["Access-Control-Allow-Headers"]
    assert "ETag" in r.headers["Access-Control-Expose-Headers"]


def test_a_second_credential_made_directly_sees_the_same_documents(app, xapi):
    create(xapi, AGENT_PROFILE, "prefs", {"lang": "nb"})
    other = make_credential(app, ("profile",), name="other")
    c = XAPIClient(app.test_client(), basic(other["key"], other["secret"]), "2.0.0")
    assert c.get(AGENT_PROFILE.url("prefs")).json == {"lang": "nb"}
