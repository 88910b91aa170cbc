"""What guards the web UI and the cookie-signed-in APIs (docs/security.md): sessions that end on the server, the
sign-in rate limit across workers and instances, client addresses behind proxies, /metrics, security headers,
CSRF and Origin on the JSON APIs, certificate uploads, and the instructor's scope in the statement browser."""
import io
import re

import pytest
from werkzeug.http import parse_options_header

from lrs import create_app
from lrs.competence.directory import agent_for
from lrs.web import accounts
from lrs.store.db import read_transaction, write_transaction
from tests.competence_support import HOME, PASSED, days_ago, passed_hlr, process, send, statement
from tests.helpers import create_people, csrf_header, password_hash, sign_in, token_of

pytestmark = pytest.mark.usefixtures("trust")
EVIL = "https://evil.example.org"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(20)


@pytest.fixture
def people(app):
    create_people(app.extensions["lrs.engine"])
    with write_transaction(app.extensions["lrs.engine"]) as conn:
        accounts.create(conn, "ida", "Ida Instruktør", ["instructor"], password_hash(),
                        employee_id="I1", led_units=["drift"])
    app.config["RATELIMIT_ENABLED"] = True


def copy_of(app, client):
    """Another browser holding a copy of this client's session cookie."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def refused(client) -> bool:
    r = client.get("/plan")
    return r.status_code == 302 and "/login" in r.headers["Location"]


# ------------------------------------------------------------------------------------------------ sessions

def test_sign_out_ends_the_session_for_every_copy_of_the_cookie(app, people):
    kari = app.test_client()
    sign_in(kari, "kari")
    copy = copy_of(app, kari)
    assert copy.get("/plan").status_code == 200
    token = token_of(kari.get("/plan").get_data(as_text=True))
    assert kari.post("/logout", data={"csrf_token": token}).status_code == 302
    assert refused(copy) and refused(kari)


def test_a_new_password_ends_every_session(app, people):
    kari = app.test_client()
    sign_in(kari, "kari")
    copy = copy_of(app, kari)
    result = app.test_cli_runner().invoke(args=["users", "password", "kari", "--password", "et nytt passord 456"])
    assert result.exit_code == 0, result.output
    assert refused(copy) and refused(kari)
    assert app.test_cli_runner().invoke(args=["users", "password", "kari", "--password", "kort"]).exit_code != 0


def test_taking_a_role_away_ends_the_sessions_adding_one_does_not(app, people):
    lise = app.test_client()
    sign_in(lise, "lise")
    copy = copy_of(app, lise)
    admin = app.test_client()
    sign_in(admin, "admin")
    token = token_of(admin.get("/admin").get_data(as_text=True))
    with read_transaction(app.extensions["lrs.engine"]) as conn:
        lise_id = next(u["id"] for u in accounts.all_users(conn) if u["username"] == "lise")
    admin.post(f"/admin/users/{lise_id}/roles", data={"csrf_token": token, "roles": ["employee", "leader", "author"],
                                                      "led_units": "med"})
    assert copy.get("/leader").status_code == 200  # more rights: signed in still
    admin.post(f"/admin/users/{lise_id}/roles", data={"csrf_token": token, "roles": ["employee"], "led_units": ""})
    assert refused(copy) and refused(lise)


def test_an_admin_signs_a_user_out_everywhere(app, people):
    kari, phone = app.test_client(), app.test_client()
    sign_in(kari, "kari")
    sign_in(phone, "kari")
    copy = copy_of(app, kari)
    admin = app.test_client()
    sign_in(admin, "admin")
    page = admin.get("/admin").get_data(as_text=True)
    with read_transaction(app.extensions["lrs.engine"]) as conn:
        kari_id = next(u["id"] for u in accounts.all_users(conn) if u["username"] == "kari")
    assert f"/admin/users/{kari_id}/sign-out" in page and "Logg ut overalt" in page
    assert admin.post(f"/admin/users/{kari_id}/sign-out").status_code == 400  # no CSRF token
    assert not refused(kari)
    r = admin.post(f"/admin/users/{kari_id}/sign-out", data={"csrf_token": token_of(page)}, follow_redirects=True)
    assert "Logget ut overalt (2 økter)." in r.get_data(as_text=True)
    assert refused(kari) and refused(phone) and refused(copy)
    assert admin.get("/admin").status_code == 200  # the admin's own session lives on
    again = app.test_client()
    sign_in(again, "kari")  # and kari can sign in again
    assert not refused(again)


# ------------------------------------------------------------------------------------------------ rate limit

def fail(client, username, **kw):
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"username": username, "password": "feil passord!",
                                       "csrf_token": token_of(page)}, **kw)


def test_the_limit_is_counted_across_instances_per_user_name_and_address(app, people, db_url):
    other = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test"})
    try:
        clients = [app.test_client(), other.test_client()]
        codes = [fail(clients[i % 2], "kari").status_code for i in range(10)]
        assert codes == [200] * 10
        for client in clients:  # both instances now refuse kari from this address
            r = fail(client, "kari")
            assert r.status_code == 429 and int(r.headers["Retry-After"]) <= 60
            assert "For mange innloggingsforsøk. Prøv igjen om 1 minutter." in r.get_data(as_text=True)
        english = fail(clients[1], "kari", headers={"Accept-Language": "en"})
        assert "Too many sign-in attempts. Try again in 1 minutes." in english.get_data(as_text=True)
        # Someone else at the same address (a hospital's shared one) signs in as usual.
        assert sign_in(other.test_client(), "per").status_code == 302
    finally:
        other.extensions["lrs.engine"].dispose()


def test_behind_a_trusted_proxy_the_address_is_the_forwarded_one(app, people):
    app.config["RATELIMIT_ENABLED"] = True
    proxied = create_app({**app.config, "TRUSTED_PROXIES": 1})
    try:
        client = proxied.test_client()
        ward = {"X-Forwarded-For": "10.1.1.1"}
        for _ in range(10):
            assert fail(client, "kari", headers=ward).status_code == 200
        assert fail(client, "kari", headers=ward).status_code == 429
        # Another client address behind the same proxy is not locked out; with one trusted hop only the last
        # address counts, so a client cannot pick its own by sending X-Forwarded-For itself.
        assert fail(client, "kari", headers={"X-Forwarded-For": "10.2.2.2"}).status_code == 200
        assert fail(client, "kari", headers={"X-Forwarded-For": "10.2.2.2, 10.1.1.1"}).status_code == 429
        with read_transaction(proxied.extensions["lrs.engine"]) as conn:
            entry = accounts.audit_entries(conn)[0]
        assert entry["action"] == "sign-in-failed" and entry["ip"] == "10.2.2.2"  # the last one let through
        # Without trusted proxies the header is ignored: the socket peer is the client.
        direct = app.test_client()
        for _ in range(10):
            fail(direct, "per", headers={"X-Forwarded-For": "10.3.3.3"})
        assert fail(direct, "per", headers={"X-Forwarded-For": "10.4.4.4"}).status_code == 429
    finally:
        proxied.extensions["lrs.engine"].dispose()


def test_metrics_are_not_public_through_a_local_proxy(app):
    local = {"REMOTE_ADDR": "127.0.0.1"}
    assert app.test_client().get("/metrics", environ_base=local).status_code == 200
    # A proxy on the same machine forwards a request from anywhere: loopback peer, forwarding headers.
    assert app.test_client().get("/metrics", environ_base=local,
                                 headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
    proxied = create_app({**app.config, "TRUSTED_PROXIES": 1, "METRICS_TOKEN": "s3cret"})
    try:
        client = proxied.test_client()
        # ProxyFix takes the address from the header, but the check looks at the socket and the header.
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"},
                          headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 403
        assert client.get("/metrics", environ_base=local, headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 403
        assert client.get("/metrics", environ_base=local, headers={
            "X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer s3cret"}).status_code == 200
    finally:
        proxied.extensions["lrs.engine"].dispose()


# ------------------------------------------------------------------------------------------------ headers

INLINE = re.compile(r"<script(?![^>]*\bsrc=)|\son[a-z]+\s*=|\sstyle\s*=", re.I)


def test_every_kind_of_page_carries_the_security_headers(app, people, xapi):
    send(xapi, passed_hlr("E1", days_ago(3)))
    process(app)
    public = app.test_client().get("/login")
    csp = public.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert public.headers["X-Content-Type-Options"] == "nosniff"
    assert public.headers["Referrer-Policy"] == "same-origin" and public.headers["X-Frame-Options"] == "DENY"
    assert "no-store" not in public.headers.get("Cache-Control", "")
    pages = {"kari": ["/plan", "/employees/E1", "/privacy"],
             "lise": ["/leader?unit=med", "/employees/E2"],
             "admin": ["/admin", "/statements?person=E1", "/author", "/admin/privacy", "/sim/"]}
    for user, paths in pages.items():
        client = app.test_client()
        sign_in(client, user)
        for path in paths:
            r = client.get(path)
            assert r.status_code == 200, path
            assert r.headers["Content-Security-Policy"] == csp, path
            assert r.headers["Cache-Control"] == "no-store", path
            assert r.headers["X-Content-Type-Options"] == "nosniff", path
            assert not INLINE.search(r.get_data(as_text=True)), (path, INLINE.search(r.get_data(as_text=True)))
        if user == "kari":
            api = client.get("/api/competence/me/plan")
            assert api.headers["Cache-Control"] == "no-store" and api.headers["X-Content-Type-Options"] == "nosniff"
            report = client.get("/privacy/employees/E1/export.html")
            assert report.headers["Content-Security-Policy"].startswith("default-src 'none'")
            assert report.headers["Cache-Control"] == "no-store"
    css = app.test_client().get("/static/web/site.css")
    assert css.status_code == 200 and "no-store" not in css.headers.get("Cache-Control", "")


def test_who_may_frame_the_pages_is_a_setting(app):
    app.config["FRAME_ANCESTORS"] = "'self' https://moodle.helse.example.no"
    r = app.test_client().get("/login")
    assert r.headers["Content-Security-Policy"].endswith("frame-ancestors 'self' https://moodle.helse.example.no")
    assert "X-Frame-Options" not in r.headers


# ------------------------------------------------------------------------------------------------ JSON API CSRF

def test_the_cookie_api_takes_no_forged_form_posts(app, people):
    kari = app.test_client()
    sign_in(kari, "kari")
    form = {"competence": "BRANN", "title": "Brannkurs", "completed_on": "2026-10-01"}
    # What a page on another site can make a browser send: form fields, with that site as the Origin.
    assert kari.post("/api/competence/me/evidence", data=form, headers={"Origin": EVIL}).status_code == 403
    assert kari.post("/api/competence/me/evidence", json=form, headers={"Origin": EVIL}).status_code == 403
    r = kari.post("/api/competence/me/evidence", data=form)
    assert r.status_code == 400 and "X-CSRFToken" in r.get_json()["error"]["message"]
    assert kari.post("/api/competence/me/evidence", data=form, headers={"X-CSRFToken": "forged"}).status_code == 400
    # This site's pages: the token of the page's csrf-token meta tag, or JSON; from this origin.
    assert kari.post("/api/competence/me/evidence", data=form, headers={
        **csrf_header(kari), "Origin": "http://localhost"}).status_code == 201
    assert kari.post("/api/competence/me/evidence", json=form).status_code == 201
    app.config["ALLOWED_ORIGINS"] = "https://intranett.helse.example.no"
    assert kari.post("/api/competence/me/evidence", json=form,
                     headers={"Origin": "https://intranett.helse.example.no"}).status_code == 201


# ------------------------------------------------------------------------------------------------ certificates

def api_upload(client, content, name, declared):
    return client.post("/api/competence/me/evidence", headers=csrf_header(client), data={
        "competence": "BRANN", "title": "Brannkurs", "completed_on": "2026-10-01",
        "certificate": (io.BytesIO(content), name, declared)})


def test_a_certificate_is_judged_by_its_content_and_served_safely(app, people):
    kari = app.test_client()
    sign_in(kari, "kari")
    html = b"<html><script>alert(document.cookie)</script></html>"
    r = api_upload(kari, html, "bevis.png", "image/png")
    assert r.status_code == 400 and "not a PDF, PNG or JPEG" in r.get_json()["error"]["message"]
    page = kari.get("/plan").get_data(as_text=True)
    r = kari.post("/plan/evidence", content_type="multipart/form-data", follow_redirects=True, data={
        "csrf_token": token_of(page), "competence": "HLR", "title": "HLR", "completed_on": "2026-10-01",
        "certificate": (io.BytesIO(html), "bevis.pdf", "application/pdf")})
    # The page says so in the reader's words, beside the field, and keeps what was typed.
    assert r.status_code == 400 and "Kursbeviset må være en PDF-, PNG- eller JPEG-fil" in r.get_data(as_text=True)
    assert 'value="HLR"' in r.get_data(as_text=True)
    # A real PNG declared as something else, with a name that would break out of a quoted header (an API client
    # can send one: the multipart name is a quoted string with backslash escapes).
    name = 'kurs"bevis; x=1 æ.pdf'
    fields = b"".join(b'--b\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (k, v) for k, v in (
        (b"competence", b"BRANN"), (b"title", b"Brannkurs"), (b"completed_on", b"2026-10-01")))
    body = fields + (b'--b\r\nContent-Disposition: form-data; name="certificate"; filename="%s"\r\n'
                     b"Content-Type: application/pdf\r\n\r\n%s\r\n--b--\r\n") % (
        name.replace('"', '\\"').encode(), PNG)
    made = kari.post("/api/competence/me/evidence", data=body, content_type="multipart/form-data; boundary=b",
                     headers=csrf_header(kari))
    assert made.status_code == 201, made.get_json()
    for path in (f"/evidence/{made.get_json()['id']}/certificate",
                 f"/api/competence/evidence/{made.get_json()['id']}/certificate"):
        got = kari.get(path)
        assert got.data == PNG and got.mimetype == "image/png", path
        assert got.headers["X-Content-Type-Options"] == "nosniff"
        kind, params = parse_options_header(got.headers["Content-Disposition"])
        assert kind == "attachment" and params["filename"] == name, got.headers["Content-Disposition"]
        assert "filename*=UTF-8''" in got.headers["Content-Disposition"]


# ------------------------------------------------------------------------------------------------ instructors

def test_an_instructor_reads_the_units_and_sessions_they_teach_only(app, people, xapi):
    e1 = send(xapi, passed_hlr("E1", days_ago(3)))[0]  # akutt: not ida's
    e3 = send(xapi, passed_hlr("E3", days_ago(3)))[0]  # drift: ida teaches drift
    in_session = statement("E2", PASSED, "https://sim.helse.example.no/sepsis", days_ago(1),
                           {"success": True, "score": {"scaled": 0.7}})
    in_session["context"] = {"instructor": agent_for("I1", HOME)}
    led = send(xapi, in_session)[0]
    ida = app.test_client()
    sign_in(ida, "ida")
    everything = ida.get("/statements").get_data(as_text=True)
    assert led in everything and e1 not in everything and e3 not in everything
    assert "øktene du har ledet" in everything
    assert e3 in ida.get("/statements?person=E3").get_data(as_text=True)
    assert e1 not in ida.get("/statements?person=E1").get_data(as_text=True)
    assert led in ida.get("/statements?person=E2").get_data(as_text=True)
    assert ida.get(f"/statements/{e1}").status_code == 403
    assert ida.get(f"/statements/{e3}").status_code == 200
    assert ida.get(f"/statements/{led}").status_code == 200
    assert ida.get("/employees/E1").status_code == 403  # as before: no plans
    admin = app.test_client()
    sign_in(admin, "admin")
    assert e1 in admin.get("/statements?person=E1").get_data(as_text=True)
