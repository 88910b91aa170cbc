"""The LTI 1.3 tool (lrs/lti) against a loopback LTI platform of our own (tests/lti_platform.py, a real HTTP server):
registration (dynamic and by hand), keys, launches for matched and unmatched people, forged and replayed launches
refused, deep linking of a module, the grade posted back when the module is passed, and NRPS members into a
simulation session."""
import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from lrs import scheduler
from lrs.lti import service
from lrs.lti.tables import lti_grades
from lrs.store.types import utcnow
from lrs.web import accounts
from lrs.web.tables import audit_log
from lrs.store.db import write_transaction
from tests.cmi5_support import AU, COURSE_ID, Admin, au_xml, course_xml, zip_package
from tests.helpers import PASSWORD, create_people, password_hash, sign_in, token_of
from tests.lti_platform import INSTRUCTOR, LTI, Platform, new_key

TOOL = "http://127.0.0.1:8080"  # PUBLIC_URL's default: the addresses the tool gives platforms


@pytest.fixture
def moodle():
    with Platform() as platform:
        yield platform


@pytest.fixture
def people(trust):
    app = trust
    create_people(app.extensions["lrs.engine"])
    with write_transaction(app.extensions["lrs.engine"]) as conn:
        accounts.create(conn, "ingrid", "Ingrid Instruktør", ["instructor", "employee"],
                        password_hash(), employee_id="I1")


def cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def registered(app, moodle, people):
    """The platform registered by hand (`lrs lti add-platform`), the tool's values given to the platform."""
    platform_id = cli(app, "lti", "add-platform", "--name", "Helse Vest Moodle", "--issuer", moodle.url,
                      "--client-id", moodle.client_id, "--deployment", moodle.deployment_id,
                      "--auth-login-url", moodle.url + "/auth", "--auth-token-url", moodle.url + "/token",
                      "--key-set-url", moodle.url + "/jwks").strip()
    moodle.register_tool(TOOL + "/lti/login", TOOL + "/lti/launch", TOOL + f"/lti/jwks/{platform_id}")
    moodle.tool_key_set = app.test_client().get(f"/lti/jwks/{platform_id}").get_json()
    return platform_id


KARI = {"sub": "moodle-11", "name": "Kari Nordmann", "idnumber": "E1"}
LISE = {"sub": "moodle-12", "name": "Lise Leder", "idnumber": "L1", "custom": {"page": "leader"}}
NOBODY = {"sub": "moodle-99", "name": "Ola Ukjent", "idnumber": "E999"}
INGRID = {"sub": "moodle-20", "name": "Ingrid Instruktør", "idnumber": "I1", "roles": [INSTRUCTOR], "nrps": True}


def login(client, moodle) -> dict:
    """The platform's login initiation; returns the authorization request the tool sent the browser to."""
    r = client.get("/lti/login", query_string=moodle.login_params())
    assert r.status_code == 302, r.get_data(as_text=True)
    location = r.headers["Location"]
    assert location.startswith(moodle.url + "/auth?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def launch(client, moodle, user, *, sign=None, **claims):
    auth = login(client, moodle)
    assert auth["redirect_uri"] == TOOL + "/lti/launch" and auth["client_id"] == moodle.client_id
    body = moodle.claims(user, nonce=auth["nonce"], **claims)
    token = sign(body) if sign else moodle.sign(body)
    form = {"id_token": token, "state": auth["state"]}
    return client.post("/lti/launch", data=form), form


def run_job(app, minutes):
    """The grade job, in its own time slot (it runs once per slot across instances)."""
    assert scheduler.run(app, "lti.grades", now=utcnow() + timedelta(minutes=minutes))


def audited(app, action):
    with app.extensions["lrs.engine"].connect() as conn:
        return [r.detail for r in conn.execute(select(audit_log).where(audit_log.c.action == action))]


# ------------------------------------------------------------------------------------------------ registration

def test_dynamic_registration_with_a_one_time_address(app, moodle, people):
    admin = app.test_client()
    sign_in(admin, "admin")
    page = admin.get("/lti/admin").get_data(as_text=True)
    r = admin.post("/lti/admin", data={"action": "registration-url", "csrf_token": token_of(page)})
    address = re.search(r'<pre id="registration-url"[^>]*>([^<]+)</pre>', r.get_data(as_text=True)).group(1)
    address = address.replace("&amp;", "&")
    assert address.startswith(TOOL + "/lti/register?token=")
    path = urlsplit(address).path
    token = parse_qs(urlsplit(address).query)["token"][0]

    # Moodle opens the pasted address with its configuration and its registration token
    opened = {"token": token, "openid_configuration": moodle.url + "/.well-known/openid-configuration",
              "registration_token": moodle.registration_token}
    r = app.test_client().get(path, query_string=opened)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert "Verktøyet er registrert" in r.get_data(as_text=True)
    # what the tool told Moodle
    assert moodle.tool["initiate_login_uri"] == TOOL + "/lti/login"
    assert moodle.tool["redirect_uris"] == [TOOL + "/lti/launch"]
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in moodle.tool["scope"]
    assert "contextmembership.readonly" in moodle.tool["scope"]
    messages = moodle.tool["registration"]["https://purl.imsglobal.org/spec/lti-tool-configuration"]["messages"]
    assert {m["type"] for m in messages} == {"LtiDeepLinkingRequest", "LtiResourceLinkRequest"}
    # and what the tool kept
    [p] = json.loads(cli(app, "lti", "platforms", "--json"))
    assert (p["issuer"], p["client_id"], p["deployment_ids"]) == (moodle.url, moodle.client_id, moodle.deployment_id)
    assert p["auth_login_url"] == moodle.url + "/auth" and p["key_set_url"] == moodle.url + "/jwks"
    assert moodle.tool["jwks_uri"] == p["jwks"]

    # the address works once
    again = app.test_client().get(path, query_string=opened)
    assert again.status_code == 403 and "Registreringsadressen gjelder ikke" in again.get_data(as_text=True)
    # and a launch works right away (the key set of the tool answers on the address Moodle was given)
    moodle.tool_key_set = app.test_client().get(urlsplit(p["jwks"]).path).get_json()
    r, _ = launch(app.test_client(), moodle, KARI)
    assert r.status_code == 302 and r.headers["Location"] == "/plan"


def test_manual_registration_values_on_the_admin_page(app, moodle, registered):
    admin = app.test_client()
    sign_in(admin, "admin")
    page = admin.get("/lti/admin").get_data(as_text=True)
    assert "Helse Vest Moodle" in page
    for value in (TOOL + "/lti/login", TOOL + "/lti/launch", TOOL + f"/lti/jwks/{registered}"):
        assert f"<code>{value}</code>" in page
    # a second trust, entered by hand on the page: its own key set
    r = admin.post("/lti/admin", data={"action": "new", "name": "Helse Nord Moodle", "csrf_token": token_of(page)})
    assert r.status_code == 302
    platforms = json.loads(cli(app, "lti", "platforms", "--json"))
    nord = next(p for p in platforms if p["name"] == "Helse Nord Moodle")
    page = admin.get("/lti/admin").get_data(as_text=True)
    r = admin.post("/lti/admin", data={"action": "save", "platform": nord["id"], "issuer": "https://moodle.nord.example",
                                       "client_id": "abc", "auth_login_url": "https://moodle.nord.example/auth",
                                       "auth_token_url": "https://moodle.nord.example/token",
                                       "key_set_url": "https://moodle.nord.example/jwks", "deployment_ids": "3",
                                       "match_claim": "sub", "match_field": "username",
                                       "csrf_token": token_of(page)})
    assert r.status_code == 302
    nord = next(p for p in json.loads(cli(app, "lti", "platforms", "--json")) if p["name"] == "Helse Nord Moodle")
    assert (nord["issuer"], nord["match_field"], nord["deployment_ids"]) == ("https://moodle.nord.example", "username", "3")
    vest = app.test_client().get(f"/lti/jwks/{registered}").get_json()["keys"]
    assert {k["kid"] for k in vest}.isdisjoint(
        k["kid"] for k in app.test_client().get(f"/lti/jwks/{nord['id']}").get_json()["keys"])
    # bad input is answered in words
    r = admin.post("/lti/admin", data={"action": "save", "platform": nord["id"], "key_set_url": "ftp://x",
                                       "csrf_token": token_of(page)}, follow_redirects=True)
    assert "key_set_url must be an http(s) address" in r.get_data(as_text=True)
    # not for others
    kari = app.test_client()
    sign_in(kari, "kari")
    assert kari.get("/lti/admin").status_code == 403


def test_key_rotation_keeps_the_old_key_in_the_set(app, registered):
    before = app.test_client().get(f"/lti/jwks/{registered}").get_json()["keys"]
    assert len(before) == 1 and before[0]["alg"] == "RS256" and "d" not in before[0]
    out = cli(app, "lti", "rotate-key", registered)
    kid = out.split("new key ")[1].strip()
    after = app.test_client().get(f"/lti/jwks/{registered}").get_json()["keys"]
    assert [k["kid"] for k in after] == [kid, before[0]["kid"]]
    assert app.test_client().get("/lti/jwks/nope").status_code == 404
    assert "new key" in cli(app, "lti", "rotate-key", "--all")
    assert len(app.test_client().get(f"/lti/jwks/{registered}").get_json()["keys"]) == 3
    # past the grace period only the current key is left
    app.config["LTI_KEY_GRACE_HOURS"] = 0
    assert len(app.test_client().get(f"/lti/jwks/{registered}").get_json()["keys"]) == 1
    assert "/lti/register?token=" in cli(app, "lti", "registration-url")


# ------------------------------------------------------------------------------------------------ launches

def test_launch_signs_the_employee_in_on_their_plan(app, moodle, registered):
    client = app.test_client()
    r, _ = launch(client, moodle, KARI)
    assert r.status_code == 302 and r.headers["Location"] == "/plan"
    page = client.get("/plan")
    assert page.status_code == 200 and "Min kompetanseplan" in page.get_data(as_text=True)
    # framed by the platform that launched it, and no other
    csp = page.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {moodle.url}" in csp
    assert "X-Frame-Options" not in page.headers
    assert audited(app, "sign-in") == ["lti Helse Vest Moodle"]


def test_launch_of_a_leader_lands_on_the_overview(app, moodle, registered):
    client = app.test_client()
    r, _ = launch(client, moodle, LISE)
    assert r.status_code == 302 and r.headers["Location"] == "/leader"
    assert client.get("/leader").status_code == 200


def test_a_launch_without_an_employee_number_lands_where_signing_in_would(app, moodle, registered):
    """Matched by user name, a person who is nobody's employee lands on the sign-in's start page for their roles
    (the one LANDING map); page=leader still takes an admin to the overview, and an employee to their plan."""
    engine = app.extensions["lrs.engine"]
    with engine.begin() as conn:
        accounts.create(conn, "leo", "Leo Leder", ["leader"], password_hash(), led_units=["med"])
        service.update_platform(conn, registered, match_field="username")
    landed = {}
    for name, custom in (("admin", {}), ("leo", {}), ("ingrid", {}), ("kari", {}), ("admin", {"page": "leader"})):
        r, _ = launch(app.test_client(), moodle, {"sub": f"moodle-{name}", "idnumber": name, "custom": custom})
        assert r.status_code == 302, r.get_data(as_text=True)
        landed[name + ("+leader" if custom else "")] = r.headers["Location"]
    assert landed == {"admin": "/admin", "leo": "/leader", "ingrid": "/plan", "kari": "/plan",
                      "admin+leader": "/leader"}


def test_unmatched_launch_says_so_and_is_logged(app, moodle, registered):
    client = app.test_client()
    r, _ = launch(client, moodle, NOBODY)
    text = r.get_data(as_text=True)
    assert r.status_code == 403
    assert "Vi fant deg ikke her" in text and "E999" in text and "ikke knyttet til noen ansatt" in text
    assert client.get("/plan").status_code == 302  # not signed in
    [detail] = audited(app, "lti-launch-unmatched")
    assert "person_sourcedid='E999'" in detail and "moodle-99" in detail


def test_framed_session_cookie_over_https(app, moodle, registered):
    client = app.test_client()
    auth = client.get("/lti/login", query_string=moodle.login_params(), base_url="https://127.0.0.1")
    query = {k: v[0] for k, v in parse_qs(urlsplit(auth.headers["Location"]).query).items()}
    token = moodle.sign(moodle.claims(KARI, nonce=query["nonce"]))
    r = client.post("/lti/launch", data={"id_token": token, "state": query["state"]}, base_url="https://127.0.0.1")
    assert r.status_code == 302
    cookie = next(c for c in r.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "SameSite=None" in cookie and "Secure" in cookie and "Partitioned" in cookie and "HttpOnly" in cookie
    # a password sign-in keeps the site's own Lax cookie
    other = app.test_client()
    page = other.get("/login", base_url="https://127.0.0.1").get_data(as_text=True)
    r = other.post("/login", data={"username": "per", "password": PASSWORD, "csrf_token": token_of(page)},
                   base_url="https://127.0.0.1", headers={"Referer": "https://127.0.0.1/login"})
    cookie = next(c for c in r.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "SameSite=Lax" in cookie


def _refused(app, r, why):
    text = r.get_data(as_text=True)
    assert r.status_code == 403, text
    assert "Oppstarten fra Moodle ble avvist" in text
    assert any(why in d for d in audited(app, "lti-launch-refused")), audited(app, "lti-launch-refused")


def test_forged_launches_are_refused(app, moodle, registered):
    client = app.test_client()
    _, forger_pem = new_key()
    # signed by another key under the platform's key id
    r, _ = launch(client, moodle, KARI, sign=lambda body: moodle.sign(body, key_pem=forger_pem))
    _refused(app, r, "Can't decode id_token")
    # for another tool (audience)
    r, _ = launch(client, moodle, KARI, aud="another-tool")
    _refused(app, r, "Registration not found")
    # expired
    r, _ = launch(client, moodle, KARI, exp_in=-120)
    _refused(app, r, "expired")
    # an id_token whose nonce is not the one this login gave
    r, _ = launch(client, moodle, KARI, sign=lambda body: moodle.sign({**body, "nonce": "other-nonce"}))
    _refused(app, r, "nonce")
    # a deployment the platform did not make
    r, _ = launch(client, moodle, KARI, **{LTI + "deployment_id": "77"})
    _refused(app, r, "deployment")
    # a state no login here gave
    token = moodle.sign(moodle.claims(KARI, nonce="n1"))
    r = client.post("/lti/launch", data={"id_token": token, "state": "state-made-up"})
    _refused(app, r, "State not found")
    assert client.get("/plan").status_code == 302  # nobody got signed in


def test_bad_requests_are_answered_in_words(app, moodle, registered):
    client = app.test_client()
    r = client.get("/lti/login", query_string={"login_hint": "x"})  # no issuer
    assert r.status_code == 400 and "Innloggingen fra Moodle ble avvist" in r.get_data(as_text=True)
    r = client.get("/lti/login", query_string=dict(moodle.login_params(), iss="https://moodle.unknown.example"))
    assert r.status_code == 400
    r = client.get("/lti/login", query_string=dict(moodle.login_params(), target_link_uri="https://evil.example/"))
    assert r.status_code == 400
    assert client.post("/lti/launch", data={}).status_code == 403
    auth = login(client, moodle)
    r = client.post("/lti/launch", data={"state": auth["state"]})  # no id_token
    assert r.status_code == 403 and "id_token" in r.get_data(as_text=True)
    r = client.post("/lti/launch", data={"state": login(client, moodle)["state"], "id_token": "not.a.jwt"})
    assert r.status_code == 403
    assert client.post("/lti/deep-link", data={"launch_id": "lti1p3-launch-nope", "course": "x"}).status_code == 400
    assert client.get("/lti/register", query_string={"token": "made-up"}).status_code == 403


def test_replayed_launch_is_refused(app, moodle, registered):
    r, form = launch(app.test_client(), moodle, KARI)
    assert r.status_code == 302
    again = app.test_client().post("/lti/launch", data=form)  # the same id_token and state, once more
    _refused(app, again, "State not found")


# ------------------------------------------------------------------------------------------------ modules

@pytest.fixture
def module(app):
    admin = Admin(app)
    r = admin.import_(zip_package(course_xml(body=au_xml(1))))
    assert r.status_code in (200, 201), r.get_json()
    return r.get_json()


def test_deep_linking_places_a_module(app, moodle, registered, module):
    author = {"sub": "moodle-30", "name": "Forfatter", "idnumber": "", "roles": [INSTRUCTOR],
              "message_type": "LtiDeepLinkingRequest"}
    client = app.test_client()
    r, _ = launch(client, moodle, author, message_type="LtiDeepLinkingRequest")
    page = r.get_data(as_text=True)
    assert r.status_code == 200, page
    assert "Velg modul til Moodle-kurset" in page and "Testkurs" in page
    assert f"frame-ancestors 'self' {moodle.url}" in r.headers["Content-Security-Policy"]
    launch_id = re.search(r'name="launch_id" value="([^"]+)"', page).group(1)

    r = client.post("/lti/deep-link", data={"launch_id": launch_id, "course": COURSE_ID})
    page = r.get_data(as_text=True)
    assert r.status_code == 200, page
    assert f'action="{moodle.url}/deep-link-return"' in page
    # the app's one policy (images too), with Moodle's return address as the form's target
    csp = r.headers["Content-Security-Policy"]
    assert f"form-action 'self' {moodle.url};" in csp and "img-src 'self' data:" in csp
    assert f"frame-ancestors 'self' {moodle.url}" in csp
    jwt_value = re.search(r'name="JWT" value="([^"]+)"', page).group(1)
    answer = moodle.decode_tool_jwt(jwt_value, moodle.tool_key_set)
    assert answer["iss"] == moodle.client_id
    assert answer[LTI + "message_type"] == "LtiDeepLinkingResponse"
    assert answer["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "dl-data-1"
    [item] = answer["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink" and item["url"] == TOOL + "/lti/launch"
    assert item["custom"] == {"course": COURSE_ID} and item["title"] == "Testkurs"
    assert item["lineItem"]["scoreMaximum"] == 100
    # one answer per launch
    again = client.post("/lti/deep-link", data={"launch_id": launch_id, "course": COURSE_ID})
    assert again.status_code == 400 and "Valget har gått ut" in again.get_data(as_text=True)


def test_grade_goes_back_when_the_module_is_passed(app, moodle, registered, module):
    client = app.test_client()
    kari = dict(KARI, custom={"course": COURSE_ID}, lineitem="17")
    r, _ = launch(client, moodle, kari)
    assert r.status_code == 302
    au = AU(app, r.headers["Location"]).start()
    assert au.actor["account"]["name"] == "E1"
    assert au.send(au.initialized()).status_code == 200
    run_job(app, minutes=0)
    assert moodle.scores == []  # not passed yet: nothing goes back

    assert au.send(au.passed(0.85), au.completed(), au.terminated()).status_code == 200
    moodle.fail_scores = 1  # Moodle is down once: the grade waits, with the reason, for the next run
    run_job(app, minutes=1)
    assert moodle.scores == []
    with app.extensions["lrs.engine"].connect() as conn:
        [row] = conn.execute(select(lti_grades)).mappings().all()
    assert row["sent"] is None and row["error"]
    run_job(app, minutes=2)
    [(item, score)] = moodle.scores
    assert item == "17"
    assert score["userId"] == "moodle-11" and score["scoreGiven"] == 85 and score["scoreMaximum"] == 100
    assert score["activityProgress"] == "Completed" and score["gradingProgress"] == "FullyGraded"
    run_job(app, minutes=3)
    assert len(moodle.scores) == 1  # sent once


def test_a_passed_learner_is_sent_however_many_older_ones_are_unfinished(app, moodle, registered, module):
    """The job takes the done grades first: 200+ older unfinished ones (more than a run takes) do not starve a
    newer passed one."""
    client = app.test_client()
    r, _ = launch(client, moodle, dict(KARI, custom={"course": COURSE_ID}, lineitem="17"))
    assert r.status_code == 302  # Kari's registration: launched, not finished
    with app.extensions["lrs.engine"].begin() as conn:
        [kari] = conn.execute(select(lti_grades)).mappings().all()
        conn.execute(lti_grades.insert(), [
            {**{k: kari[k] for k in ("platform_id", "scope", "employee_id", "publisher_id", "registration")},
             "lineitem": f"{moodle.url}/lineitems/old-{i}", "platform_user": f"moodle-old-{i}", "created": utcnow()}
            for i in range(205)])
    per = {"sub": "moodle-13", "name": "Per Olsen", "idnumber": "E3", "custom": {"course": COURSE_ID},
           "lineitem": "18"}
    r, _ = launch(app.test_client(), moodle, per)
    au = AU(app, r.headers["Location"]).start()
    assert au.send(au.initialized(), au.passed(0.9), au.completed(), au.terminated()).status_code == 200
    run_job(app, minutes=0)
    [(item, score)] = moodle.scores
    assert item == "18" and score["userId"] == "moodle-13" and score["scoreGiven"] == 90


def test_a_deep_linked_module_that_is_gone_is_said_in_words(app, moodle, registered):
    r, _ = launch(app.test_client(), moodle, dict(KARI, custom={"course": "https://kurs.example/borte"}))
    assert r.status_code == 404 and "er ikke publisert her" in r.get_data(as_text=True)


# ------------------------------------------------------------------------------------------------ NRPS

def test_course_members_become_simulation_participants(app, moodle, registered):
    moodle.members["course-7"] = [
        {"user_id": "moodle-11", "name": "Kari Nordmann", "lis_person_sourcedid": "E1", "status": "Active",
         "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]},
        {"user_id": "moodle-13", "name": "Per Olsen", "lis_person_sourcedid": "E3", "status": "Active",
         "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]},
        {"user_id": "moodle-99", "name": "Ola Ukjent", "lis_person_sourcedid": "X9", "status": "Active",
         "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]},
    ]
    client = app.test_client()
    r, _ = launch(client, moodle, INGRID)
    assert r.status_code == 302
    [ctx] = client.get("/api/lti/contexts").get_json()["contexts"]
    assert ctx["title"] == "Hjerte-lungeredning 2026" and ctx["platform"] == "Helse Vest Moodle" and ctx["members"]
    found = client.get(f"/api/lti/contexts/{ctx['id']}/members").get_json()
    assert found["employee_ids"] == ["E1", "E3"] and found["unmatched"] == 1

    # the session form's button: the members come back into the form's participant list
    form_page = client.get("/sim/new").get_data(as_text=True)
    assert "Hent deltakere fra et Moodle-kurs" in form_page
    picker = client.get("/lti/members", query_string={"next": "/sim/new?scenario=x"})
    assert "Hjerte-lungeredning 2026" in picker.get_data(as_text=True)
    r = client.get("/lti/members", query_string={"next": "/sim/new", "context": ctx["id"]})
    assert r.status_code == 302
    participants = parse_qs(urlsplit(r.headers["Location"]).query)["participants"][0]
    assert participants.splitlines() == ["E1; ; ", "E3; ; "]
    filled = client.get(r.headers["Location"]).get_data(as_text=True)
    assert 'name="p0_id" value="E1"' in filled and 'name="p1_id" value="E3"' in filled

    # employees and other instructors' courses: not theirs
    kari = app.test_client()
    sign_in(kari, "kari")
    assert kari.get("/api/lti/contexts").status_code == 403
    lise = app.test_client()
    with write_transaction(app.extensions["lrs.engine"]) as conn:
        accounts.create(conn, "ivar", "Ivar", ["instructor"], password_hash())
    sign_in(lise, "ivar")
    assert lise.get(f"/api/lti/contexts/{ctx['id']}/members").status_code == 404


def test_every_lti_text_has_its_english(app):
    """Each nb text of the LTI pages (templates and views, as gettext sees them) is in the English catalog."""
    from pathlib import Path

    from babel.messages.extract import extract_from_file
    from babel.messages.pofile import read_po
    root = Path(app.root_path)
    with open(root / "web/translations/en/LC_MESSAGES/messages.po", "rb") as f:
        english = {m.id for m in read_po(f) if m.id and m.string}
    texts = {msg for source in (root / "lti").glob("*.py") for _, msg, _, _ in extract_from_file("python", source)}
    for source in (root / "lti").rglob("*.html"):
        texts |= {m.group(2) for m in re.finditer(r'_l?\(\s*(["\'])((?:(?!\1).)*)\1', source.read_text())}
    assert len(texts) > 50 and texts <= english, sorted(texts - english)
