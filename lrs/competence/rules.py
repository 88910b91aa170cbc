"""Evidence rules, as data: which statements prove a competence, and what they prove together.

A rule has one or more parts; each part is a test of one statement (verb, object, result). The rule's kind says
how matching statements add up:

    any    one statement matching the (single) part proves the competence
    all    each part needs a matching statement (modules A, B and C)
    count  `count` statements matching the part within `within_months` (N simulation sessions in M months)

    {"id": "hlr-voksen", "competence": "HLR", "kind": "any",
     "parts": [{"verbs": ["http://adlnet.gov/expapi/verbs/passed"], "activities": ["https://…/hlr"],
                "min_scaled": 0.8, "success": true}]}
"""
from dataclasses import dataclass
from datetime import date, datetime, timezone

from dateutil.relativedelta import relativedelta
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

KINDS = ("any", "all", "count")


class PartSchema(Schema):
    verbs = fields.List(fields.Url(schemes={"http", "https", "urn"}, require_tld=False), load_default=list)
    activities = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list)
    activity_types = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list)
    # The statement's object or one of its context activities (parent, grouping, category, other) is one of these:
    # a published course and all its activities, or a simulation scenario and all its sessions.
    within = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list)
    min_scaled = fields.Float(validate=validate.Range(-1, 1), load_default=None)
    success = fields.Boolean(load_default=False)
    completion = fields.Boolean(load_default=False)
    # Result extensions that must be at least this number, e.g. a rating scale's global score.
    min_extensions = fields.Dict(keys=fields.String(), values=fields.Float(), load_default=dict)

    @validates_schema
    def _says_something(self, data, **_):
        if not (data["verbs"] or data["activities"] or data["activity_types"] or data["within"]):
            raise ValidationError("a part needs at least one of verbs, activities, activity_types, within")


class RuleSchema(Schema):
    id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.:-]{1,64}$"))
    competence = fields.String(required=True, validate=validate.Length(min=1, max=64))
    kind = fields.String(load_default="any", validate=validate.OneOf(KINDS))
    parts = fields.List(fields.Nested(PartSchema), required=True, validate=validate.Length(min=1))
    count = fields.Integer(load_default=None, validate=validate.Range(min=1))
    within_months = fields.Integer(load_default=None, validate=validate.Range(min=1))
    active = fields.Boolean(load_default=True)

    @validates_schema
    def _kind_fits(self, data, **_):
        if data["kind"] != "all" and len(data["parts"]) != 1:
            raise ValidationError(f"a rule of kind {data['kind']} has exactly one part", "parts")
        if data["kind"] == "count" and not (data["count"] and data["within_months"]):
            raise ValidationError("a rule of kind count needs count and within_months", "count")


def load_rule(raw: dict) -> dict:
    """A rule as data, checked; raises marshmallow.ValidationError saying what is wrong."""
    return RuleSchema().load(raw)


@dataclass(frozen=True)
class Part:
    rule_id: str
    index: int
    competence: str
    verbs: frozenset
    activities: frozenset
    activity_types: frozenset
    within: frozenset
    min_scaled: float | None
    success: bool
    completion: bool
    min_extensions: tuple

    def matches(self, stmt: dict) -> bool:
        if self.verbs and stmt["verb"]["id"] not in self.verbs:
            return False
        obj = stmt["object"]
        if self.activities and obj.get("id") not in self.activities:
            return False
        if self.activity_types and (obj.get("definition") or {}).get("type") not in self.activity_types:
            return False
        if self.within and obj.get("id") not in self.within and not any(
                a.get("id") in self.within for a in _context_activities(stmt)):
            return False
        result = stmt.get("result") or {}
        if self.success and result.get("success") is not True:
            return False
        if self.completion and result.get("completion") is not True:
            return False
        if self.min_scaled is not None:
            scaled = (result.get("score") or {}).get("scaled")
            if scaled is None or scaled < self.min_scaled:
                return False
        extensions = result.get("extensions") or {}
        for iri, least in self.min_extensions:
            value = extensions.get(iri)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < least:
                return False
        return True


def _context_activities(stmt: dict):
    for kind in (stmt.get("context") or {}).get("contextActivities", {}).values():
        yield from kind if isinstance(kind, list) else [kind]


def parts_of(rule: dict) -> list[Part]:
    return [Part(rule["id"], i, rule["competence"], frozenset(p["verbs"]), frozenset(p["activities"]),
                 frozenset(p["activity_types"]), frozenset(p.get("within", ())), p["min_scaled"], p["success"],
                 p["completion"], tuple(sorted(p["min_extensions"].items())))
            for i, p in enumerate(rule["parts"])]


class Matcher:
    """All parts of the rules in force, indexed by verb, to test many statements fast."""

    def __init__(self, rules: list[dict]):
        self.by_verb: dict[str, list[Part]] = {}
        self.any_verb: list[Part] = []
        for rule in rules:
            for part in parts_of(rule):
                if part.verbs:
                    for verb in part.verbs:
                        self.by_verb.setdefault(verb, []).append(part)
                else:
                    self.any_verb.append(part)

    @property
    def verbs(self) -> list[str] | None:
        """The verbs any part can match; None when some part matches any verb."""
        return None if self.any_verb else sorted(self.by_verb)

    def match(self, stmt: dict) -> list[Part]:
        candidates = self.by_verb.get(stmt["verb"]["id"], [])
        return [p for p in (*candidates, *self.any_verb) if p.matches(stmt)]


@dataclass(frozen=True)
class Achievement:
    fulfilled_on: date  # when the learning that completes it happened
    valid_until: date | None  # None: never expires
    statement_ids: tuple

    def outlasts(self, other: "Achievement | None") -> bool:
        if other is None:
            return True
        mine, theirs = self.valid_until or date.max, other.valid_until or date.max
        return (mine, self.fulfilled_on) > (theirs, other.fulfilled_on)


def _expires(start: date, months: int | None) -> date | None:
    return start + relativedelta(months=months) if months else None


def best_achievement(rule: dict, facts: list[tuple[int, str, date]], validity_months: int | None):
    """The achievement of one rule that lasts longest, from its facts [(part, statement id, day it happened)]."""
    facts = sorted(facts, key=lambda f: f[2], reverse=True)
    kind = rule["kind"]
    best = None
    if kind == "any":
        for _part, sid, day in facts[:1]:  # the newest lasts longest
            best = Achievement(day, _expires(day, validity_months), (sid,))
    elif kind == "all":
        newest = {}
        for part, sid, day in facts:
            newest.setdefault(part, (sid, day))
        if len(newest) == len(rule["parts"]):
            days = [d for _sid, d in newest.values()]
            # Complete when the last part is done; it lasts as long as its oldest part does.
            best = Achievement(max(days), _expires(min(days), validity_months),
                               tuple(sid for _p, (sid, _d) in sorted(newest.items())))
    else:  # count: any `count` facts within `within_months`; it lasts until the oldest of them leaves the window
        n, months = rule["count"], rule["within_months"]
        days = [(sid, day) for _part, sid, day in facts]
        for i in range(len(days) - n + 1):
            window = days[i:i + n]
            newest_day, oldest_day = window[0][1], window[-1][1]
            if oldest_day + relativedelta(months=months) < newest_day:
                continue
            until = oldest_day + relativedelta(months=months)
            if validity_months:
                until = min(until, _expires(newest_day, validity_months))
            candidate = Achievement(newest_day, until, tuple(sid for sid, _d in window))
            if candidate.outlasts(best):
                best = candidate
    return best


def parse_timestamp(value: str) -> datetime:
    """An xAPI timestamp as aware UTC (a timestamp without zone is taken as UTC)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)
