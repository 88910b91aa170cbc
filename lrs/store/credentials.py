"""Credentials: Basic-auth key/secret pairs with xAPI scopes. Secrets are 256-bit random values made here,
so a single SHA-256 is a sound way to store them (stretching only helps low-entropy passwords)."""
import hashlib
import hmac
import json
import os
import secrets
import time

import orjson
from sqlalchemy import insert, select, update

from lrs.store.db import read_transaction, write_transaction
from lrs.store.models import credentials

SCOPES = ("statements/write", "statements/read", "statements/read/mine", "state", "define", "profile",
          "all/read", "all", "portal/read", "cmi5/admin",
          "competence/rules", "competence/directory", "statements/void/any", "programmes/read",
          "capacity/read")
DEFAULT_SCOPES = ("statements/write", "statements/read/mine", "state", "profile", "define")


class UnknownScope(ValueError):
    pass


def now_us() -> int:
    return time.time_ns() // 1000


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(engine, name: str, scopes=DEFAULT_SCOPES, home_page: str = "https://kompetanse-lrs.local") -> dict:
    """Make a credential; the secret is returned here and never again."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise UnknownScope(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(SCOPES)}")
    key = secrets.token_hex(10)
    # Hex, not base64url: a secret that begins with "-" is read as an option on a command line (--secret -x…).
    secret = secrets.token_hex(32)
    authority = {"objectType": "Agent", "name": name, "account": {"homePage": home_page, "name": key}}
    row = {"key": key, "secret_hash": _hash(secret), "name": name, "scopes": " ".join(scopes),
           "authority": orjson.dumps(authority).decode(), "created_us": now_us()}
    with write_transaction(engine) as conn:
        row["id"] = conn.execute(insert(credentials).returning(credentials.c.id), row).scalar_one()
    return {**row, "secret": secret, "scopes": list(scopes), "authority": authority}


def internal(conn, name: str) -> "Credential":
    """The LRS's own credential for statements it writes itself (e.g. attestations), made on first use. Its secret
    is never shown and it has no scopes, so nobody can sign in with it."""
    row = conn.execute(select(credentials).where(credentials.c.name == name, credentials.c.scopes == "",
                                                 credentials.c.revoked_us.is_(None))).mappings().first()
    if row is None:
        authority = {"objectType": "Agent", "name": name,
                     "account": {"homePage": "https://kompetanse-lrs.local", "name": "internal"}}
        conn.execute(insert(credentials).values(
            key=secrets.token_hex(10), secret_hash=_hash(secrets.token_urlsafe(32)), name=name, scopes="",
            authority=orjson.dumps(authority).decode(), created_us=now_us()))
        row = conn.execute(select(credentials).where(credentials.c.name == name, credentials.c.scopes == "")
                           ).mappings().first()
    return Credential(row)


def list_all(engine) -> list[dict]:
    with read_transaction(engine) as conn:
        rows = conn.execute(select(credentials).order_by(credentials.c.id)).mappings().all()
    return [dict(r) for r in rows]


def revoke(engine, key: str) -> bool:
    with write_transaction(engine) as conn:
        result = conn.execute(update(credentials).where(credentials.c.key == key, credentials.c.revoked_us.is_(None))
                              .values(revoked_us=now_us()))
    return result.rowcount == 1


class Credential:
    __slots__ = ("id", "key", "name", "scopes", "authority", "authority_json")

    def __init__(self, row):
        self.id, self.key, self.name = row["id"], row["key"], row["name"]
        self.scopes = frozenset(row["scopes"].split())
        self.authority_json = row["authority"]
        self.authority = orjson.loads(row["authority"])

    def allows(self, *scopes: str) -> bool:
        return "all" in self.scopes or any(s in self.scopes for s in scopes)


class Verifier:
    """Checks key/secret pairs, remembering good ones briefly so a busy client costs no lookup per request."""

    def __init__(self, engine, cache_seconds: float):
        self.engine, self.cache_seconds = engine, cache_seconds
        self._cache: dict[tuple[str, str], tuple[float, Credential]] = {}
        # Credentials whose name starts with one of these are looked up on every use: they end with something
        # another worker or instance does (a cmi5 session's token with its session), and must end there at once.
        self.uncached_prefixes: tuple[str, ...] = ()

    def verify(self, key: str, secret: str) -> Credential | None:
        digest = _hash(secret)
        hit = self._cache.get((key, digest))
        if hit and hit[0] > time.monotonic():
            return hit[1]
        with read_transaction(self.engine) as conn:
            row = conn.execute(select(credentials).where(credentials.c.key == key)).mappings().first()
        if row is None or row["revoked_us"] is not None or not hmac.compare_digest(row["secret_hash"], digest):
            self._cache.pop((key, digest), None)
            return None
        cred = Credential(row)
        if cred.name.startswith(self.uncached_prefixes):
            return cred
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[(key, digest)] = (time.monotonic() + self.cache_seconds, cred)
        return cred


def kept_in_instance(app, stem: str, name: str, scopes) -> tuple[str, str]:
    """(key, secret) of a credential the app uses for a client inside itself (simulation/, the Moodle bridge's job):
    made on first use and kept in the instance folder, one per database, so every worker and restart uses the same
    one; made again if it was revoked, or lacks a scope the client now needs (the old one is then revoked)."""
    tag = hashlib.sha1(app.config["DATABASE_URL"].encode()).hexdigest()[:8]
    path = os.path.join(app.instance_path, f"{stem}-credential-{tag}.json")
    engine = app.extensions["lrs.engine"]
    try:
        with open(path) as f:
            kept = json.load(f)
        found = next((c for c in list_all(engine) if c["key"] == kept["key"] and not c["revoked_us"]), None)
        if found and set(scopes) <= set(found["scopes"].split()):
            return kept["key"], kept["secret"]
        if found:
            revoke(engine, found["key"])
    except (FileNotFoundError, ValueError, KeyError):
        pass
    made = create(engine, name, scopes)
    os.makedirs(app.instance_path, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"key": made["key"], "secret": made["secret"]}, f)
    return made["key"], made["secret"]
