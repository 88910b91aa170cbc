"""The LTI tool's records: platforms and their keys, short-lived flow values, the person a launch names, the
Moodle courses instructors launched from, and the grades to post back. Every function takes the caller's
connection (the caller owns the transaction)."""
import hashlib
import json
import uuid
from datetime import timedelta

from jwcrypto import jwk
from sqlalchemy import delete, insert, select, update

from lrs.cmi5.lms import satisfied_registrations
from lrs.lti.tables import lti_contexts, lti_grades, lti_keys, lti_launch_data, lti_platforms
from lrs.store.types import utcnow
from lrs.web.tables import users

MATCH_FIELDS = ("employee_id", "username")
PLATFORM_FIELDS = ("name", "issuer", "client_id", "auth_login_url", "auth_token_url", "auth_audience",
                   "key_set_url", "deployment_ids", "match_claim", "match_field")


class PlatformError(ValueError):
    """Platform values that cannot be kept, said in words."""


# ---------------------------------------------------------------------------------------------- platforms

def _check(values: dict) -> dict:
    out = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items() if k in PLATFORM_FIELDS}
    for k in ("issuer", "client_id", "auth_login_url", "auth_token_url", "auth_audience", "key_set_url"):
        if k in out and not out[k]:
            out[k] = None
    for k in ("auth_login_url", "auth_token_url", "key_set_url"):
        if out.get(k) and not out[k].startswith(("https://", "http://")):
            raise PlatformError(f"{k} must be an http(s) address")
    if "match_field" in out and out["match_field"] not in MATCH_FIELDS:
        raise PlatformError(f"match_field must be one of {', '.join(MATCH_FIELDS)}")
    if "deployment_ids" in out:
        out["deployment_ids"] = " ".join((out["deployment_ids"] or "").replace(",", " ").split())
    return out


def create_platform(conn, name: str, *, match_claim: str, match_field: str, platform_id: str | None = None,
                    **values) -> str:
    """A new platform registration with its first key; the platform's own values may follow later."""
    if not (name or "").strip():
        raise PlatformError("a platform needs a name")
    platform_id = platform_id or str(uuid.uuid4())
    row = {"issuer": None, "client_id": None, "auth_login_url": None, "auth_token_url": None,
           "auth_audience": None, "key_set_url": None, "deployment_ids": ""}
    row.update(_check({**values, "name": name, "match_claim": match_claim, "match_field": match_field}))
    _unique(conn, row.get("issuer"), row.get("client_id"), platform_id)
    conn.execute(insert(lti_platforms).values(id=platform_id, created=utcnow(), **row))
    new_key(conn, platform_id)
    return platform_id


def _unique(conn, issuer, client_id, platform_id):
    if issuer and client_id and conn.execute(select(lti_platforms.c.id).where(
            lti_platforms.c.issuer == issuer, lti_platforms.c.client_id == client_id,
            lti_platforms.c.id != platform_id)).first():
        raise PlatformError(f"the platform {issuer} with client id {client_id} is registered already")


def update_platform(conn, platform_id: str, **values) -> dict:
    current = platform(conn, platform_id)
    if current is None:
        raise PlatformError(f"no platform {platform_id}")
    changes = _check(values)
    _unique(conn, changes.get("issuer", current["issuer"]), changes.get("client_id", current["client_id"]),
            platform_id)
    if changes:
        conn.execute(update(lti_platforms).where(lti_platforms.c.id == platform_id).values(**changes))
    return platform(conn, platform_id)


def platform(conn, platform_id: str) -> dict | None:
    row = conn.execute(select(lti_platforms).where(lti_platforms.c.id == platform_id)).mappings().first()
    return dict(row) if row else None


def platforms(conn) -> list[dict]:
    return [dict(r) for r in conn.execute(select(lti_platforms).order_by(lti_platforms.c.name)).mappings()]


def find_platform(conn, issuer: str, client_id: str | None) -> dict | None:
    """The registration of this issuer and client id; without a client id, the issuer's only registration."""
    q = select(lti_platforms).where(lti_platforms.c.issuer == issuer)
    if client_id:
        q = q.where(lti_platforms.c.client_id == client_id)
    rows = conn.execute(q.limit(2)).mappings().all()
    return dict(rows[0]) if len(rows) == 1 else None


def origins(conn, platform_id: str) -> list[str]:
    """The web origins of a platform (its issuer and login address): who may frame the pages it launched."""
    p = platform(conn, platform_id) or {}
    out = []
    for url in (p.get("issuer"), p.get("auth_login_url")):
        if url and url.startswith(("https://", "http://")):
            origin = "/".join(url.split("/", 3)[:3])
            if origin not in out:
                out.append(origin)
    return out


# ---------------------------------------------------------------------------------------------- keys

def new_key(conn, platform_id: str) -> str:
    """A new RSA key for the platform; it signs from now on, the ones before it are retired (still in the set
    for the grace period)."""
    key = jwk.JWK.generate(kty="RSA", size=2048)
    kid = key.thumbprint()
    public = json.loads(key.export_public())
    public.update(kid=kid, alg="RS256", use="sig")
    now = utcnow()
    conn.execute(update(lti_keys).where(lti_keys.c.platform_id == platform_id, lti_keys.c.retired.is_(None))
                 .values(retired=now))
    conn.execute(insert(lti_keys).values(kid=kid, platform_id=platform_id, private_pem=key.export_to_pem(
        private_key=True, password=None).decode(), public_jwk=json.dumps(public), created=now, retired=None))
    return kid


def signing_key(conn, platform_id: str) -> dict | None:
    """{kid, private_pem, public_pem} of the platform's current key."""
    row = conn.execute(select(lti_keys).where(lti_keys.c.platform_id == platform_id, lti_keys.c.retired.is_(None))
                       .order_by(lti_keys.c.created.desc()).limit(1)).mappings().first()
    if row is None:
        return None
    public = jwk.JWK.from_json(row["public_jwk"]).export_to_pem().decode()
    return {"kid": row["kid"], "private_pem": row["private_pem"], "public_pem": public}


def key_set(conn, platform_id: str, grace_hours: float) -> dict:
    """The platform's public key set: the current key and those retired within the grace period."""
    since = utcnow() - timedelta(hours=grace_hours)
    rows = conn.execute(select(lti_keys.c.public_jwk).where(
        lti_keys.c.platform_id == platform_id, (lti_keys.c.retired.is_(None)) | (lti_keys.c.retired > since))
        .order_by(lti_keys.c.created.desc())).scalars()
    return {"keys": [json.loads(r) for r in rows]}


# ---------------------------------------------------------------------------------------------- flow values

def put_value(conn, key: str, value, seconds: float) -> None:
    conn.execute(delete(lti_launch_data).where(lti_launch_data.c.key == key))
    conn.execute(insert(lti_launch_data).values(key=key, value=json.dumps(value),
                                                expires=utcnow() + timedelta(seconds=seconds)))


def get_value(conn, key: str):
    row = conn.execute(select(lti_launch_data.c.value).where(
        lti_launch_data.c.key == key, lti_launch_data.c.expires > utcnow())).first()
    return json.loads(row[0]) if row else None


def take_value(conn, key: str):
    """The value, once: it is deleted in the same step, so a second taker (a replay) finds nothing."""
    value = get_value(conn, key)
    gone = conn.execute(delete(lti_launch_data).where(lti_launch_data.c.key == key)).rowcount
    return value if gone else None


def purge_values(conn) -> int:
    return conn.execute(delete(lti_launch_data).where(lti_launch_data.c.expires <= utcnow())).rowcount


def registration_token(conn, made_by: str, hours: float = 24) -> str:
    """A one-time token for a dynamic registration URL (the admin hands the URL to a Moodle admin)."""
    token = uuid.uuid4().hex + uuid.uuid4().hex
    put_value(conn, "regtoken-" + hashlib.sha256(token.encode()).hexdigest(), {"by": made_by}, hours * 3600)
    return token


def registration_token_valid(conn, token: str, *, use: bool = False) -> bool:
    key = "regtoken-" + hashlib.sha256((token or "").encode()).hexdigest()
    return (take_value(conn, key) if use else get_value(conn, key)) is not None


# ---------------------------------------------------------------------------------------------- people

def claim_value(claims: dict, path: str) -> str:
    """The value of the claim named by `path`: a claim name, or "claim#key" for one key of an object claim
    (e.g. "https://purl.imsglobal.org/spec/lti/claim/lis#person_sourcedid",
    "https://purl.imsglobal.org/spec/lti/claim/custom#idnumber")."""
    name, _, key = path.partition("#")
    value = claims.get(name)
    if key:
        value = value.get(key) if isinstance(value, dict) else None
    return str(value).strip() if value not in (None, "") and not isinstance(value, (dict, list)) else ""


def match_user(conn, p: dict, claims: dict) -> tuple[str, dict | None]:
    """(the value of the platform's matching claim, the enabled account it names or None)."""
    value = claim_value(claims, p["match_claim"])
    if not value:
        return "", None
    column = users.c.employee_id if p["match_field"] == "employee_id" else users.c.username
    rows = conn.execute(select(users).where(column == value, users.c.disabled.is_(False)).limit(2)).mappings().all()
    return value, (dict(rows[0]) if len(rows) == 1 else None)


def employees_by(conn, field: str, values: list[str]) -> dict[str, str]:
    """{value: employee id} of the accounts whose user name or employee id (field) is one of values."""
    column = users.c.employee_id if field == "employee_id" else users.c.username
    rows = conn.execute(select(column, users.c.employee_id).where(column.in_(values), users.c.employee_id.isnot(None),
                                                                   users.c.disabled.is_(False)))
    return {r[0]: r[1] for r in rows}


# ---------------------------------------------------------------------------------------------- courses (NRPS)

def remember_context(conn, platform_id: str, context_id: str, title: str, memberships_url: str | None,
                     user_id: str) -> None:
    c = lti_contexts.c
    where = (c.platform_id == platform_id, c.context_id == context_id, c.user_id == user_id)
    values = {"title": title or context_id, "memberships_url": memberships_url, "seen": utcnow()}
    if conn.execute(update(lti_contexts).where(*where).values(**values)).rowcount == 0:
        conn.execute(insert(lti_contexts).values(platform_id=platform_id, context_id=context_id, user_id=user_id,
                                                 **values))


def contexts_of(conn, user_id: str) -> list[dict]:
    """The Moodle courses this person launched the tool from as an instructor, newest first."""
    rows = conn.execute(select(lti_contexts, lti_platforms.c.name.label("platform_name"))
                        .join(lti_platforms, lti_platforms.c.id == lti_contexts.c.platform_id)
                        .where(lti_contexts.c.user_id == user_id).order_by(lti_contexts.c.seen.desc()))
    return [dict(r) for r in rows.mappings()]


def context(conn, seq: int, user_id: str) -> dict | None:
    row = conn.execute(select(lti_contexts).where(lti_contexts.c.seq == seq, lti_contexts.c.user_id == user_id)
                       ).mappings().first()
    return dict(row) if row else None


# ---------------------------------------------------------------------------------------------- grades (AGS)

def record_grade(conn, platform_id: str, lineitem: str, scope: str, platform_user: str, employee_id: str,
                 publisher_id: str, registration: str) -> None:
    """A module launched from a Moodle line item: its result goes back when the module is done. A launch again
    from the same line item follows the newest registration."""
    g = lti_grades.c
    where = (g.platform_id == platform_id, g.lineitem == lineitem, g.platform_user == platform_user)
    if conn.execute(update(lti_grades).where(*where).values(registration=registration, scope=scope,
                                                            employee_id=employee_id, sent=None, error=None)
                    ).rowcount == 0:
        conn.execute(insert(lti_grades).values(
            platform_id=platform_id, lineitem=lineitem, scope=scope, platform_user=platform_user,
            employee_id=employee_id, publisher_id=publisher_id, registration=registration, created=utcnow()))


def pending_grades(conn, limit: int = 200) -> list[dict]:
    """The unsent grades whose module is done, oldest first. Done is chosen in SQL before the limit: learners who
    have not finished (however many, however old) never crowd out one who has."""
    return [dict(r) for r in conn.execute(
        select(lti_grades).where(lti_grades.c.sent.is_(None), lti_grades.c.registration.in_(satisfied_registrations()))
        .order_by(lti_grades.c.seq).limit(limit)).mappings()]


def grade_sent(conn, seq: int, score: float) -> None:
    conn.execute(update(lti_grades).where(lti_grades.c.seq == seq).values(sent=utcnow(), score=score, error=None))


def grade_failed(conn, seq: int, error: str) -> None:
    conn.execute(update(lti_grades).where(lti_grades.c.seq == seq).values(error=error[:1000]))

