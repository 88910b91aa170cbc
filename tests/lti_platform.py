"""A loopback LTI 1.3 platform (what Moodle is to the tool), for the tests: a real HTTP server on 127.0.0.1 that
signs launches with its own key (PyJWT, jwcrypto), serves its key set and OpenID configuration, answers LTI Dynamic
Registration, the OIDC authorization step, OAuth 2 client credentials (checking the tool's signed assertion against
the tool's key set), AGS scores and NRPS memberships, and has a page that launches the tool in an iframe and in a
new window (the Playwright journey)."""
import html
import json
import threading
import time
import uuid
from urllib.parse import urlencode

import jwt
import requests
from flask import Flask, abort, jsonify, request
from jwcrypto import jwk
from werkzeug.serving import make_server

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def new_key():
    key = jwk.JWK.generate(kty="RSA", size=2048)
    return key, key.export_to_pem(private_key=True, password=None).decode()


class Platform:
    """`with Platform() as moodle:` … moodle.url is its issuer. After registration (`register_tool` or dynamic),
    `moodle.client_id` and `moodle.deployment_id` name the tool there."""

    def __init__(self, host: str = "127.0.0.1"):
        self.key, self.pem = new_key()
        self.kid = self.key.thumbprint()
        self.host = host
        self.client_id = "tool-" + uuid.uuid4().hex[:8]
        self.deployment_id = "1"
        self.registration_token = "reg-" + uuid.uuid4().hex
        self.tool = {}  # what the tool registered: initiate_login_uri, jwks_uri, redirect_uris …
        self.tool_key_set = None  # set by the test when the tool's JWKS is not reachable over HTTP
        self.tokens = {}  # access token -> scopes
        self.scores = []  # (lineitem, score document) posted by the tool
        self.fail_scores = 0  # answer this many score posts with 503 (an outage)
        self.members = {}  # context id -> [member]
        self.pending = {}  # nonce -> claims of the launch the next authorization gives
        self.launch = {}  # the claims the launch page's OIDC authorization gives (the journey)
        self.app = self._make_app()

    # ------------------------------------------------------------------ server
    def __enter__(self):
        self.server = make_server(self.host, 0, self.app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://{self.host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)

    # ------------------------------------------------------------------ the tool's registration by hand
    def register_tool(self, login_url: str, launch_url: str, jwks_url: str | None = None):
        self.tool = {"initiate_login_uri": login_url, "redirect_uris": [launch_url], "jwks_uri": jwks_url,
                     "target_link_uri": launch_url}

    def public_jwks(self) -> dict:
        public = json.loads(self.key.export_public())
        public.update(kid=self.kid, alg="RS256", use="sig")
        return {"keys": [public]}

    # ------------------------------------------------------------------ launches
    def claims(self, user: dict, *, nonce: str, message_type: str = "LtiResourceLinkRequest", aud=None,
               exp_in: int = 300, **extra) -> dict:
        now = int(time.time())
        body = {
            "iss": self.url, "aud": aud if aud is not None else self.client_id, "sub": user["sub"],
            "iat": now, "exp": now + exp_in, "nonce": nonce, "name": user.get("name", ""),
            "email": user.get("email", ""),
            LTI + "deployment_id": self.deployment_id, LTI + "message_type": message_type, LTI + "version": "1.3.0",
            LTI + "roles": user.get("roles", [LEARNER]),
            LTI + "lis": {"person_sourcedid": user.get("idnumber", "")},
            LTI + "context": {"id": "course-7", "label": "HLR", "title": "Hjerte-lungeredning 2026"},
            LTI + "custom": dict(user.get("custom", {})),
        }
        if message_type == "LtiResourceLinkRequest":
            body[LTI + "resource_link"] = {"id": user.get("resource_link", "link-1"), "title": "Kompetanse"}
            body[LTI + "target_link_uri"] = self.tool.get("target_link_uri", "")
        else:
            body[DL + "deep_linking_settings"] = {
                "deep_link_return_url": self.url + "/deep-link-return", "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"], "accept_multiple": False,
                "data": "dl-data-1"}
        if user.get("lineitem"):
            body[AGS] = {"scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                                   "https://purl.imsglobal.org/spec/lti-ags/scope/score"],
                         "lineitem": self.url + "/lineitems/" + user["lineitem"],
                         "lineitems": self.url + "/lineitems"}
        if user.get("nrps"):
            body[NRPS] = {"context_memberships_url": self.url + "/memberships/course-7",
                          "service_versions": ["2.0"]}
        body.update(extra)
        return body

    def sign(self, claims: dict, key_pem: str | None = None, kid: str | None = None) -> str:
        return jwt.encode(claims, key_pem or self.pem, algorithm="RS256", headers={"kid": kid or self.kid})

    def login_params(self, target: str = "", message_hint: str = "") -> dict:
        return {"iss": self.url, "login_hint": "moodle-user", "target_link_uri": target or self.tool["redirect_uris"][0],
                "client_id": self.client_id, "lti_message_hint": message_hint or "hint",
                "lti_deployment_id": self.deployment_id}

    # ------------------------------------------------------------------ the platform's HTTP side
    def _make_app(self):
        app = Flask("lti_platform")
        platform = self

        @app.get("/.well-known/openid-configuration")
        def openid_configuration():
            base = platform.url
            return jsonify({
                "issuer": base, "authorization_endpoint": base + "/auth", "token_endpoint": base + "/token",
                "jwks_uri": base + "/jwks", "registration_endpoint": base + "/register",
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "scopes_supported": ["openid"], "response_types_supported": ["id_token"],
                "id_token_signing_alg_values_supported": ["RS256"], "subject_types_supported": ["public"],
                "claims_supported": ["sub", "iss", "name", "email"],
                "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                    "product_family_code": "moodle", "version": "4.5",
                    "messages_supported": [{"type": "LtiResourceLinkRequest"}, {"type": "LtiDeepLinkingRequest"}]},
            })

        @app.post("/register")
        def register():
            if request.headers.get("Authorization") != "Bearer " + platform.registration_token:
                abort(401)
            body = request.get_json()
            platform.tool = {"initiate_login_uri": body["initiate_login_uri"], "jwks_uri": body["jwks_uri"],
                             "redirect_uris": body["redirect_uris"], "scope": body.get("scope", ""),
                             "target_link_uri": body["https://purl.imsglobal.org/spec/lti-tool-configuration"]
                             ["target_link_uri"], "registration": body}
            answer = dict(body, client_id=platform.client_id)
            answer["https://purl.imsglobal.org/spec/lti-tool-configuration"] = dict(
                body["https://purl.imsglobal.org/spec/lti-tool-configuration"], deployment_id=platform.deployment_id)
            return jsonify(answer)

        @app.get("/jwks")
        def jwks():
            return jsonify(platform.public_jwks())

        @app.get("/auth")
        def auth():
            """The OIDC authorization step: answers with the signed launch, posted to the redirect URI."""
            args = request.args
            if args.get("client_id") != platform.client_id or args.get("redirect_uri") not in platform.tool.get(
                    "redirect_uris", []):
                abort(400)
            user = platform.pending.pop(args.get("login_hint"), None) or platform.launch
            message_type = user.get("message_type", "LtiResourceLinkRequest")
            token = platform.sign(platform.claims(user, nonce=args["nonce"], message_type=message_type))
            return (f'<!doctype html><html lang="nb"><title>Moodle</title><body>'
                    f'<form id="f" method="post" action="{html.escape(args["redirect_uri"])}">'
                    f'<input type="hidden" name="id_token" value="{token}">'
                    f'<input type="hidden" name="state" value="{html.escape(args["state"])}"></form>'
                    f'<script>document.getElementById("f").submit()</script></body></html>')

        @app.post("/token")
        def token():
            form = request.form
            assertion = form.get("client_assertion", "")
            keys = platform.tool_key_set or requests.get(platform.tool["jwks_uri"], timeout=5).json()
            kid = jwt.get_unverified_header(assertion).get("kid")
            key = next((k for k in keys["keys"] if k["kid"] == kid), None)
            if key is None:
                return jsonify({"error": "invalid_client"}), 401
            try:
                jwt.decode(assertion, jwt.PyJWK(key).key, algorithms=["RS256"], audience=platform.url + "/token",
                           issuer=platform.client_id)
            except jwt.InvalidTokenError:
                return jsonify({"error": "invalid_client"}), 401
            access = uuid.uuid4().hex
            platform.tokens[access] = form.get("scope", "").split()
            return jsonify({"access_token": access, "token_type": "Bearer", "expires_in": 3600,
                            "scope": form.get("scope", "")})

        def scopes():
            return platform.tokens.get(request.headers.get("Authorization", "").removeprefix("Bearer "))

        @app.post("/lineitems/<item>/scores")
        def scores(item):
            granted = scopes()
            if granted is None or "https://purl.imsglobal.org/spec/lti-ags/scope/score" not in granted:
                abort(401)
            if request.content_type != "application/vnd.ims.lis.v1.score+json":
                abort(415)
            if platform.fail_scores:
                platform.fail_scores -= 1
                return "Moodle is down for maintenance", 503
            platform.scores.append((item, json.loads(request.get_data())))
            return "", 204

        @app.get("/memberships/<context>")
        def memberships(context):
            granted = scopes()
            if granted is None or "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly" \
                    not in granted:
                abort(401)
            return jsonify({"id": request.url, "context": {"id": context, "title": "Hjerte-lungeredning 2026"},
                            "members": platform.members.get(context, [])})

        @app.post("/deep-link-return")
        def deep_link_return():
            platform.deep_link_jwt = request.form["JWT"]
            return "<!doctype html><title>Moodle</title><p id=done>Lagt til</p>"

        @app.get("/course")
        def course_page():
            """A Moodle course page: the tool framed, and the same launch in a new window."""
            login = platform.tool["initiate_login_uri"] + "?" + urlencode(platform.login_params())
            return (f'<!doctype html><html lang="nb"><head><meta name="viewport" content="width=device-width, initial-scale=1"><title>Moodle-kurs</title></head><body>'
                    f'<h1>Hjerte-lungeredning 2026</h1>'
                    f'<p><a id="new-window" href="{html.escape(login)}" target="_blank">Åpne i nytt vindu</a></p>'
                    f'<iframe id="tool" title="Kompetanse" src="{html.escape(login)}" style="width:100%;height:640px;border:1px solid #999">'
                    f'</iframe></body></html>')

        return app

    def decode_tool_jwt(self, token: str, key_set: dict) -> dict:
        kid = jwt.get_unverified_header(token)["kid"]
        key = next(k for k in key_set["keys"] if k["kid"] == kid)
        return jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], audience=self.url)
