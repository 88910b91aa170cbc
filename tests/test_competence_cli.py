"""`lrs competence import|recompute` as an administrator runs them."""
import pytest
from flask.testing import FlaskCliRunner

from lrs.competence.cli import competence_group
from tests.competence_support import DATA, days_ago, passed_hlr, send


@pytest.fixture
def runner(app):
    return FlaskCliRunner(app)


def test_import_reports_changes_then_none(runner):
    files = [str(DATA / name) for name in ("units.csv", "catalog.yaml", "employees.csv")]
    first = runner.invoke(competence_group, ["import", *files])
    assert first.exit_code == 0, first.output
    assert "created: 5 units" in first.output and "created: 4 competences" in first.output
    assert "created: 4 employees" in first.output
    again = runner.invoke(competence_group, ["import", *files])
    assert again.output.count("no changes") == 3


def test_bad_file_says_where(runner, tmp_path):
    bad = tmp_path / "employees.csv"
    bad.write_text("employee_id,name,email,unit_id,roles,started_on\nE1,Kari,,nowhere,sykepleier,2020-01-01\n")
    out = runner.invoke(competence_group, ["import", str(bad)])
    assert out.exit_code != 0 and "employees.csv:2: unknown unit nowhere" in out.output


def test_recompute_matches_all_statements_again(app, runner, xapi):
    runner.invoke(competence_group, ["import", *(str(DATA / n) for n in ("units.csv", "catalog.yaml",
                                                                            "employees.csv"))])
    send(xapi, passed_hlr("E1", days_ago(10)), passed_hlr("E2", days_ago(20)))
    out = runner.invoke(competence_group, ["recompute"])
    assert out.exit_code == 0, out.output
    assert "statements read: 2, plans recomputed: 4" in out.output
