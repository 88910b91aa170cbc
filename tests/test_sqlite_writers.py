"""SQLite writers take turns (lrs.store.db._WritersTurn): a write waits while a writer of another process holds the
database, goes on the moment it is done, and fails with 503 when its turn does not come within the busy timeout."""
import fcntl
import os
import shutil
import threading

import pytest

from lrs.store import db
from tests.helpers import new_id, post, query, statement


@pytest.fixture
def db_url(tmp_path, sqlite_template):
    """SQLite only: PostgreSQL writers take no turns, they lock only the statements they write."""
    shutil.copy(sqlite_template, tmp_path / "lrs.db")
    return f"sqlite:///{tmp_path / 'lrs.db'}"


@pytest.fixture
def other_writer(db_url):
    """Holds the writers' lock file of the app's SQLite database as another process's writer would."""
    fd = os.open(db_url.removeprefix("sqlite:///") + "-writer", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    yield lambda: fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def test_a_write_waits_for_another_processs_writer_and_goes_on_when_it_is_done(xapi, other_writer):
    sid, answers = new_id(), []
    writer = threading.Thread(target=lambda: answers.append(post(xapi, statement(id=sid)).status_code))
    writer.start()
    writer.join(0.5)
    assert writer.is_alive() and not answers  # waiting for its turn
    other_writer()
    writer.join(10)
    assert answers == [200]
    assert [s["id"] for s in query(xapi).json["statements"]] == [sid]


def test_a_write_whose_turn_does_not_come_is_answered_503_and_stores_nothing(xapi, other_writer, monkeypatch):
    monkeypatch.setattr(db, "_BUSY_SECONDS", 0.3)
    r = post(xapi, statement())
    assert r.status_code == 503 and "Retry-After" in r.headers
    other_writer()
    assert query(xapi).json["statements"] == []
