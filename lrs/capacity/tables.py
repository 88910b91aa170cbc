"""Tables of capacity and indicators: staffing targets (versioned, as rules are) and the monthly indicator
snapshots (kept as taken, never recomputed)."""
from sqlalchemy import Boolean, Column, Date, Index, Integer, String, Table, Text

from lrs.personal import KEEP, USER, Personal
from lrs.store.models import metadata
from lrs.store.types import UTCDateTime

# A staffing target ("bemanningskrav"): in a unit's subtree at least `minimum` people (with `role_code`, when given)
# hold the competence, per `per` ("unit", or per "shift"/"team": then `minimum` x `groups` people, the number of
# shifts or teams the rota staffs). Every change is a new version; the newest version is in force (active = false:
# withdrawn).
staffing_targets = Table(
    "staffing_targets", metadata,
    Column("target_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("unit_id", String(64), nullable=False),
    Column("competence_code", String(64), nullable=False),
    Column("role_code", String(64)),  # NULL: anyone in the unit counts
    Column("per", String(16), nullable=False),  # unit | shift | team
    Column("minimum", Integer, nullable=False),
    Column("groups", Integer, nullable=False),  # shifts or teams in the rota (1 for per = unit)
    Column("note", Text),
    Column("active", Boolean, nullable=False),
    Column("created", UTCDateTime, nullable=False),
    Column("created_by", String(64)),  # user id of who made this version (NULL: an import from the command line)
    Index("ix_staffing_targets_unit", "unit_id"),
)

# One row per month, scope, unit, job role ("*": each employee once) and competence ("*": the plan as a whole).
# Scope "unit": the unit's own employees; "tree": the sums over its subtree (written at the same time, so a trust's
# or the region's trend reads a few rows, not every unit's). Counts only: any level is a sum.
indicator_snapshots = Table(
    "indicator_snapshots", metadata,
    Column("month", String(7), primary_key=True),  # YYYY-MM: the state at the end of that month
    Column("scope", String(8), primary_key=True),  # unit | tree
    Column("unit_id", String(64), primary_key=True),
    Column("role_code", String(64), primary_key=True),
    Column("competence_code", String(64), primary_key=True),
    Column("employees", Integer, nullable=False),  # competence "*" rows: employees there
    Column("all_met", Integer, nullable=False),  # competence "*" rows: of them, every mandatory requirement met
    Column("required", Integer, nullable=False),  # plans that require the competence
    Column("holders", Integer, nullable=False),  # of them, fulfilled or expiring (valid)
    Column("overdue", Integer, nullable=False),  # mandatory and expired or missing
    Column("expiring", Integer, nullable=False),  # valid, within the renewal window
    Column("targets", Integer, nullable=False),  # staffing targets set on this unit (role, competence)
    Column("targets_met", Integer, nullable=False),  # of them, met at the end of the month
    Index("ix_indicator_snapshots_unit", "unit_id", "month"),
)

# Which months have a snapshot: the claim that makes the monthly job run once across instances.
snapshot_months = Table(
    "snapshot_months", metadata,
    Column("month", String(7), primary_key=True),
    Column("day", Date, nullable=False),  # the day whose end the snapshot describes
    Column("how", String(16), nullable=False),  # job | backfill
    Column("taken", UTCDateTime, nullable=False),
)

PERSONAL_DATA = [
    Personal(staffing_targets, "created_by", USER, KEEP, "the admin's user id (a random id)"),
]
