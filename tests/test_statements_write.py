"""Storing statements: PUT, POST, batches, ids, conflicts and what the LRS adds."""
import json

import pytest

from tests.helpers import COMPLETED, agent, new_id, post, put, query, statement


def test_post_one_statement_returns_its_id_and_stores_it_as_sent(xapi, credential):
    stmt = statement(result={"score": {"scaled": 0.9}, "success": True})
    r = post(xapi, stmt)
    assert r.status_code == 200
    [sid] = r.json
    got = xapi.get(f"/xapi/statements?statementId={sid}").json
    for key in ("actor", "verb", "object", "result"):
        assert got[key] == stmt[key]
    assert got["id"] == sid
    assert got["authority"]["account"]["name"] == credential["key"]
    assert got["version"] == "1.0.0"
    assert got["stored"].endswith("Z") and got["timestamp"] == got["stored"]


def test_post_batch_returns_ids_in_order_including_given_ones(xapi):
    given = new_id()
    r = post(xapi, [statement(), statement(id=given), statement()])
    assert r.status_code == 200
    assert len(r.json) == 3 and r.json[1] == given and len(set(r.json)) == 3


def test_put_stores_under_the_given_id(xapi):
    sid = new_id()
    r = put(xapi, statement(), sid)
    assert r.status_code == 204
    assert "Content-Type" not in r.headers and r.data == b""  # no content, so no type
    assert xapi.get(f"/xapi/statements?statementId={sid}").json["id"] == sid


@pytest.mark.parametrize("path, problem", [
    ("/xapi/statements", "statementId"),
    ("/xapi/statements?statementId=not-a-uuid", "UUID"),
])
def test_put_needs_a_valid_statement_id(xapi, path, problem):
    r = xapi.put(path, data=json.dumps(statement()), content_type="application/json")
    assert r.status_code == 400 and problem in r.json["error"]["message"]


def test_put_with_a_different_id_in_the_body_is_rejected(xapi):
    r = put(xapi, statement(id=new_id()), new_id())
    assert r.status_code == 400


def test_same_id_same_content_is_accepted_again_and_stored_once(xapi):
    sid = new_id()
    stmt = statement(id=sid, timestamp="2026-11-20T10:00:00Z")
    assert post(xapi, stmt).status_code == 200
    assert post(xapi, stmt).status_code == 200
    assert put(xapi, stmt, sid).status_code == 204
    assert [s["id"] for s in query(xapi).json["statements"]] == [sid]


def test_same_id_different_content_is_409_and_changes_nothing(xapi):
    sid = new_id()
    post(xapi, statement(id=sid))
    r = post(xapi, statement(id=sid, verb="http://adlnet.gov/expapi/verbs/failed"))
    assert r.status_code == 409 and sid in r.json["error"]["message"]
    assert xapi.get(f"/xapi/statements?statementId={sid}").json["verb"]["id"] == COMPLETED
    assert put(xapi, statement(id=sid, actor=agent("ola")), sid).status_code == 409


def test_a_batch_with_one_bad_statement_stores_nothing(xapi):
    bad = statement()
    bad["actor"] = {"mbox": "kari@example.no"}  # not a mailto: IRI
    r = post(xapi, [statement(), statement(), bad])
    assert r.status_code == 400
    assert "statement[2].actor.mbox" in r.json["error"]["message"]
    assert query(xapi).json["statements"] == []


def test_a_batch_with_one_conflicting_statement_stores_nothing(xapi):
    sid = new_id()
    post(xapi, statement(id=sid))
    r = post(xapi, [statement(), statement(id=sid, actor=agent("ola"))])
    assert r.status_code == 409
    assert len(query(xapi).json["statements"]) == 1


def test_the_same_id_twice_in_one_batch_is_rejected(xapi):
    sid = new_id()
    r = post(xapi, [statement(id=sid), statement(id=sid)])
    assert r.status_code == 400 and "more than once" in r.json["error"]["message"]
    assert query(xapi).json["statements"] == []


def test_timestamp_and_version_given_by_the_client_are_kept(xapi2):
    [sid] = post(xapi2, statement(timestamp="2026-01-02T03:04:05.678+01:00", version="2.0.0")).json
    got = xapi2.get(f"/xapi/statements?statementId={sid}").json
    assert got["timestamp"] == "2026-01-02T03:04:05.678+01:00" and got["version"] == "2.0.0"


def test_version_defaults_to_2_0_0_under_xapi_2(xapi2):
    [sid] = post(xapi2, statement()).json
    assert xapi2.get(f"/xapi/statements?statementId={sid}").json["version"] == "2.0.0"


def test_authority_is_always_the_credential(xapi, credential):
    stmt = statement(authority=agent("someone-else"))
    [sid] = post(xapi, stmt).json
    assert xapi.get(f"/xapi/statements?statementId={sid}").json["authority"]["account"]["name"] == credential["key"]


@pytest.mark.parametrize("body, ctype, message", [
    (b"{not json", "application/json", "not valid JSON"),
    (b"[]", "application/json", "non-empty array"),
    (b'"a string"', "application/json", "statement"),
    (b"{}", "text/plain", "Content-Type"),
])
def test_malformed_bodies_get_400(xapi, body, ctype, message):
    r = xapi.post("/xapi/statements", data=body, content_type=ctype)
    assert r.status_code == 400 and message in r.json["error"]["message"]


def test_post_with_parameters_is_rejected(xapi):
    r = xapi.post("/xapi/statements?statementId=" + new_id(), data=json.dumps(statement()),
                  content_type="application/json")
    assert r.status_code == 400


def test_batches_over_the_limit_get_413(app, xapi):
    app.config["MAX_BATCH"] = 5
    r = post(xapi, [statement() for _ in range(6)])
    assert r.status_code == 413 and "at most 5" in r.json["error"]["message"]
    assert post(xapi, [statement() for _ in range(5)]).status_code == 200


def test_bodies_over_the_size_limit_get_413(app, xapi):
    app.config["MAX_CONTENT_LENGTH"] = 2000
    r = post(xapi, [statement() for _ in range(20)])
    assert r.status_code == 413
    assert query(xapi).json["statements"] == []


def test_writes_and_reads_report_consistent_through(xapi):
    r = post(xapi, statement())
    assert r.headers["X-Experience-API-Consistent-Through"].endswith("Z")
    assert query(xapi).headers["X-Experience-API-Consistent-Through"]


def test_a_single_post_on_postgresql_writes_in_one_round_trip_and_falls_back_when_its_id_is_stored(app, xapi, monkeypatch):
    """A statement that refers to no other goes in one round trip (locks, id check, insert); a retried one (its id
    stored already) takes the full path and is accepted, and one with other content is refused, as on SQLite."""
    from lrs.store import statements as store
    full_path = []
    write_transaction = store.write_transaction
    monkeypatch.setattr(store, "write_transaction", lambda engine: full_path.append(1) or write_transaction(engine))
    on_pg = app.extensions["lrs.engine"].dialect.name == "postgresql"
    sid = new_id()
    course = {"id": "https://example.no/kurs/one-query", "definition": {"name": {"nb-NO": "Ett kurs"}}}
    assert post(xapi, statement(id=sid, object=course)).status_code == 200  # a definition this process has not seen
    assert full_path == [1]
    sid2 = new_id()
    stmt2 = statement(id=sid2, object=course)
    assert post(xapi, stmt2).status_code == 200
    assert full_path == ([1] if on_pg else [1, 1])
    assert post(xapi, stmt2).status_code == 200  # the same again: stored already, accepted
    assert full_path == ([1, 1] if on_pg else [1, 1, 1])
    assert post(xapi, {**stmt2, "result": {"success": False}}).status_code == 409
    assert sorted(s["id"] for s in query(xapi).json["statements"]) == sorted([sid, sid2])


def test_a_retry_after_any_number_of_writes_is_accepted_and_so_is_the_next_write(db_url):
    """A retry (its id stored already) fails its one-round-trip write on PostgreSQL and takes the full path. psycopg
    prepares a query on its sixth run; whichever run the failed write is, the connection must stay usable (when the
    write was pipelined, a failed sixth run left psycopg taking a statement PostgreSQL never prepared for prepared:
    500 on the retry and on the write after it)."""
    from lrs.store import statements as store
    from lrs.store.db import make_engine

    def prepared():
        stmt = {**statement(), "id": new_id(), "authority": agent("lrs")}
        return store.Prepared(stmt=stmt, id=stmt["id"], credential_id=1, hash=store.content_hash(stmt))

    for writes_before in range(8):
        engine = make_engine(db_url)  # one connection, so the writes below count up on it
        try:
            first = prepared()
            store.save(engine, [first], {})
            for _ in range(writes_before):
                store.save(engine, [prepared()], {})
            store.save(engine, [first], {})
            store.save(engine, [prepared()], {})
        finally:
            engine.dispose()
