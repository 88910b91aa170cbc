"""The LRS as simulation/ sees it: its xAPI API and nothing else.

Remote (LRS_SIMULATION_LRS_URL set): HTTP with requests and a credential (LRS_SIMULATION_LRS_KEY/SECRET).
In the LRS's own app (the default): the same HTTP requests, handed to the app's WSGI application in-process, with
a credential of its own kept in the instance folder. Either way every statement passes the LRS's validation,
authorisation and atomic batch write, exactly as for any other client."""
import json
from urllib.parse import urlencode

import requests

from lrs.store import credentials as creds

VERSION = {"X-Experience-API-Version": "1.0.3"}
# statements/void/any: a correction voids what another instance (with its own kept credential) logged.
SCOPES = ("statements/write", "statements/read", "profile", "define", "statements/void/any")


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(f"the LRS answered {status}: {message}")
        self.status, self.message = status, message


class LRS:
    def __init__(self, send):
        self._send = send  # (method, path, body: bytes|None, headers) -> (status, headers, body bytes)

    def _call(self, method, path, body=None, headers=None, ok=(200, 204)):
        status, answer_headers, data = self._send(method, path, body, {**VERSION, **(headers or {})})
        if status not in ok:
            try:
                message = json.loads(data)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = data[:300].decode("utf-8", "replace")
            raise Refused(status, message)
        return status, answer_headers, data

    def post_statements(self, statements: list[dict]) -> list[str]:
        """One batch: it lands whole or not at all."""
        _s, _h, data = self._call("POST", "/statements", json.dumps(statements).encode(),
                                  {"Content-Type": "application/json"})
        return json.loads(data)

    def statements(self, **query) -> list[dict]:
        _s, _h, data = self._call("GET", "/statements?" + urlencode(query))
        return json.loads(data)["statements"]

    def get_document(self, kind: str, **where) -> tuple[dict | None, str | None]:
        status, headers, data = self._call("GET", f"/{kind}?" + urlencode(where), ok=(200, 404))
        if status == 404:
            return None, None
        return json.loads(data), headers.get("ETag")

    def put_document(self, kind: str, doc: dict, etag: str | None = None, create_only: bool = False, **where):
        headers = {"Content-Type": "application/json"}
        if create_only:
            headers["If-None-Match"] = "*"
        elif etag:
            headers["If-Match"] = etag
        self._call("PUT", f"/{kind}?" + urlencode(where), json.dumps(doc).encode(), headers, ok=(204,))


def remote(url: str, key: str, secret: str, timeout: float = 30) -> LRS:
    session = requests.Session()
    session.auth = (key, secret)
    base = url.rstrip("/")

    def send(method, path, body, headers):
        r = session.request(method, base + path, data=body, headers=headers, timeout=timeout)
        return r.status_code, r.headers, r.content
    return LRS(send)


def in_process(app) -> LRS:
    key, secret = _own_credential(app)
    client = app.test_client()
    import base64
    auth = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()

    def send(method, path, body, headers):
        r = client.open("/xapi" + path, method=method, data=body, headers={**headers, "Authorization": auth})
        return r.status_code, r.headers, r.get_data()
    return LRS(send)


def for_app(app) -> LRS:
    config = app.config
    if config["SIMULATION_LRS_URL"]:
        return remote(config["SIMULATION_LRS_URL"], config["SIMULATION_LRS_KEY"], config["SIMULATION_LRS_SECRET"])
    return in_process(app)


def _own_credential(app) -> tuple[str, str]:
    """simulation/'s credential in this LRS (kept in the instance folder), remembered for this app."""
    cached = app.extensions.get("simulation.credential")
    if not cached:
        cached = app.extensions["simulation.credential"] = creds.kept_in_instance(
            app, "simulation", "simulation (team-training log)", SCOPES)
    return cached
