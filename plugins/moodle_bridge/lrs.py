"""The LRS as the bridge sees it: its xAPI HTTP API, like any client (the bridge never touches the LRS's database).

The sync checkpoint (the last Moodle log id sent) is kept in the LRS too, as an activity profile document of the
site's activity, written with If-Match on the ETag it was read with: two bridges running at once cannot both
advance it, and a new machine for the bridge carries on where the old one stopped."""
import json
import threading
from urllib.parse import urlencode

import requests

VERSION_HEADER = {"X-Experience-API-Version": "1.0.3"}
CHECKPOINT_PROFILE = "urn:kompetanse-lrs:moodle-bridge:checkpoint"


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(f"the LRS answered {status}: {message}")
        self.status, self.message = status, message


class Unreachable(Exception):
    pass


class CheckpointMoved(Exception):
    """Another bridge advanced the checkpoint since this one read it."""


def error_message(data: bytes) -> str:
    """What the LRS said was wrong: the message of its JSON error, else the start of the body."""
    try:
        return json.loads(data)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return data[:300].decode("utf-8", "replace")


class LRS:
    def __init__(self, send):
        # send(method, path, body: bytes | None, headers) -> (status, headers, body: bytes); path is below /xapi.
        self._send = send

    def _call(self, method, path, body=None, headers=None, ok=(200, 204)):
        status, answer_headers, data = self._send(method, path, body, {**VERSION_HEADER, **(headers or {})})
        if status not in ok:
            raise Refused(status, error_message(data))
        return status, answer_headers, data

    def about(self) -> dict:
        return json.loads(self._call("GET", "/about")[2])

    def post_statements(self, statements: list[dict]) -> list[str]:
        """One batch: it lands whole or not at all. Statements already stored with the same content are accepted
        again (their ids come back); an id stored with other content makes the LRS refuse the batch with 409."""
        data = self._call("POST", "/statements", json.dumps(statements, ensure_ascii=False).encode(),
                          {"Content-Type": "application/json"})[2]
        return json.loads(data)

    def statements(self, **query) -> dict:
        return json.loads(self._call("GET", "/statements?" + urlencode(query))[2])

    def more(self, more_path: str) -> dict:
        return json.loads(self._call("GET", more_path.split("/xapi", 1)[-1])[2])

    def get_activity_profile(self, activity_id: str, profile_id: str) -> tuple[dict | None, str | None]:
        status, headers, data = self._call(
            "GET", "/activities/profile?" + urlencode({"activityId": activity_id, "profileId": profile_id}),
            ok=(200, 404))
        return (None, None) if status == 404 else (json.loads(data), headers.get("ETag"))

    def put_activity_profile(self, activity_id: str, profile_id: str, doc: dict, etag: str | None) -> str | None:
        """Create (when etag is None: only if absent) or replace (only if still at etag). Returns the new ETag."""
        headers = {"Content-Type": "application/json", **({"If-Match": etag} if etag else {"If-None-Match": "*"})}
        where = urlencode({"activityId": activity_id, "profileId": profile_id})
        answer_headers = self._call("PUT", "/activities/profile?" + where, json.dumps(doc).encode(), headers,
                                    ok=(204,))[1]
        return answer_headers.get("ETag")


def http_sender(base: str, key: str, secret: str, timeout: float = 60):
    """send(method, path, body, headers) -> (status, headers, body) for paths below `base`, with Basic auth."""
    base = base.rstrip("/")
    local = threading.local()  # one keep-alive session per sending thread (a Session is not shared safely)

    def send(method, path, body, headers):
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.auth = (key, secret)
        try:
            r = session.request(method, base + path, data=body, headers=headers, timeout=timeout)
        except requests.RequestException as e:
            raise Unreachable(f"the LRS at {base} did not answer: {e}") from e
        return r.status_code, r.headers, r.content
    return send


def remote(url: str, key: str, secret: str, timeout: float = 60) -> LRS:
    return LRS(http_sender(url, key, secret, timeout))


class Checkpoint:
    """The last Moodle log id whose events are all in the LRS, with running totals for `status`."""

    def __init__(self, lrs: LRS, site_url: str):
        self.lrs, self.site_url = lrs, site_url
        self._etag = None
        self.doc = {}

    def load(self) -> int:
        doc, self._etag = self.lrs.get_activity_profile(self.site_url, CHECKPOINT_PROFILE)
        self.doc = doc or {"site": self.site_url, "last_log_id": 0, "events": 0, "statements": 0, "skipped": {}}
        return self.last_log_id

    @property
    def last_log_id(self) -> int:
        return int(self.doc.get("last_log_id", 0))

    def advance(self, last_log_id: int, events: int, statements: int, skipped: dict) -> None:
        """Move on to last_log_id: only after the statements of every event up to it are stored."""
        totals = dict(self.doc.get("skipped", {}))
        for name, n in skipped.items():
            totals[name] = totals.get(name, 0) + n
        doc = {"site": self.site_url, "last_log_id": last_log_id, "events": self.doc.get("events", 0) + events,
               "statements": self.doc.get("statements", 0) + statements, "skipped": totals}
        try:
            etag = self.lrs.put_activity_profile(self.site_url, CHECKPOINT_PROFILE, doc, self._etag)
        except Refused as e:
            if e.status == 412:
                raise CheckpointMoved("another bridge moved the checkpoint of this site since it was read: only "
                                      "one bridge may sync a Moodle site at a time") from e
            raise
        if etag is None:  # an LRS that does not answer a PUT with the new ETag: read it
            _doc, etag = self.lrs.get_activity_profile(self.site_url, CHECKPOINT_PROFILE)
        self._etag, self.doc = etag, doc
