"""Capacity forecast and monthly indicators for a small region worked out by hand (tests/capacity_support.py), on
SQLite and PostgreSQL. Months: today is 15 January 2027, so month 1 of the forecast ends 28 February 2027."""
from datetime import date, datetime, timezone

import pytest
import time_machine

from lrs import registry, scheduler
from lrs.capacity import forecast, indicators, jobs, targets
from lrs.competence import imports
from lrs.principal import Principal
from lrs.store.db import read_transaction, write_transaction
from tests.capacity_support import TODAY, load_region
from tests.conftest import basic, make_credential

REGION = Principal("u-region", None, frozenset({"region"}))
LEADER_SOR = Principal("u-ls", None, frozenset({"leader"}), frozenset({"sor-icu"}))
TRUST_ADMIN_NORD = Principal("u-tn", None, frozenset({"trust_admin"}), frozenset({"nord"}))


@pytest.fixture
def region(app, xapi):
    load_region(app, xapi)
    return app


def _forecast(app, unit=None, detail=True):
    with read_transaction(app.extensions["lrs.engine"]) as conn:
        return forecast.forecast(conn, unit, TODAY, detail=detail)


def _by_id(result):
    return {t["target_id"]: t for t in result["targets"]}


def holders(t):
    return [m["holders"] for m in t["series"]]


def test_forecast_of_each_target_as_worked_out_by_hand(region):
    result = _forecast(region)
    assert result["months"][0] == "2027-02" and result["months"][-1] == "2030-01"
    found = _by_id(result)
    # T1: INT in nord-icu, at least 3. N1 until June 2028; N2's ran out 1 Feb 2027; N3 leaves 30 April 2027; N4 (new)
    # is due 30 May 2027, so counts from May.
    t1 = found["T1"]
    assert (t1["now"], t1["required"], t1["coming"]) == (3, 3, 1)
    assert holders(t1)[:4] == [2, 2, 1, 2] and holders(t1)[15:17] == [2, 1] and holders(t1)[-1] == 1
    assert t1["level"] == "critical" and t1["critical"] and t1["short_from"] == date(2027, 2, 28)
    assert t1["horizons"]["3"] == {"lowest": 1, "at_end": 1, "short_from": date(2027, 2, 28)}
    assert t1["horizons"]["12"]["at_end"] == 2 and t1["horizons"]["36"]["at_end"] == 1
    # N2 must renew (before 1 Feb); from September (N2 retires) one more must be trained even if all renew.
    assert t1["gap"] == {"renew": 1, "renew_by": date(2027, 2, 28), "train": 1, "train_by": date(2027, 9, 30)}
    assert [p["id"] for p in t1["must_renew"]] == ["N2"]
    # T2: HLR among nurses of nord-icu, 1 per shift x 3 shifts.
    t2 = found["T2"]
    assert (t2["now"], t2["required"]) == (3, 3)
    assert holders(t2)[:5] == [3, 2, 1, 1, 0]
    assert t2["level"] == "critical" and t2["short_from"] == date(2027, 3, 31)
    assert t2["gap"] == {"renew": 2, "renew_by": date(2027, 3, 31), "train": 2, "train_by": date(2027, 4, 30)}
    assert [p["id"] for p in t2["must_renew"]] == ["N1", "N2"]
    # T3: HLR in all of Helse Nord (any role), at least 4: N1, N2, N3, N5, A2 hold it; N4 missing, A1 expired.
    t3 = found["T3"]
    assert (t3["now"], t3["required"]) == (5, 4)
    assert holders(t3)[:11] == [5, 4, 3, 3, 2, 2, 1, 1, 1, 1, 0]
    assert t3["level"] == "critical" and t3["short_from"] == date(2027, 4, 30)
    assert t3["gap"] == {"renew": 3, "renew_by": date(2027, 4, 30), "train": 1, "train_by": date(2027, 9, 30)}
    # T4: INT in sor-icu, at least 2: only S1 (until 20 January 2028). Short today.
    t4 = found["T4"]
    assert (t4["now"], t4["level"]) == (1, "short")
    assert holders(t4)[10:12] == [1, 0]
    assert t4["gap"] == {"renew": 1, "renew_by": date(2028, 1, 31), "train": 1, "train_by": date(2027, 2, 28)}
    # T5: HLR in nord-akutt, at least 1: A2 until 20 December 2027.
    t5 = found["T5"]
    assert (t5["now"], t5["level"], t5["short_from"]) == (1, "warning", date(2027, 12, 31))
    assert t5["gap"] == {"renew": 1, "renew_by": date(2027, 12, 31), "train": 0, "train_by": None}
    assert [t["target_id"] for t in result["targets"]] == ["T4", "T3", "T1", "T2", "T5"]
    assert result["summary"]["levels"] == {"short": 1, "critical": 3, "warning": 1, "watch": 0, "ok": 0}


def test_forecast_of_one_trust_has_its_targets_only(region):
    assert sorted(_by_id(_forecast(region, "nord"))) == ["T1", "T2", "T3", "T5"]
    assert sorted(_by_id(_forecast(region, "sor"))) == ["T4"]


def test_renewing_moves_the_forecast(region, xapi):
    from tests.capacity_support import HLR, NOW
    from tests.competence_support import PASSED, process, send, statement
    with time_machine.travel(NOW, tick=False):
        send(xapi, statement("A2", PASSED, HLR, datetime(2027, 1, 14, 9, tzinfo=timezone.utc)))
        process(region)
    t5 = _by_id(_forecast(region))["T5"]
    assert t5["short_from"] == date(2028, 1, 31)  # valid until 14 January 2028 now


def test_hr_import_keeps_planned_leaving_unless_the_file_has_the_column(region):
    engine, settings = region.extensions["lrs.engine"], region.extensions["competence.settings"]
    with write_transaction(engine) as conn:
        imports.import_hr(conn, settings, "e.csv", "employee_id,name,email,unit_id,roles,started_on,left_on\n"
                                                      "N2,Nils To,,nord-icu,spl,2010-01-01,\n")
    assert _by_id(_forecast(region))["T1"]["gap"]["train_by"] == date(2027, 9, 30)  # still retiring
    with pytest.raises(imports.ImportProblem, match="leaving_reason"), write_transaction(engine) as conn:
        imports.import_hr(conn, settings, "e.csv", "employee_id,name,unit_id,roles,started_on,leaving_reason\n"
                                                      "N2,Nils To,nord-icu,spl,2010-01-01,holiday\n")


# ------------------------------------------------------------------------------------------------ indicators

def _snapshot_january(app):
    with time_machine.travel(datetime(2027, 2, 3, 6, tzinfo=timezone.utc), tick=False):
        return jobs.monthly_snapshot(app)


def test_monthly_snapshot_as_worked_out_by_hand(region):
    assert _snapshot_january(region) == "2027-01"
    with read_transaction(region.extensions["lrs.engine"]) as conn:
        org = forecast.Org(conn)
        (jan,) = indicators.trend(conn, None)
        nord = indicators.trend(conn, ["nord"])[0]["total"]
        kids = {k["unit"]["id"]: k for k in indicators.children(conn, org, None)}
        icu = {k["unit"]["id"]: k for k in indicators.children(conn, org, "nord")}["nord-icu"]
    total = jan["total"]
    # 9 employees; N4 (HLR missing), A1 (HLR expired), S2 (HLR and INT missing) lack a mandatory one.
    assert (total["employees"], total["all_met"], total["all_met_share"]) == (9, 6, 0.6667)
    # HLR: 9 need it, 6 hold it; INT: 6 need it (N1-N4, S1, S2), 4 hold it. Overdue: N4, A1, S2 (HLR), S2 (INT).
    # Expiring at 31 January: N1's HLR (10 March), N2's INT (1 February).
    assert (total["required"], total["holders"], total["overdue"], total["expiring"]) == (15, 10, 4, 2)
    assert jan["competences"]["INT"]["coverage"] == 0.6667 and jan["competences"]["HLR"]["overdue"] == 3
    # Targets at the end of January: T1 3/3, T2 3/3, T3 5/4, T5 1/1 met; T4 1/2 not.
    assert (total["targets"], total["targets_met"]) == (5, 4)
    assert (nord["employees"], nord["all_met"], nord["targets"], nord["targets_met"]) == (7, 5, 4, 4)
    assert (kids["sor"]["employees"], kids["sor"]["all_met"], kids["sor"]["target_coverage"]) == (2, 1, 0.0)
    assert (icu["employees"], icu["all_met"], icu["holders"], icu["required"]) == (5, 4, 7, 9)


def test_a_snapshot_is_taken_once_and_kept_as_it_was(region, xapi):
    assert _snapshot_january(region) == "2027-01"
    assert _snapshot_january(region) is None  # a second run (or instance) finds the month taken
    with time_machine.travel(datetime(2027, 2, 3, 7, tzinfo=timezone.utc), tick=False):
        assert scheduler.run(region, "capacity.snapshot")  # the daily slot: runs, and takes nothing new
        assert not scheduler.run(region, "capacity.snapshot")  # the same day's slot: another instance skips
    engine = region.extensions["lrs.engine"]
    with write_transaction(engine) as conn:  # a target met later does not change January
        targets.save(conn, [{"id": "T4", "unit": "sor-icu", "competence": "INT", "role": None, "per": "unit",
                             "minimum": 1, "groups": 1, "note": None, "active": True}])
    with read_transaction(engine) as conn:
        assert indicators.trend(conn, None)[0]["total"]["targets_met"] == 4


def test_backfill_takes_past_months_from_the_history(region):
    runner = region.test_cli_runner()
    with time_machine.travel(datetime(2027, 3, 2, 6, tzinfo=timezone.utc), tick=False):
        out = runner.invoke(args=["capacity", "snapshot", "--from", "2026-12"])
        assert out.exit_code == 0, out.output
        assert out.output.splitlines() == ["2026-12: taken", "2027-01: taken", "2027-02: taken"]
        again = runner.invoke(args=["capacity", "snapshot", "--month", "2027-02"])
        assert "already taken" in again.output
        bad = runner.invoke(args=["capacity", "snapshot", "--month", "2027-03"])
        assert bad.exit_code != 0 and "not over yet" in bad.output
    with read_transaction(region.extensions["lrs.engine"]) as conn:
        months = {m["month"]: m["total"] for m in indicators.trend(conn, None)}
    # December: nobody's plan had been computed yet (the records came in January): no requirement counted.
    assert months["2026-12"]["required"] == 0 and months["2026-12"]["employees"] == 9
    assert months["2027-01"]["holders"] == 10
    # February: N2's INT ran out on 1 February; N1's HLR still valid (10 March).
    assert months["2027-02"]["holders"] == 9 and months["2027-02"]["overdue"] == 5


def test_the_leader_digest_gets_the_months_change(region):
    _snapshot_january(region)
    (section,) = registry.of(region).digest_sections
    with read_transaction(region.extensions["lrs.engine"]) as conn:
        text = section(conn, "nord", forecast.Org(conn).subtree("nord"))
    assert "2027-01" in text and "4 av/of 4" in text and "71 %" in text  # 5 of 7 with all mandatory


# ------------------------------------------------------------------------------------------------ targets

def test_targets_are_versioned_and_checked(region):
    engine = region.extensions["lrs.engine"]
    with write_transaction(engine) as conn:
        counts = targets.save(conn, targets.read("t.csv", "id,unit,competence,minimum\nT1,nord-icu,INT,4\n"
                                                          "T9,sor,HLR,2\n"))
        assert counts == {"created": 1, "changed": 1, "unchanged": 0}
        assert [v["minimum"] for v in targets.history(conn, "T1")] == [4, 3]
    for text, problem in (("id,unit,competence,minimum\nX,nowhere,INT,1\n", "unknown unit nowhere"),
                          ("id,unit,competence,minimum\nX,sor,NOPE,1\n", "unknown competence NOPE"),
                          ("id,unit,competence,minimum\nX,sor,INT,0\n", "minimum"),
                          ("id,unit,competence,minimum,groups\nX,sor,INT,1,3\n", "groups")):
        with pytest.raises(targets.TargetProblem, match=problem):
            with write_transaction(engine) as conn:
                targets.save(conn, targets.read("t.csv", text))
    with write_transaction(engine) as conn:
        with pytest.raises(targets.TargetProblem, match="may not set targets for unit sor-icu"):
            targets.save(conn, targets.read("t.yaml", "targets: [{id: T4, unit: sor-icu, competence: INT, "
                                                      "minimum: 1}]"), allowed_units={"nord", "nord-icu"})


# ------------------------------------------------------------------------------------------------ API

def test_api_for_the_region_a_leader_and_a_credential(sign_in, region):
    client = region.test_client()
    sign_in(REGION)
    with time_machine.travel(datetime(2027, 1, 15, 12, tzinfo=timezone.utc), tick=False):
        r = client.get("/api/capacity/forecast?months=12")
    assert r.status_code == 200
    body = r.get_json()
    assert len(body["months"]) == 12 and body["targets"][0]["target_id"] == "T4"
    assert body["targets"][0]["series"][0] == {"month": "2027-02", "end": "2027-02-28", "holders": 1, "short_by": 1}
    r = client.get("/api/capacity/forecast?unit=nowhere")  # the competence API's error, in its one shape
    assert r.status_code == 404 and r.get_json() == {"error": {"code": 404, "message": "no unit nowhere"}}
    assert client.get("/api/capacity/forecast?months=99").status_code == 400
    sign_in(LEADER_SOR)
    assert client.get("/api/capacity/forecast").status_code == 403  # not the region
    assert client.get("/api/capacity/forecast?unit=nord").status_code == 403
    assert [t["target_id"] for t in client.get("/api/capacity/targets?unit=sor-icu").get_json()] == ["T4"]
    sign_in(Principal("u-e", "N1", frozenset({"employee"})))
    assert client.get("/api/capacity/forecast?unit=nord-icu").status_code == 403
    sign_in(None)
    assert client.get("/api/indicators/trend").status_code == 401
    reporting = make_credential(region, ("capacity/read",), name="region-reporting")
    other = make_credential(region, ("statements/read",), name="reader")
    _snapshot_january(region)
    r = client.get("/api/indicators/trend", headers={"Authorization": basic(reporting["key"], reporting["secret"])})
    assert r.status_code == 200 and r.get_json()[0]["total"]["all_met"] == 6
    r = client.get("/api/indicators/export.csv?unit=sor",
                   headers={"Authorization": basic(reporting["key"], reporting["secret"])})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    lines = r.get_data(as_text=True).splitlines()
    assert lines[0].startswith("month,unit_id,role_code,competence_code,employees") and len(lines) > 1
    assert all(",sor-icu," in line for line in lines[1:])
    r = client.get("/api/indicators/trend", headers={"Authorization": basic(other["key"], other["secret"])})
    assert r.status_code == 403 and "capacity/read" in r.get_json()["error"]["message"]


def test_openapi_describes_capacity_and_indicators(region):
    spec = region.test_client().get("/api/capacity/openapi.json").get_json()
    assert {"/api/capacity/forecast", "/api/capacity/targets", "/api/indicators/trend", "/api/indicators/units",
            "/api/indicators/export.csv"} <= set(spec["paths"])


def test_the_weekly_digest_e_mail_carries_the_section(region):
    import email
    import email.policy
    import socket

    from aiosmtpd.controller import Controller

    from lrs.competence import reminders

    class Inbox:
        messages = []

        async def handle_DATA(self, server, session, envelope):
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append((envelope.rcpt_tos, message.get_content()))
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        region.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        _snapshot_january(region)
        assert reminders.send_digests(region, now=datetime(2027, 2, 3, 7, tzinfo=timezone.utc)) == 1
    finally:
        controller.stop()
    ((to, body),) = inbox.messages
    assert to == ["n1@nord.example.no"]  # N1 leads nord-icu: 4 of its 5 have all mandatory; T1 and T2 met
    assert "Indikatorer 2027-01" in body and "80 %" in body and "2 av/of 2" in body


def test_targets_import_from_the_command_line(region, tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("targets:\n  - {id: T1, unit: nord-icu, competence: INT, minimum: 2}\n")
    out = region.test_cli_runner().invoke(args=["capacity", "import-targets", str(path)])
    assert out.exit_code == 0 and "0 created, 1 changed, 0 unchanged" in out.output
    path.write_text("targets:\n  - {id: T1, unit: nowhere, competence: INT, minimum: 2}\n")
    out = region.test_cli_runner().invoke(args=["capacity", "import-targets", str(path)])
    assert out.exit_code != 0 and "unknown unit nowhere" in out.output
