"""Where changes go: a webhook (signed JSON), or another LRS (as xAPI statements). Each send says how it went."""
import hashlib
import hmac
import threading
import time
import uuid
from dataclasses import dataclass

import orjson
import requests

VOCABULARY = "https://kompetanse.helse.example.no/xapi"
SIGNATURE_HEADER = "X-Kompetanse-Signature"  # "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<body>'>"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retry: bool  # False: retrying the same way will not help (the portal said the data is bad)
    status: str
    error: str = ""


def outcome_of(response: requests.Response) -> Outcome:
    code = response.status_code
    if 200 <= code < 300:
        return Outcome(True, False, f"HTTP {code}")
    # Timeouts, throttling and server trouble pass; other 4xx mean the request itself is wrong.
    retry = code >= 500 or code in (408, 425, 429)
    return Outcome(False, retry, f"HTTP {code}", response.text[:500])


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, tolerance: int = 300, now: float | None = None) -> bool:
    """What the portal does (docs/portal.md): recompute the HMAC, compare in constant time, refuse old ones."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), header)


class Webhook:
    name = "webhook"

    def __init__(self, config):
        self.url, self.secret = config["PORTAL_WEBHOOK_URL"], config["PORTAL_WEBHOOK_SECRET"]
        self.timeout = config["PORTAL_TIMEOUT"]

    def send(self, payload: dict) -> Outcome:
        body = orjson.dumps(payload)
        headers = {"Content-Type": "application/json", "Idempotency-Key": payload["event_id"],
                   SIGNATURE_HEADER: sign(self.secret, body)}
        return _post(self.url, body, headers, self.timeout)


class XAPIForward:
    """The same facts as an xAPI statement to another LRS. The statement id comes from the event id, so a resend
    is the same statement, which an LRS accepts as a repeat."""
    name = "xapi"

    def __init__(self, config):
        self.url = config["PORTAL_XAPI_URL"].rstrip("/") + "/statements"
        self.auth = (config["PORTAL_XAPI_KEY"], config["PORTAL_XAPI_SECRET"])
        self.home = config["IDENTITY_HOMEPAGE"]
        self.timeout = config["PORTAL_TIMEOUT"]

    def statement(self, payload: dict) -> dict:
        result = {"completion": payload["status"] in ("fulfilled", "expiring"),
                  "extensions": {f"{VOCABULARY}/extensions/{k}": payload[k] for k in (
                      "status", "previous_status", "fulfilled_date", "valid_until", "evidence_statement_ids")}}
        return {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{VOCABULARY}/portal/{payload['event_id']}")),
            "actor": {"objectType": "Agent", "account": {"homePage": self.home, "name": payload["employee_id"]}},
            "verb": {"id": f"{VOCABULARY}/verbs/competence-status-changed",
                     "display": {"nb-NO": "fikk ny kompetansestatus", "en-US": "competence status changed"}},
            "object": {"objectType": "Activity", "id": f"{VOCABULARY}/competences/{payload['competence_code']}",
                       "definition": {"type": f"{VOCABULARY}/activity-types/competence"}},
            "result": result,
            "context": {"extensions": {f"{VOCABULARY}/extensions/event-id": payload["event_id"]}},
            "timestamp": payload["changed_at"],
        }

    def send(self, payload: dict) -> Outcome:
        body = orjson.dumps(self.statement(payload))
        headers = {"Content-Type": "application/json", "X-Experience-API-Version": "1.0.3"}
        return _post(self.url, body, headers, self.timeout, auth=self.auth)


_local = threading.local()


def _post(url, body, headers, timeout, auth=None) -> Outcome:
    # One keep-alive session per sending thread (a requests.Session is not shared between threads).
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    session = _local.session
    try:
        return outcome_of(session.post(url, data=body, headers=headers, timeout=timeout, auth=auth))
    except requests.Timeout:
        return Outcome(False, True, "timeout", f"no answer within {timeout} s")
    except requests.ConnectionError as e:
        return Outcome(False, True, "connection failed", str(e)[:500])


def configured(config) -> list:
    """The push connectors this configuration turns on."""
    found = []
    if config["PORTAL_WEBHOOK_URL"]:
        found.append(Webhook(config))
    if config["PORTAL_XAPI_URL"]:
        found.append(XAPIForward(config))
    return found
