"""Signing in through OpenID Connect, against a small identity provider started on loopback (discovery, authorize,
token, JWKS; RS256-signed ID tokens)."""
import http.server
import re
import json
import threading
import time
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from authlib.jose import JsonWebKey, jwt

from lrs.web import accounts
from lrs.store.db import read_transaction, write_transaction

pytestmark = pytest.mark.usefixtures("trust")


class IdentityProvider:
    """Approves every authorization request as `self.user` (claims), like a signed-in user clicking on."""

    def __init__(self):
        self.key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "k1"})
        self.user = {}
        self.codes = {}
        idp = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, body, status=200):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlsplit(self.path)
                if url.path == "/.well-known/openid-configuration":
                    return self._json({"issuer": idp.issuer, "authorization_endpoint": idp.issuer + "/authorize",
                                       "token_endpoint": idp.issuer + "/token", "jwks_uri": idp.issuer + "/jwks",
                                       "userinfo_endpoint": idp.issuer + "/userinfo",
                                       "id_token_signing_alg_values_supported": ["RS256"],
                                       "response_types_supported": ["code"], "subject_types_supported": ["public"]})
                if url.path == "/jwks":
                    return self._json({"keys": [idp.key.as_dict(is_private=False)]})
                if url.path == "/authorize":
                    q = {k: v[0] for k, v in parse_qs(url.query).items()}
                    code = uuid.uuid4().hex
                    idp.codes[code] = (q["client_id"], q.get("nonce"))
                    self.send_response(302)
                    self.send_header("Location", q["redirect_uri"] + "?" + urlencode({"code": code,
                                                                                     "state": q["state"]}))
                    self.end_headers()
                    return None
                return self._json({"error": "not_found"}, 404)

            def do_POST(self):
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                        .items()}
                client_id, nonce = idp.codes.pop(form.get("code"), (None, None))
                if client_id is None:
                    return self._json({"error": "invalid_grant"}, 400)
                now = int(time.time())
                claims = {"iss": idp.issuer, "aud": client_id, "iat": now, "exp": now + 300, "nonce": nonce,
                          **idp.user}
                token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, idp.key).decode()
                return self._json({"access_token": "at-" + uuid.uuid4().hex, "token_type": "Bearer",
                                   "expires_in": 300, "id_token": token})

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def idp(app):
    provider = IdentityProvider()
    app.config.update(OIDC_DISCOVERY_URL=provider.issuer + "/.well-known/openid-configuration",
                      OIDC_CLIENT_ID="kompetanse-lrs", OIDC_CLIENT_SECRET="client-secret",
                      OIDC_CLAIM="preferred_username")
    yield provider
    provider.close()


def oidc_sign_in(client, idp):
    start = client.get("/auth/oidc")
    assert start.status_code == 302 and start.headers["Location"].startswith(idp.issuer + "/authorize")
    back = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    callback = urlsplit(back.headers["Location"])
    return client.get(callback.path + "?" + callback.query)


def test_first_sign_in_is_matched_by_the_claim_then_by_subject(app, idp):
    engine = app.extensions["lrs.engine"]
    with write_transaction(engine) as conn:
        accounts.create(conn, "kari.nordmann", "Kari Nordmann", ["employee"], employee_id="E1")
    idp.user = {"sub": "helseid-123", "preferred_username": "kari.nordmann"}
    client = app.test_client()
    r = oidc_sign_in(client, idp)
    assert r.status_code == 302 and r.headers["Location"].endswith("/")
    assert "Kari Nordmann" in client.get("/plan").get_data(as_text=True)
    # Later sign-ins go by the subject, whatever the claim says now.
    idp.user = {"sub": "helseid-123", "preferred_username": "renamed"}
    other = app.test_client()
    oidc_sign_in(other, idp)
    assert other.get("/plan").status_code == 200
    with read_transaction(engine) as conn:
        assert [a["detail"] for a in accounts.audit_entries(conn) if a["action"] == "sign-in"] == ["oidc", "oidc"]


def test_unknown_person_is_not_signed_in(app, idp):
    idp.user = {"sub": "helseid-999", "preferred_username": "nobody"}
    client = app.test_client()
    r = oidc_sign_in(client, idp)
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    assert client.get("/plan").status_code == 302
    with read_transaction(app.extensions["lrs.engine"]) as conn:
        assert accounts.audit_entries(conn)[0]["action"] == "sign-in-failed"


def test_match_by_employee_id(app, idp):
    app.config.update(OIDC_CLAIM="employee_number", OIDC_MATCH="employee_id")
    with write_transaction(app.extensions["lrs.engine"]) as conn:
        accounts.create(conn, "lise", "Lise Leder", ["employee", "leader"], employee_id="L1",
                        led_units=["med"])
    idp.user = {"sub": "entra-77", "employee_number": "L1"}
    client = app.test_client()
    oidc_sign_in(client, idp)
    assert client.get("/leader").status_code == 200


def test_an_oidc_session_ends_on_the_server_like_any_other(app, idp):
    """OpenID Connect sign-ins get the same server-side session: a copy of the cookie dies with sign-out."""
    with write_transaction(app.extensions["lrs.engine"]) as conn:
        accounts.create(conn, "kari.nordmann", "Kari Nordmann", ["employee"], employee_id="E1")
    idp.user = {"sub": "helseid-123", "preferred_username": "kari.nordmann"}
    client = app.test_client()
    oidc_sign_in(client, idp)
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    page = copy.get("/plan")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/plan").get_data(as_text=True)).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert copy.get("/plan").status_code == 302
