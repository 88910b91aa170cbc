"""Accounts: local passwords (argon2) or OpenID Connect, roles, the units a leader leads (or an instructor
teaches), the server-side sessions of signed-in browsers, and the failed sign-ins the rate limit counts."""
import secrets
import uuid
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update

from lrs.principal import ROLES, Principal
from lrs.store.types import utcnow
from lrs.web.tables import audit_log, sign_in_failures, users, web_sessions

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong user name takes as long as a wrong password.
_DUMMY = _hasher.hash("not a password")


class AccountError(ValueError):
    pass


# Every function takes the caller's connection (a write transaction for those that write) and opens none of its
# own. Hashing and checking a password is slow on purpose (argon2): hash_password and check_password take no
# connection, so a caller does them before or after its transaction, not while it holds the write lock.

def hash_password(password: str) -> str:
    """The stored form of a new password (for create and set_password)."""
    if len(password) < 12:
        raise AccountError("a password needs at least 12 characters")
    return _hasher.hash(password)


def create(conn, username: str, display_name: str, roles, password_hash: str | None = None,
           employee_id: str | None = None, led_units=(), lang: str = "nb") -> str:
    """A new account; password_hash from hash_password (None: signs in through OpenID Connect only)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise AccountError(f"unknown role(s) {', '.join(sorted(unknown))}; known: {', '.join(ROLES)}")
    if conn.execute(select(users.c.id).where(users.c.username == username)).first():
        raise AccountError(f"the user name {username} is taken")
    user_id = str(uuid.uuid4())
    conn.execute(insert(users).values(
        id=user_id, username=username, password_hash=password_hash, display_name=display_name,
        employee_id=employee_id, roles=" ".join(sorted(set(roles))), led_units=" ".join(led_units), lang=lang,
        disabled=False, created=utcnow()))
    return user_id


def by_username(conn, username: str) -> dict | None:
    row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    return dict(row) if row else None


def check_password(user: dict | None, password: str) -> dict | None:
    """The account (from by_username) if the password is its own and it may sign in, else None. An unknown user
    (None) takes as long as a wrong password."""
    try:
        _hasher.verify(user["password_hash"] if user and user["password_hash"] else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return user if user and user["password_hash"] and not user["disabled"] else None


def by_id(conn, user_id: str) -> dict | None:
    row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    return dict(row) if row else None


def by_oidc(conn, subject: str, claim_value: str, claim_field: str) -> dict | None:
    """The account of an OpenID Connect sign-in: by its subject, or on the first sign-in by the configured claim
    (matched to the user name or the employee id), which then binds the subject (a write)."""
    row = conn.execute(select(users).where(users.c.oidc_subject == subject)).mappings().first()
    if row is None and claim_value:
        column = users.c.employee_id if claim_field == "employee_id" else users.c.username
        row = conn.execute(select(users).where(column == claim_value, users.c.oidc_subject.is_(None))
                           ).mappings().first()
        if row:
            conn.execute(update(users).where(users.c.id == row["id"]).values(oidc_subject=subject))
    return dict(row) if row and not row["disabled"] else None


def all_users(conn) -> list[dict]:
    return [dict(r) for r in conn.execute(select(users).order_by(users.c.username)).mappings()]


def set_roles(conn, user_id: str, roles, led_units) -> None:
    """New roles and units; taking any away also ends the person's sessions (they sign in again)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise AccountError(f"unknown role(s) {', '.join(sorted(unknown))}")
    old = conn.execute(select(users.c.roles, users.c.led_units).where(users.c.id == user_id)).first()
    if old is None:
        raise AccountError(f"no user {user_id}")
    conn.execute(update(users).where(users.c.id == user_id).values(
        roles=" ".join(sorted(set(roles))), led_units=" ".join(led_units)))
    if set(old.roles.split()) - set(roles) or set(old.led_units.split()) - set(led_units):
        conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))


def set_password(conn, username: str, password_hash: str) -> None:
    """A new password (from hash_password); every session of the account ends."""
    user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
    if user_id is None:
        raise AccountError(f"no user {username}")
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))
    conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))


# ------------------------------------------------------------------------------------------------ sessions

SEEN_EVERY = timedelta(minutes=5)  # how stale a session's `seen` may get before a request writes it again


def start_session(conn, user_id: str, idle: timedelta) -> str:
    """A new session of the user (its id goes in the signed cookie); idle sessions of anyone are purged."""
    session_id, now = secrets.token_urlsafe(32), utcnow()
    conn.execute(delete(web_sessions).where(web_sessions.c.seen < now - idle))
    conn.execute(insert(web_sessions).values(id=session_id, user_id=user_id, created=now, seen=now))
    return session_id


def session_user(conn, session_id: str, idle: timedelta) -> dict | None:
    """The account of a live session, or None when it was ended, went idle, or its account is disabled. A read:
    its `session_seen` is when the session was last marked seen (touch_session)."""
    row = conn.execute(select(users, web_sessions.c.seen.label("session_seen"))
                       .join(web_sessions, web_sessions.c.user_id == users.c.id)
                       .where(web_sessions.c.id == session_id)).mappings().first()
    if row is None or row["disabled"] or row["session_seen"] < utcnow() - idle:
        return None
    return dict(row)


def touch_session(conn, session_id: str) -> None:
    """Mark the session seen now. Not on every request (a write): when session_user's `session_seen` is
    SEEN_EVERY old."""
    conn.execute(update(web_sessions).where(web_sessions.c.id == session_id).values(seen=utcnow()))


def end_session(conn, session_id: str) -> None:
    conn.execute(delete(web_sessions).where(web_sessions.c.id == session_id))


def end_sessions(conn, user_id: str) -> int:
    """Sign a user out everywhere; returns how many sessions ended."""
    return conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id)).rowcount


# ------------------------------------------------------------------------------------------------ rate limit

def sign_in_wait(conn, username: str, address: str, limit: int, window: timedelta) -> float:
    """Seconds until this user name may be tried again from this address (0: now): `limit` failures within
    `window` lock the pair until the oldest of them is out of the window."""
    since = utcnow() - window
    times = conn.execute(select(sign_in_failures.c.at).where(
        sign_in_failures.c.username == username[:100], sign_in_failures.c.address == address[:64],
        sign_in_failures.c.at > since).order_by(sign_in_failures.c.at.desc()).limit(limit)).scalars().all()
    if len(times) < limit:
        return 0.0
    return max(0.0, (times[-1] - since).total_seconds())


def sign_in_failed(conn, username: str, address: str, window: timedelta) -> None:
    now = utcnow()
    conn.execute(delete(sign_in_failures).where(sign_in_failures.c.at < now - window))
    conn.execute(insert(sign_in_failures).values(username=username[:100], address=address[:64], at=now))


def principal_of(user: dict) -> Principal:
    return Principal(user["id"], user["employee_id"], frozenset(user["roles"].split()),
                     frozenset(user["led_units"].split()), user["username"])


def audit(conn, user_id: str | None, action: str, detail: str = "", ip: str | None = None) -> None:
    conn.execute(insert(audit_log).values(at=utcnow(), user_id=user_id, action=action, detail=detail, ip=ip))


def audit_entries(conn, limit: int = 200) -> list[dict]:
    """The newest lines of the audit log, each with who did it by name (`who`; None: nobody signed in)."""
    return [dict(r) for r in conn.execute(
        select(audit_log, users.c.display_name.label("who"), users.c.username.label("who_username"))
        .outerjoin(users, users.c.id == audit_log.c.user_id)
        .order_by(audit_log.c.seq.desc()).limit(limit)).mappings()]
