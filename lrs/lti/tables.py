"""Tables of the LTI 1.3 tool: the platforms (trusts' Moodle sites) it is registered with and the tool's keys for
each, short-lived launch data (OIDC state and nonces, deep-linking launches, one-time registration tokens), the
Moodle courses an instructor launched from (for Names and Role Provisioning) and the grades to post back (AGS)."""
from sqlalchemy import Column, Float, Index, String, Table, Text, UniqueConstraint

from lrs.personal import DELETE, EMPLOYEE, KEEP, SCRUB, TEXT, USER, Personal
from lrs.store.models import SeqType, metadata
from lrs.store.types import UTCDateTime

# One registration of the tool with a platform (a Moodle site): its issuer and client id, where its OIDC login,
# token service and key set are, the deployments it made, and which launch claim names the person here.
lti_platforms = Table(
    "lti_platforms", metadata,
    Column("id", String(36), primary_key=True),
    Column("name", Text, nullable=False),
    Column("issuer", String(255)),  # NULL until the platform's values are entered (manual registration)
    Column("client_id", String(255)),
    Column("auth_login_url", Text),
    Column("auth_token_url", Text),
    Column("auth_audience", Text),
    Column("key_set_url", Text),
    Column("deployment_ids", Text, nullable=False),  # space-separated; empty: any deployment of this client
    Column("match_claim", Text, nullable=False),  # the claim that names the person (lrs.lti.service.claim_value)
    Column("match_field", String(20), nullable=False),  # employee_id | username
    Column("created", UTCDateTime, nullable=False),
    UniqueConstraint("issuer", "client_id", name="uq_lti_platforms_issuer_client"),
)

# The tool's own RSA keys, one set per platform; the newest unretired one signs, retired ones stay in the key set
# for LTI_KEY_GRACE_HOURS so a platform that cached the old set can still check what was signed just before.
lti_keys = Table(
    "lti_keys", metadata,
    Column("kid", String(64), primary_key=True),  # the JWK thumbprint
    Column("platform_id", String(36), nullable=False),
    Column("private_pem", Text, nullable=False),
    Column("public_jwk", Text, nullable=False),
    Column("created", UTCDateTime, nullable=False),
    Column("retired", UTCDateTime),
    Index("ix_lti_keys_platform_id", "platform_id"),
)

# Short-lived values of the LTI flows, by key: OIDC state and nonces (each used once), launches kept for deep
# linking, dynamic-registration tokens. Expired rows are purged by the job lti.grades.
lti_launch_data = Table(
    "lti_launch_data", metadata,
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),  # JSON; a kept launch holds the platform's claims about the person
    Column("expires", UTCDateTime, nullable=False),
    Index("ix_lti_launch_data_expires", "expires"),
)

# A Moodle course an instructor launched the tool from, with its membership service (NRPS) if offered.
lti_contexts = Table(
    "lti_contexts", metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("platform_id", String(36), nullable=False),
    Column("context_id", String(255), nullable=False),
    Column("title", Text, nullable=False),
    Column("memberships_url", Text),
    Column("user_id", String(36), nullable=False),  # the instructor's account here
    Column("seen", UTCDateTime, nullable=False),
    UniqueConstraint("platform_id", "context_id", "user_id", name="uq_lti_contexts_platform_context_user"),
)

# A module launched from a Moodle line item: its result is posted back to the gradebook (AGS) by the job.
lti_grades = Table(
    "lti_grades", metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("platform_id", String(36), nullable=False),
    Column("lineitem", Text, nullable=False),
    Column("scope", Text, nullable=False),  # the AGS scopes the launch offered, space-separated
    Column("platform_user", String(255), nullable=False),  # the launch's sub: whose grade it is in Moodle
    Column("employee_id", String(64), nullable=False),
    Column("publisher_id", Text, nullable=False),  # the cmi5 course
    Column("registration", String(36), nullable=False),  # the cmi5 registration the launch started or resumed
    Column("created", UTCDateTime, nullable=False),
    Column("sent", UTCDateTime),
    Column("score", Float),
    Column("error", Text),
    Index("ix_lti_grades_sent", "sent"),
)

PERSONAL_DATA = [
    Personal(lti_grades, "employee_id", EMPLOYEE, DELETE),
    Personal(lti_grades, "platform_user", USER, DELETE),
    Personal(lti_grades, "error", TEXT, SCRUB),
    Personal(lti_contexts, "user_id", USER, KEEP, "the instructor's user id here (a random id)"),
    Personal(lti_launch_data, "value", TEXT, SCRUB),
]
