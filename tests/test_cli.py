"""The `lrs` command as an administrator uses it."""
import json
import os
import subprocess
import sys

import pytest
from flask.testing import FlaskCliRunner

from lrs.cli import credentials_group, db_group


@pytest.fixture
def runner(app):
    return FlaskCliRunner(app)


def test_credentials_create_list_revoke(app, runner, xapi):
    out = runner.invoke(credentials_group, ["create", "--name", "Moodle bridge", "--scope", "statements/write",
                                            "--json"])
    assert out.exit_code == 0, out.output
    cred = json.loads(out.output)
    assert cred["scopes"] == ["statements/write"] and len(cred["secret"]) >= 40

    listed = runner.invoke(credentials_group, ["list"]).output
    assert cred["key"] in listed and "Moodle bridge" in listed and cred["secret"] not in listed

    assert runner.invoke(credentials_group, ["revoke", cred["key"]]).exit_code == 0
    assert "revoked" in runner.invoke(credentials_group, ["list"]).output
    again = runner.invoke(credentials_group, ["revoke", cred["key"]])
    assert again.exit_code != 0 and "no active credential" in again.output


def test_unknown_scope_is_refused(runner):
    out = runner.invoke(credentials_group, ["create", "--name", "x", "--scope", "everything"])
    assert out.exit_code != 0 and "everything" in out.output


def test_db_upgrade_is_idempotent(runner):
    assert runner.invoke(db_group, ["upgrade"]).exit_code == 0
    assert runner.invoke(db_group, ["upgrade"]).exit_code == 0


def test_lrs_console_command_on_a_fresh_sqlite_database(tmp_path):
    env = {**os.environ, "LRS_DATABASE_URL": f"sqlite:///{tmp_path}/fresh.db"}
    lrs = [sys.executable, "-m", "lrs.cli"]
    subprocess.run(lrs + ["db", "upgrade"], env=env, check=True, capture_output=True)
    made = subprocess.run(lrs + ["credentials", "create", "--name", "admin", "--scope", "all"], env=env,
                          check=True, capture_output=True, text=True).stdout
    assert "secret:" in made and "shown once" in made
    assert "admin" in subprocess.run(lrs + ["credentials", "list"], env=env, check=True, capture_output=True,
                                     text=True).stdout
