"""Backup and restore: `lrs export` from one database and `lrs import` into another (SQLite <-> PostgreSQL) give
identical query results, stored times and authorities included; an interrupted import runs again safely."""
import json

import pytest
from flask.testing import FlaskCliRunner

from lrs import create_app
from lrs.cli import export_command, import_command
from tests.conftest import XAPIClient, basic, fresh_database, make_credential
from tests.helpers import agent, new_id, statement, voiding
from tests.signing import attachment, multipart_body, with_attachments

QUERIES = [{}, {"verb": "http://adlnet.gov/expapi/verbs/passed"}, {"activity": "https://kurs.example.no/a/1"},
           {"agent": json.dumps(agent("per"))}, {"related_activities": "true", "activity": "https://kurs.example.no/a/1"},
           {"ascending": "true", "limit": "3"}, {"format": "ids"}, {"attachments": "true"}]


def fill(xapi):
    stmts = [statement(actor=agent(["kari", "per", "ola"][i % 3]), activity=f"https://kurs.example.no/a/{i % 4}",
                       verb="http://adlnet.gov/expapi/verbs/" + ("passed" if i % 2 else "completed"), id=new_id())
             for i in range(30)]
    assert xapi.post("/xapi/statements", json=stmts).status_code == 200
    assert xapi.post("/xapi/statements", json=[voiding(stmts[3]["id"])]).status_code == 200
    with_file = with_attachments(statement(actor=agent("kari")), attachment(b"kursbevis"))
    body, ctype = multipart_body(with_file, [("text/plain", b"kursbevis")])
    assert xapi.post("/xapi/statements", data=body, headers={"Content-Type": ctype}).status_code == 200
    r = xapi.put("/xapi/activities/state", query_string={"activityId": "https://kurs.example.no/a/1",
                                                          "agent": json.dumps(agent("kari")), "stateId": "bokmerke"},
                 json={"side": 4})
    assert r.status_code == 204
    return stmts


def answers(xapi):
    out = []
    for q in QUERIES:
        r = xapi.get("/xapi/statements", query_string=q)
        assert r.status_code == 200
        out.append((r.headers["Content-Type"].split(";")[0], r.get_data()))
    out.append(xapi.get("/xapi/activities/state", query_string={
        "activityId": "https://kurs.example.no/a/1", "agent": json.dumps(agent("kari")), "stateId": "bokmerke"}
    ).get_data())
    return out


@pytest.mark.parametrize("target", ["sqlite", "postgresql"])
def test_export_then_import_into_an_empty_database_answers_every_query_the_same(app, xapi, tmp_path, target):
    fill(xapi)
    dump = tmp_path / "lrs.ndjson"
    out = FlaskCliRunner(app).invoke(export_command, [str(dump)])
    assert out.exit_code == 0 and "exported 32 statements and 1 documents" in out.output, out.output
    before = answers(xapi)

    with fresh_database(target, tmp_path, "restored") as url:
        other = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "CREDENTIAL_CACHE_SECONDS": 0})
        other.instance_path = str(tmp_path / "other-instance")
        from lrs.store.migrate import upgrade
        upgrade(other.extensions["lrs.engine"])
        runner = FlaskCliRunner(other)
        out = runner.invoke(import_command, [str(dump)])
        assert out.exit_code == 0 and "imported 32 statements and 1 documents" in out.output, out.output
        again = runner.invoke(import_command, [str(dump)])  # as after an interruption: nothing doubles
        assert again.exit_code == 0
        cred = make_credential(other)
        restored = XAPIClient(other.test_client(), basic(cred["key"], cred["secret"]))
        after = answers(restored)
        other.extensions["lrs.engine"].dispose()
    # Same statements, same order, same stored times and authorities; multipart bodies differ only by boundary.
    for (kind_a, body_a), (kind_b, body_b) in zip(before[:-1], after[:-1]):
        assert kind_a == kind_b
        if kind_a == "application/json":
            a, b = json.loads(body_a), json.loads(body_b)
            a.pop("more", None), b.pop("more", None)
            assert a == b
        else:
            assert body_a.split(b"\r\n", 1)[1].count(b"kursbevis") == body_b.split(b"\r\n", 1)[1].count(b"kursbevis")
    assert before[-1] == after[-1]


def test_a_broken_file_says_which_line(app, tmp_path):
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"statement": ')
    out = FlaskCliRunner(app).invoke(import_command, [str(bad)])
    assert out.exit_code != 0 and "line 1: not JSON" in out.output
