"""Tables of the web UI: who can sign in, with which roles, and the audit log."""
from sqlalchemy import Boolean, Column, Index, String, Table, Text

from lrs.personal import BLANK, CLOSE, EMPLOYEE, KEEP, PSEUDONYM, SCRUB, TEXT, USER, Personal, columns
from lrs.store.models import SeqType, metadata
from lrs.store.types import UTCDateTime

users = Table(
    "users", metadata,
    Column("id", String(36), primary_key=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("password_hash", Text),  # argon2; NULL: signs in only through OpenID Connect
    Column("oidc_subject", String(255), unique=True),  # matched on first OIDC sign-in, by the configured claim
    Column("display_name", Text, nullable=False),
    Column("employee_id", String(64)),  # the employee this person is (their own plan)
    Column("roles", Text, nullable=False),  # space-separated: employee leader instructor author admin
    Column("led_units", Text, nullable=False),  # space-separated unit ids (leaders)
    Column("lang", String(5), nullable=False),  # nb | en
    Column("disabled", Boolean, nullable=False),
    Column("created", UTCDateTime, nullable=False),
)

# Sign-ins (also failed ones) and admin actions.
audit_log = Table(
    "audit_log", metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("user_id", String(36)),
    Column("action", String(64), nullable=False),  # e.g. sign-in, sign-in-failed, credential-created
    Column("detail", Text, nullable=False),
    Column("ip", String(64)),
    Index("ix_audit_log_at", "at"),
)

# A signed-in browser: the cookie carries only this row's id, so deleting the row ends the session everywhere
# (sign-out, password change, role removal, an admin's "sign out everywhere").
web_sessions = Table(
    "web_sessions", metadata,
    Column("id", String(64), primary_key=True),  # random (secrets.token_urlsafe)
    Column("user_id", String(36), nullable=False),
    Column("created", UTCDateTime, nullable=False),
    Column("seen", UTCDateTime, nullable=False),  # refreshed every few minutes of use; idle ones are purged
    Index("ix_web_sessions_user_id", "user_id"),
    Index("ix_web_sessions_seen", "seen"),
)

# Failed sign-ins, counted per user name and client address across every worker and instance (the rate limit).
sign_in_failures = Table(
    "sign_in_failures", metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_sign_in_failures_key", "username", "address", "at"),
    Index("ix_sign_in_failures_at", "at"),
)


# Personal data in these tables (lrs.personal; declared by lrs.web.init_app).
PERSONAL_DATA = [
    Personal(users, "employee_id", EMPLOYEE, PSEUDONYM),
    *columns(users, USER, PSEUDONYM, "username", "display_name"),
    *columns(users, USER, BLANK, "password_hash", "oidc_subject"),
    Personal(users, "disabled", USER, CLOSE),
    Personal(audit_log, "user_id", USER, KEEP, "a random id; the account itself is pseudonymised"),
    Personal(audit_log, "detail", TEXT, SCRUB),
    Personal(web_sessions, "user_id", USER, KEEP, "a random id; the account is closed"),
    Personal(sign_in_failures, "username", USER, SCRUB),
]
