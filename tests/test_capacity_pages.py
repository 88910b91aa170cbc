"""The capacity and indicator pages through the Flask test client: what the region, a trust admin and a unit
leader see (the region of tests/capacity_support.py, on 15 January 2027)."""
import io
from datetime import datetime, timezone

import pytest
import time_machine
from openpyxl import load_workbook

from lrs.capacity import jobs
from lrs.store.db import write_transaction
from tests.capacity_support import NOW, create_capacity_people, load_region
from tests.helpers import sign_in, token_of

FEBRUARY = datetime(2027, 2, 3, 6, tzinfo=timezone.utc)


@pytest.fixture
def region(app, xapi):
    load_region(app, xapi)
    create_capacity_people(app.extensions["lrs.engine"])
    return app


def _page(client, path, status=200):
    r = client.get(path)
    assert r.status_code == status, (path, r.status_code)
    return r.get_data(as_text=True)


def test_the_region_sees_every_trust_and_drills_down(region):
    client = region.test_client()
    with time_machine.travel(NOW, tick=False):
        sign_in(client, "regine")
        page = _page(client, "/capacity")
        assert "Kapasitet: Regionen" in page
        assert "4 av 5 bemanningskrav er under minimum nå eller innen 3 måneder" in page
        assert "Helse Nord HF" in page and "Helse Sør HF" in page  # the drill-down
        assert "<svg" in page and "Under minimum nå" in page  # the chart, and the level in words
        assert "2 må fornye (første innen 2027-03-31)" in page and "2 må læres opp innen 2027-04-30" in page
        nord = _page(client, "/capacity?unit=nord")
        assert "Intensiv Nord" in nord and "Intensiv Sør" not in nord
        target = _page(client, "/capacity/targets/T2")
        assert "Hvem må fornye" in target and "Nina En" in target and "2027-03-10" in target
        assert _page(client, "/capacity/admin", 403)  # read-only
        assert _page(client, "/capacity?unit=nowhere", 404)
        r = client.get("/capacity/export.xlsx?unit=nord")
        sheet = load_workbook(io.BytesIO(r.data)).active
        rows = list(sheet.values)
        assert rows[0][:4] == ("target_id", "unit_id", "unit", "competence")
        assert {r[0] for r in rows[1:]} == {"T1", "T2", "T3", "T5"}
        csv_text = client.get("/capacity/export.csv").get_data(as_text=True)
        assert "T4;sor-icu;Helse Sør HF" not in csv_text and "T4;sor-icu;Intensiv Sør" in csv_text


def test_a_unit_leader_sees_their_unit_only(region):
    client = region.test_client()
    with time_machine.travel(NOW, tick=False):
        sign_in(client, "nina")
        page = _page(client, "/capacity")
        assert "Kapasitet: Intensiv Nord" in page and "Akutt Nord" not in page
        assert _page(client, "/capacity?unit=nord", 403)
        assert _page(client, "/capacity/targets/T4", 403)
        assert _page(client, "/capacity/admin", 403)
        assert _page(client, "/indicators?unit=sor", 403)


def test_a_trust_admin_sets_targets_in_their_trust(region):
    client = region.test_client()
    with time_machine.travel(NOW, tick=False):
        sign_in(client, "tor")
        page = _page(client, "/capacity/admin")
        assert "T1" in page and "T4" not in page
        token = token_of(page)
        r = client.post("/capacity/admin", data={"csrf_token": token, "action": "save", "target_id": "T6",
                                                 "unit": "nord-akutt", "competence": "HLR", "role": "",
                                                 "per": "unit", "minimum": "2", "groups": "1", "active": "y"},
                        follow_redirects=True)
        assert "Lagret: 1 nye" in r.get_data(as_text=True)
        r = client.post("/capacity/admin", data={"csrf_token": token, "action": "save", "target_id": "T7",
                                                 "unit": "sor-icu", "competence": "HLR", "role": "",
                                                 "per": "unit", "minimum": "2", "groups": "1", "active": "y"})
        assert r.status_code == 400  # not a unit of hers: not even a choice
        r = client.post("/capacity/admin", data={
            "csrf_token": token, "action": "import",
            "import-file": (io.BytesIO(b"targets:\n  - {id: T4, unit: sor-icu, competence: INT, minimum: 1}\n"),
                            "t.yaml")}, content_type="multipart/form-data", follow_redirects=True)
        assert "may not set targets for unit sor-icu" in r.get_data(as_text=True)
        r = client.post("/capacity/admin", data={"action": "save", "target_id": "T8"})
        assert r.status_code == 400  # no CSRF token
        assert "T6" in _page(client, "/capacity?unit=nord-akutt")
        client.get("/lang/en")  # the form's choices in the page's language
        page = _page(client, "/capacity/admin")
        assert "HLR – CPR" in page and "Hjerte-lunge-redning" not in page


def test_indicators_trend_and_drill_down(region):
    jobs_month = None
    with time_machine.travel(FEBRUARY, tick=False):
        jobs_month = jobs.monthly_snapshot(region)
        client = region.test_client()
        sign_in(client, "regine")
        page = _page(client, "/indicators")
        assert jobs_month == "2027-01"
        assert "2027-01: 66.7 % av ansatte har alle obligatoriske krav oppfylt; 4 av 5 bemanningskrav er oppfylt" in page
        assert "Helse Nord HF" in page and "71.4 %" in page  # Nord: 5 of 7
        nord = _page(client, "/indicators?unit=nord&competence=INT")
        assert "Intensiv Nord" in nord and "Dekning INT" in nord
        assert _page(client, "/indicators?competence=NOPE", 404)
        csv_text = client.get("/indicators/export.csv?unit=sor").get_data(as_text=True)
        assert "2027-01;sor-icu;*;*;2;1" in csv_text


def test_pages_need_sign_in_and_a_role(region):
    client = region.test_client()
    assert client.get("/capacity").status_code == 302
    from lrs.web import accounts
    from tests.helpers import password_hash
    with write_transaction(region.extensions["lrs.engine"]) as conn:
        accounts.create(conn, "emp", "Emp Loyee", ["employee"], password_hash(), employee_id="N2")
    sign_in(client, "emp")
    assert client.get("/capacity").status_code == 403
    assert client.get("/indicators").status_code == 403


def test_a_target_page_computes_that_target_only(region, monkeypatch):
    """The page of a target on a trust forecasts that target, not every target under the trust as well."""
    from lrs.capacity import forecast
    computed = []
    real = forecast._target_result
    monkeypatch.setattr(forecast, "_target_result", lambda conn, t, *a: computed.append(t["target_id"])
                        or real(conn, t, *a))
    client = region.test_client()
    with time_machine.travel(NOW, tick=False):
        sign_in(client, "regine")
        page = _page(client, "/capacity/targets/T3")
    assert computed == ["T3"]
    assert "Hjerte-lunge-redning: Helse Nord HF" in page
