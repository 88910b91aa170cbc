"""The one client of kompetanse-lrs for its own outer packages (simulation/, the Moodle bridge, course_builder) and
the LRS's first-run demo: the xAPI resources and the LRS's own JSON APIs (rules, cmi5 courses, the directory).

It knows the LRS only by its HTTP API, over one of two transports, each send(method, path, body, headers) ->
(status, headers, body bytes) for a path below the LRS's root:
- `http(root, key, secret)`: requests, a keep-alive session per sending thread;
- `wsgi(app, key, secret)`: the same requests handed to a WSGI application in this process (the LRS's own app,
  for a plugin that runs inside it), without a socket and without Flask's test client.
Every request passes the LRS's authentication, validation and scopes, either way. What the LRS refuses becomes
`Refused` with its status and its own message."""
import base64
import json
import threading
from urllib.parse import quote, urlencode

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry
from werkzeug.test import Client as _WSGIClient

XAPI_VERSION = {"X-Experience-API-Version": "1.0.3"}


class Refused(Exception):
    """The LRS answered, with an error: `status` and the LRS's `message`."""

    def __init__(self, status: int, message: str):
        super().__init__(f"the LRS answered {status}: {message}")
        self.status, self.message = status, message


class Unreachable(Exception):
    """The LRS did not answer (connection refused, time-out)."""


def error_message(data: bytes) -> str:
    """What the LRS said was wrong: the message of its JSON error, else the start of the body."""
    try:
        return json.loads(data)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return data[:300].decode("utf-8", "replace")


# ------------------------------------------------------------------------------------------------ transports

def http(root: str, key: str, secret: str, timeout: float = 60, retries: int = 3):
    """send() over HTTP to the LRS at `root` (its xAPI endpoint …/xapi is accepted too), with HTTP Basic.

    A 503 (the LRS's database is briefly out of reach: nothing of the request was stored) is sent again after the
    answer's Retry-After, up to `retries` times; any other answer is the caller's."""
    given = root.rstrip("/")
    base = given.removesuffix("/xapi")
    local = threading.local()  # one keep-alive session per sending thread (a Session is not shared safely)

    def send(method, path, body, headers):
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.auth = (key, secret)
            retry = Retry(total=retries, connect=0, read=0, status=retries, status_forcelist=(503,),
                          allowed_methods=None, respect_retry_after_header=True, backoff_factor=0.5,
                          raise_on_status=False)
            session.mount("http://", HTTPAdapter(max_retries=retry))
            session.mount("https://", HTTPAdapter(max_retries=retry))
        try:
            r = session.request(method, base + path, data=body, headers=headers, timeout=timeout)
        except requests.RequestException as e:
            raise Unreachable(f"the LRS at {given} did not answer: {e}") from e
        return r.status_code, r.headers, r.content
    return send


def wsgi(app, key: str, secret: str):
    """send() answered by the WSGI application `app` in this process, with HTTP Basic."""
    auth = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()

    def send(method, path, body, headers):
        # A client per request: callers send from several threads at once, and a client keeps cookies.
        r = _WSGIClient(app).open(path, method=method, data=body, headers={**headers, "Authorization": auth})
        try:
            return r.status_code, r.headers, r.get_data()
        finally:
            r.close()
    return send


# ------------------------------------------------------------------------------------------------ the client

class Client:
    """The LRS's APIs over a transport. The xAPI resources are below /xapi, the LRS's own APIs below /api and
    /cmi5/api."""

    def __init__(self, send):
        self._send = send

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
             ok=(200, 204)) -> tuple[int, dict, bytes]:
        status, answer_headers, data = self._send(method, path, body, headers or {})
        if status not in ok:
            raise Refused(status, error_message(data))
        return status, answer_headers, data

    def _xapi(self, method, path, body=None, headers=None, ok=(200, 204)):
        return self.call(method, "/xapi" + path, body, {**XAPI_VERSION, **(headers or {})}, ok)

    # xAPI ---------------------------------------------------------------------------------------------------

    def about(self) -> dict:
        return json.loads(self._xapi("GET", "/about")[2])

    def post_statements(self, statements: list[dict]) -> list[str]:
        """One batch: it lands whole or not at all. Statements already stored with the same content are accepted
        again (their ids come back); an id stored with other content makes the LRS refuse the batch with 409."""
        data = self._xapi("POST", "/statements", json.dumps(statements, ensure_ascii=False).encode(),
                          {"Content-Type": "application/json"})[2]
        return json.loads(data)

    def statements(self, **query) -> dict:
        """One page: {"statements": [...], "more": "<path of the next page>" or ""}."""
        return json.loads(self._xapi("GET", "/statements?" + urlencode(query))[2])

    def more(self, more: str) -> dict:
        """The page a `more` link names (relative to the LRS's host, so below any prefix the LRS sits under)."""
        return json.loads(self._xapi("GET", more.split("/xapi", 1)[-1])[2])

    def all_statements(self, **query):
        """Every statement the query finds, page by page."""
        page = self.statements(**query)
        while True:
            yield from page["statements"]
            if not page.get("more"):
                return
            page = self.more(page["more"])

    def get_document(self, kind: str, **where) -> tuple[dict | None, str | None]:
        """A JSON document of `kind` ("activities/profile", "agents/profile", "activities/state") and its ETag;
        (None, None) when there is none."""
        status, headers, data = self._xapi("GET", f"/{kind}?" + urlencode(where), ok=(200, 404))
        return (None, None) if status == 404 else (json.loads(data), headers.get("ETag"))

    def put_document(self, kind: str, doc: dict, etag: str | None = None, create_only: bool = False,
                     **where) -> str | None:
        """Keep a JSON document: only if still at `etag` (If-Match), or only if there is none (create_only,
        If-None-Match: *); a 412 when another writer came first. Returns the new ETag when the LRS gives it."""
        headers = {"Content-Type": "application/json"}
        if create_only:
            headers["If-None-Match"] = "*"
        elif etag:
            headers["If-Match"] = etag
        return self._xapi("PUT", f"/{kind}?" + urlencode(where), json.dumps(doc).encode(), headers,
                          ok=(204,))[1].get("ETag")

    # the LRS's own APIs -------------------------------------------------------------------------------------

    def _json(self, method, path, doc=None, ok=(200,), content_type="application/json"):
        body = doc if isinstance(doc, bytes) or doc is None else json.dumps(doc).encode()
        return json.loads(self.call(method, path, body, {"Content-Type": content_type} if body else {}, ok)[2])

    def rules(self, prefix: str = "") -> list[dict]:
        """The evidence rules in force whose id starts with `prefix` (scope competence/rules)."""
        return self._json("GET", "/api/competence/rules?" + urlencode({"prefix": prefix}))["rules"]

    def rule(self, rule_id: str) -> dict:
        return self._json("GET", "/api/competence/rules/" + quote(rule_id, safe=""))

    def put_rule(self, rule: dict, dry_run: bool = False) -> dict:
        query = "?dry_run=true" if dry_run else ""
        return self._json("PUT", "/api/competence/rules/" + quote(rule["id"], safe="") + query, rule)

    def employees(self, ids) -> dict[str, dict]:
        """employee id -> {"known": bool, "agent": the xAPI agent that is them} (scope competence/directory)."""
        found = self._json("GET", "/api/competence/directory/employees?" + urlencode([("id", i) for i in ids]))
        return {e["id"]: e for e in found["employees"]}

    def competences(self) -> dict[str, dict]:
        """The catalog's competence codes, which a module may name: code -> {code, name_nb, name_en} (scope
        cmi5/admin, as for publishing)."""
        return {c["code"]: c for c in self._json("GET", "/cmi5/api/competences")["competences"]}

    def publish_course(self, package: bytes) -> dict:
        """Import a cmi5 package (a zip) as a course (scope cmi5/admin); returns the course the LRS made."""
        return self._json("POST", "/cmi5/api/courses", package, ok=(200, 201), content_type="application/zip")


def connect(root: str, key: str, secret: str, timeout: float = 60, retries: int = 3) -> Client:
    """The LRS at `root` (or its xAPI endpoint …/xapi) over HTTP."""
    return Client(http(root, key, secret, timeout, retries))


def in_process(app, key: str, secret: str) -> Client:
    """The LRS whose WSGI application is `app`, in this process."""
    return Client(wsgi(app, key, secret))
