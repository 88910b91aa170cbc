"""`lrs competence import|recompute|status` as an administrator runs them."""
from datetime import timedelta

import pytest
from flask.testing import FlaskCliRunner

from lrs.competence.cli import competence_group
from tests.competence_support import (DATA, compliant_on_first_of_march, days_ago, load_trust, now, passed_hlr,
                                      send)


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


def test_status_as_of_answers_was_this_unit_compliant_on_1_march(app, runner, xapi):
    march = compliant_on_first_of_march(app, xapi)
    then = runner.invoke(competence_group, ["status", "--unit", "akutt", "--as-of", march.isoformat()])
    assert then.exit_code == 0, then.output
    assert f"akutt at the end of {march.isoformat()}: compliant (3 requirements)" in then.output
    assert "E1\tKari Nordmann\tHLR\tfulfilled" in then.output
    current = runner.invoke(competence_group, ["status", "--unit", "akutt"])
    assert "akutt now: not compliant" in current.output and "E1\tKari Nordmann\tHLR\texpired" in current.output
    kari = runner.invoke(competence_group, ["status", "--employee", "E1", "--as-of", march.isoformat()])
    assert kari.exit_code == 0 and f"E1 at the end of {march.isoformat()}: compliant" in kari.output


def test_status_says_what_is_wrong(app, runner):
    load_trust(app)
    tomorrow = (app.extensions["competence.settings"].day(now()) + timedelta(days=1)).isoformat()
    for args, problem in ((["--unit", "akutt", "--as-of", "2026-02-30"], "'2026-02-30' does not match"),
                          (["--unit", "akutt", "--as-of", tomorrow], "is in the future"),
                          (["--unit", "nowhere"], "no unit nowhere"),
                          (["--employee", "E404"], "no employee E404"),
                          ([], "give one of --unit or --employee")):
        out = runner.invoke(competence_group, ["status", *args])
        assert out.exit_code != 0 and problem in out.output, (args, out.output)
