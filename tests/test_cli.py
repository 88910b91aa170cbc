"""The `lrs` command as an administrator uses it."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

import lrs
from lrs.cli import credentials_group, db_group
from tests.conftest import fresh_database

ROOT = Path(__file__).resolve().parent.parent


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


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_db_revision_numbers_the_next_migration_and_autogenerate_finds_the_schema_up_to_date(kind, tmp_path):
    """`lrs db revision` writes into the source tree, so it runs here on a copy of the lrs package."""
    shutil.copytree(Path(lrs.__file__).parent, tmp_path / "lrs", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)  # the lint rules
    versions = tmp_path / "lrs" / "store" / "migrations" / "versions"
    head = max(int(path.name[:4]) for path in versions.glob("[0-9]*.py"))
    with fresh_database(kind, tmp_path, "revision") as url:
        env = {**os.environ, "PYTHONPATH": str(tmp_path), "LRS_DATABASE_URL": url}

        def lrs_cli(*args):
            return subprocess.run([sys.executable, "-m", "lrs.cli", *args], env=env, cwd=tmp_path, check=True,
                                  capture_output=True, text=True).stdout

        lrs_cli("db", "upgrade")
        assert f"lrs/store/migrations/versions/{head + 1:04d}_nothing_new.py" in lrs_cli(
            "db", "revision", "-m", "nothing new", "--autogenerate")
        made = (versions / f"{head + 1:04d}_nothing_new.py").read_text()
        assert f"revision: str = '{head + 1:04d}'" in made and f"= '{head:04d}'" in made
        # The migrations make exactly the tables the code declares: nothing to add or drop.
        assert "op." not in made
        # A new migration passes the lint `make test` starts with.
        lint = subprocess.run([sys.executable, "-m", "ruff", "check", "lrs"], cwd=tmp_path, capture_output=True,
                              text=True)
        assert lint.returncode == 0, lint.stdout
        assert "database at head" in lrs_cli("db", "upgrade")
        assert f"{head + 2:04d}_by_hand.py" in lrs_cli("db", "revision", "-m", "by hand")
        assert "def upgrade() -> None" in (versions / f"{head + 2:04d}_by_hand.py").read_text()


def test_lrs_run_names_the_setting_that_is_wrong():
    out = subprocess.run([sys.executable, "-m", "lrs.cli", "run"], env={**os.environ, "LRS_PORT": "8o8o"},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "Invalid value for '--port' (env var: 'LRS_PORT'): '8o8o' is not a valid integer" in out.stderr
