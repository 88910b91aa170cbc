"""Accounts: local passwords (argon2) or OpenID Connect, roles, and the units a leader leads."""
import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select, update

from lrs.principal import ROLES, Principal
from lrs.store.db import read_transaction, write_transaction
from lrs.store.types import utcnow
from lrs.web.tables import audit_log, users

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong user name takes as long as a wrong password.
_DUMMY = _hasher.hash("not a password")


class AccountError(ValueError):
    pass


def create(engine, username: str, display_name: str, roles, password: str | None = None,
           employee_id: str | None = None, led_units=(), lang: str = "nb") -> str:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise AccountError(f"unknown role(s) {', '.join(sorted(unknown))}; known: {', '.join(ROLES)}")
    if password is not None and len(password) < 12:
        raise AccountError("a password needs at least 12 characters")
    user_id = str(uuid.uuid4())
    with write_transaction(engine) as conn:
        if conn.execute(select(users.c.id).where(users.c.username == username)).first():
            raise AccountError(f"the user name {username} is taken")
        conn.execute(insert(users).values(
            id=user_id, username=username, password_hash=_hasher.hash(password) if password else None,
            display_name=display_name, employee_id=employee_id, roles=" ".join(sorted(set(roles))),
            led_units=" ".join(led_units), lang=lang, disabled=False, created=utcnow()))
    return user_id


def check_password(engine, username: str, password: str) -> dict | None:
    with read_transaction(engine) as conn:
        row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    try:
        _hasher.verify(row["password_hash"] if row and row["password_hash"] else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return dict(row) if row and row["password_hash"] and not row["disabled"] else None


def by_id(engine, user_id: str) -> dict | None:
    with read_transaction(engine) as conn:
        row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    return dict(row) if row else None


def by_oidc(engine, subject: str, claim_value: str, claim_field: str) -> dict | None:
    """The account of an OpenID Connect sign-in: by its subject, or on the first sign-in by the configured claim
    (matched to the user name or the employee id), which then binds the subject."""
    with write_transaction(engine) as conn:
        row = conn.execute(select(users).where(users.c.oidc_subject == subject)).mappings().first()
        if row is None and claim_value:
            column = users.c.employee_id if claim_field == "employee_id" else users.c.username
            row = conn.execute(select(users).where(column == claim_value, users.c.oidc_subject.is_(None))
                               ).mappings().first()
            if row:
                conn.execute(update(users).where(users.c.id == row["id"]).values(oidc_subject=subject))
    return dict(row) if row and not row["disabled"] else None


def all_users(engine) -> list[dict]:
    with read_transaction(engine) as conn:
        return [dict(r) for r in conn.execute(select(users).order_by(users.c.username)).mappings()]


def set_roles(engine, user_id: str, roles, led_units) -> None:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise AccountError(f"unknown role(s) {', '.join(sorted(unknown))}")
    with write_transaction(engine) as conn:
        conn.execute(update(users).where(users.c.id == user_id).values(
            roles=" ".join(sorted(set(roles))), led_units=" ".join(led_units)))


def principal_of(user: dict) -> Principal:
    return Principal(user["id"], user["employee_id"], frozenset(user["roles"].split()),
                     frozenset(user["led_units"].split()))


def audit(engine, user_id: str | None, action: str, detail: str = "", ip: str | None = None) -> None:
    with write_transaction(engine) as conn:
        conn.execute(insert(audit_log).values(at=utcnow(), user_id=user_id, action=action, detail=detail, ip=ip))


def audit_entries(engine, limit: int = 200) -> list[dict]:
    with read_transaction(engine) as conn:
        return [dict(r) for r in conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit))
                .mappings()]
