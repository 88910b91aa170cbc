"""Capacity and indicators in a real browser against a real server (the region of tests/capacity_support.py):
the regional user answers "where in the region will we fall short, and what closes it?" and drills down from the
region to a trust, a unit and one target; a unit leader finds their unit's targets from their own plan page.
Screenshots at 1366x768 and 390x844; axe-core finds nothing serious."""
from datetime import datetime, timezone

import pytest
import time_machine

from lrs import create_app
from lrs.capacity import jobs
from tests.browser_support import Site, at_width, axe_check, in_first_screen, shoot, sign_in
from tests.capacity_support import create_capacity_people, load_region
from tests.conftest import XAPIClient, basic, fresh_database, make_credential

pytestmark = pytest.mark.xdist_group("server")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A served LRS with the two-trust region, its targets, January 2027's indicators and the capacity users."""
    from lrs.store.migrate import upgrade
    from tests.server_support import Server
    with fresh_database("sqlite", tmp_path_factory.mktemp("capacity"), "capacity") as url:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests", "TESTING": True})
        upgrade(app.extensions["lrs.engine"])
        cred = make_credential(app)
        load_region(app, XAPIClient(app.test_client(), basic(cred["key"], cred["secret"])))
        with time_machine.travel(datetime(2027, 2, 3, 6, tzinfo=timezone.utc), tick=False):
            assert jobs.monthly_snapshot(app) == "2027-01"
        create_capacity_people(app.extensions["lrs.engine"])
        app.extensions["lrs.engine"].dispose()
        server = Server(url, workers=1, threads=4, env={"LRS_SECRET_KEY": "browser-tests",
                                                        "LRS_LOGIN_RATE_LIMIT": "1000 per minute"}).start(timeout=60)
        try:
            yield Site(server.url, server, {"region": "regine", "leader": "nina", "trust_admin": "tor"})
        finally:
            server.stop()


def test_the_region_finds_where_it_falls_short_and_drills_down(page, new_page):
    sign_in(page, "regine")
    page.goto("/capacity")
    heading = page.get_by_role("heading", name="Kapasitet: Regionen")
    lead = page.locator("p.lead")
    assert in_first_screen(page, heading) and in_first_screen(page, lead)
    assert "bemanningskrav er under minimum nå eller innen 3 måneder" in lead.inner_text()
    table = page.locator("table.capacity")
    assert table.get_by_role("row").count() == 6  # header + the 5 targets
    assert page.locator("svg.chart").count() == 1
    shoot(page, "kapasitet-region")
    axe_check(page)

    page.get_by_role("link", name="Helse Nord HF").first.click()
    page.get_by_role("heading", name="Kapasitet: Helse Nord HF").wait_for()
    assert "Intensiv Sør" not in page.locator("table.capacity").inner_text()
    page.get_by_role("link", name="Intensiv Nord").first.click()
    page.get_by_role("heading", name="Kapasitet: Intensiv Nord").wait_for()
    page.locator("table.capacity").get_by_role("link", name="Intensivsykepleie").click()
    page.get_by_role("heading", name="Hva lukker gapet").wait_for()
    assert page.get_by_role("table", name="Hvem må fornye, og innen når").is_visible()
    shoot(page, "kapasitet-krav")
    axe_check(page)

    page.goto("/indicators")
    page.get_by_role("heading", name="Indikatorer: Regionen").wait_for()
    assert in_first_screen(page, page.locator("p.lead"))
    assert "2027-01" in page.locator("p.lead").inner_text()
    page.get_by_role("link", name="Helse Nord HF").click()
    page.get_by_role("heading", name="Indikatorer: Helse Nord HF").wait_for()
    shoot(page, "indikatorer-foretak")
    axe_check(page)

    phone = new_page("phone")
    sign_in(phone, "regine")
    phone.goto("/capacity")
    assert in_first_screen(phone, phone.get_by_role("heading", name="Kapasitet: Regionen"))
    assert in_first_screen(phone, phone.locator("p.lead"))
    shoot(phone, "kapasitet-region-mobil")
    axe_check(phone)


def test_a_unit_leader_sees_their_units_targets_and_exports_them(page):
    sign_in(page, "nina")
    page.get_by_role("navigation", name="Hovedmeny").get_by_role("link", name="Kapasitet").click()
    page.get_by_role("heading", name="Kapasitet: Intensiv Nord").wait_for()
    assert "Akutt Nord" not in page.locator("main").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="Last ned CSV").click()
    assert download.value.suggested_filename == "kapasitet-nord-icu.csv"
    shoot(page, "kapasitet-enhet")
    axe_check(page)
    at_width(page, "phone")
    shoot(page, "kapasitet-enhet-mobil")
    axe_check(page)


def test_a_trust_admin_sets_a_target_in_the_form(page):
    sign_in(page, "tor")
    page.goto("/capacity/admin")
    page.get_by_role("heading", name="Bemanningskrav", exact=True).wait_for()
    axe_check(page)
    page.get_by_label("Id").fill("T9")
    page.get_by_label("Enhet").select_option("nord-akutt")
    page.get_by_label("Kompetanse").select_option("HLR")
    page.get_by_label("Minst antall personer").fill("2")
    page.get_by_role("button", name="Lagre").click()
    page.get_by_text("Lagret: 1 nye, 0 endret, 0 uendret.").wait_for()
    assert page.get_by_role("link", name="T9").is_visible()
    shoot(page, "bemanningskrav-admin")
    axe_check(page)
