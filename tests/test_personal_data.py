"""Each package declares its personal data (lrs.personal), and erasure is driven by the declarations: a table with
an employee or actor column nobody declared would escape erasure silently, so it fails here."""
import json

from flask.testing import FlaskCliRunner
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert, select

from lrs import create_app, personal
from lrs.privacy.cli import privacy_group
from lrs.store.models import metadata


def _app():
    return create_app({"DATABASE_URL": "sqlite://", "TESTING": True, "SECRET_KEY": "test"})


def test_every_column_that_names_a_person_is_declared_and_reachable():
    app = _app()
    assert personal.undeclared(app, metadata) == []
    assert personal.unreachable(personal.declared(app)) == []


def test_a_new_table_with_an_employee_or_actor_column_is_caught_until_declared():
    app = _app()
    more = MetaData()
    notes = Table("shift_notes", more, Column("id", String(36), primary_key=True), Column("employee_id", String(64)),
                  Column("actor", Text), Column("agent_ifi", Text), Column("written_by", String(36)),
                  Column("body", Text))
    assert personal.undeclared(app, more) == ["shift_notes.actor", "shift_notes.agent_ifi",
                                              "shift_notes.employee_id", "shift_notes.written_by"]
    personal.declare(app, [personal.Personal(notes, "employee_id", personal.EMPLOYEE, personal.PSEUDONYM),
                           personal.Personal(notes, "actor", personal.ACTOR, personal.AGENT),
                           personal.Personal(notes, "agent_ifi", personal.ACTOR, personal.BLANK),
                           personal.Personal(notes, "written_by", personal.USER, personal.KEEP, "a user id")])
    assert personal.undeclared(app, more) == []
    # Blanking a column is only possible in rows found by the person's employee id.
    logins = Table("logins", more, Column("seq", Integer, primary_key=True), Column("email", Text))
    assert personal.unreachable([personal.Personal(logins, "email", personal.USER, personal.BLANK)]) == ["logins.email"]


def test_declarations_are_per_app():
    first, second = _app(), _app()
    assert personal.declared(first) == personal.declared(second)
    personal.declare(first, [personal.Personal(Table("x", MetaData(), Column("email", Text)), "email",
                                               personal.EMPLOYEE, personal.BLANK)])
    assert len(personal.declared(first)) == len(personal.declared(second)) + 1


def test_export_and_erasure_reach_a_table_its_package_declares(app, trust, tmp_path):
    """A new table, once declared, is in the person's export and is erased with the rest: their rows move to the
    pseudonym and free text that names them is scrubbed, in other people's rows too."""
    engine = app.extensions["lrs.engine"]
    more = MetaData()
    notes = Table("shift_notes", more, Column("id", Integer, primary_key=True, autoincrement=False),
                  Column("employee_id", String(64)), Column("photo", Text), Column("body", Text))
    more.create_all(engine)
    try:
        personal.declare(app, [personal.Personal(notes, "employee_id", personal.EMPLOYEE, personal.PSEUDONYM),
                               personal.Personal(notes, "photo", personal.TEXT, personal.BLANK),
                               personal.Personal(notes, "body", personal.TEXT, personal.SCRUB)])
        with engine.begin() as conn:
            conn.execute(insert(notes), [{"id": 1, "employee_id": "E1", "photo": "kari.jpg", "body": "on call"},
                                         {"id": 2, "employee_id": "E2", "photo": None, "body": "swapped with E1"}])
        runner = FlaskCliRunner(app)
        out = runner.invoke(privacy_group, ["export", "--employee", "E1", "--out", str(tmp_path)])
        assert out.exit_code == 0, out.output
        record = json.loads((tmp_path / "person-E1.json").read_text())
        assert record["other_records"]["shift_notes"] == [
            {"id": 1, "employee_id": "E1", "photo": "kari.jpg", "body": "on call"}]
        assert "kari.jpg" in (tmp_path / "person-E1.html").read_text()

        out = runner.invoke(privacy_group, ["erase", "--employee", "E1", "--yes"])
        assert out.exit_code == 0, out.output
        pseudonym = out.output.split("the person is now ")[1].strip()
        with engine.connect() as conn:
            rows = conn.execute(select(notes).order_by(notes.c.id)).all()
        assert [tuple(r) for r in rows] == [(1, pseudonym, None, "on call"), (2, "E2", None, f"swapped with {pseudonym}")]
    finally:
        more.drop_all(engine)
