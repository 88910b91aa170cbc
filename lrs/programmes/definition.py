"""A programme as data (YAML): its learning objectives by topic, the learning activities that count for each, and
how each is assessed. See docs/programmes.md.

Activities that are xAPI evidence are evidence rules of the competence engine (lrs.competence.rules), checked and
evaluated the same way:

    course           {kind: course, rule: {kind: any|all|count, parts: […]}}   modules, e-learning, any xAPI rule
    simulation       {kind: simulation, scenario: IRI, count: 2, within_months: 24}
    national_course  {kind: national_course, course: IRI}      a course of the national curriculum, completed or passed
    competence       {kind: competence, competence: CODE}      a competence in the employee's plan, fulfilled
    procedure        {kind: procedure, code: …, count: 5}      logged by the participant, confirmed by the supervisor
    supervision      {kind: supervision, count: 2}             supervision meetings, logged and confirmed
"""
import yaml
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from lrs.competence.rules import load_rule
from lrs.model import verbs

ACTIVITY_KINDS = ("course", "simulation", "national_course", "competence", "procedure", "supervision")
ASSESSMENTS = ("supervisor", "committee", "automatic")
SIM_SESSION = "https://kompetanse.helse.example.no/xapi/activities/simulation-session"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
CODE = validate.Regexp(r"^[A-Za-z0-9_.:-]{1,64}$")


class ProgrammeError(ValueError):
    """A programme file that cannot be read, saying where and what."""


class _Activity(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(ACTIVITY_KINDS))
    name_nb = fields.String(load_default=None)
    name_en = fields.String(load_default=None)
    rule = fields.Dict(load_default=None)
    scenario = fields.String(load_default=None)
    course = fields.String(load_default=None)
    competence = fields.String(load_default=None)
    code = fields.String(load_default=None, validate=CODE)
    count = fields.Integer(load_default=None, validate=validate.Range(min=1, max=1000))
    within_months = fields.Integer(load_default=None, validate=validate.Range(min=1))

    @validates_schema
    def _complete(self, data, **_):
        need = {"course": ("rule",), "simulation": ("scenario",), "national_course": ("course",),
                "competence": ("competence",), "procedure": ("code", "count"), "supervision": ("count",)}
        missing = [f for f in need[data["kind"]] if not data.get(f)]
        if missing:
            raise ValidationError(f"an activity of kind {data['kind']} needs {', '.join(missing)}")


class _Objective(Schema):
    id = fields.String(required=True, validate=CODE)
    name_nb = fields.String(required=True)
    name_en = fields.String(required=True)
    assessment = fields.String(load_default="supervisor", validate=validate.OneOf(ASSESSMENTS))
    due_month = fields.Integer(load_default=None, validate=validate.Range(min=0, max=240))
    activities = fields.List(fields.Nested(_Activity), load_default=list)


class _Topic(Schema):
    code = fields.String(required=True, validate=CODE)
    name_nb = fields.String(required=True)
    name_en = fields.String(required=True)
    objectives = fields.List(fields.Nested(_Objective), required=True, validate=validate.Length(min=1))


class _Programme(Schema):
    code = fields.String(required=True, validate=CODE)
    title_nb = fields.String(required=True)
    title_en = fields.String(required=True)
    audience = fields.String(load_default="")
    duration_months = fields.Integer(required=True, validate=validate.Range(min=1, max=240))
    supervisor_competence = fields.String(load_default=None)
    topics = fields.List(fields.Nested(_Topic), required=True, validate=validate.Length(min=1))

    @validates_schema
    def _unique(self, data, **_):
        ids = [o["id"] for t in data["topics"] for o in t["objectives"]]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValidationError(f"objective ids must be unique: {', '.join(twice)}", "topics")


def activity_rule(programme_code: str, objective_id: str, index: int, activity: dict) -> dict | None:
    """The competence engine's evidence rule for an xAPI activity (None for logged and competence activities)."""
    rule_id = f"{objective_id}.{index}"
    kind = activity["kind"]
    if kind == "course":
        raw = dict(activity["rule"])
    elif kind == "simulation":
        raw = {"kind": "count", "count": activity["count"] or 1, "within_months": activity["within_months"] or 120,
               "parts": [{"within": [activity["scenario"]], "activity_types": [SIM_SESSION]}]}
    elif kind == "national_course":
        raw = {"kind": "any", "parts": [{"verbs": [verbs.COMPLETED, PASSED], "activities": [activity["course"]]}]}
    else:
        return None
    raw.update({"id": rule_id, "competence": programme_code})
    return load_rule(raw)


def load(raw) -> dict:
    """A programme as data, checked (its xAPI rules as the engine's rules); ProgrammeError says what is wrong."""
    if not isinstance(raw, dict):
        raise ProgrammeError("a programme is a mapping with code, title_nb, title_en, duration_months, topics")
    try:
        programme = _Programme().load(raw)
    except ValidationError as e:
        raise ProgrammeError(f"not a valid programme: {e.normalized_messages()}") from None
    for topic in programme["topics"]:
        for objective in topic["objectives"]:
            for i, activity in enumerate(objective["activities"]):
                try:
                    activity_rule(programme["code"], objective["id"], i, activity)
                except ValidationError as e:
                    raise ProgrammeError(f"objective {objective['id']}, activity {i + 1}: not a valid rule: "
                                         f"{e.normalized_messages()}") from None
    return programme


def read(name: str, text: str) -> dict:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ProgrammeError(f"{name}: not valid YAML: {e}") from None
    try:
        return load(raw)
    except ProgrammeError as e:
        raise ProgrammeError(f"{name}: {e}") from None


def objectives(programme: dict) -> list[dict]:
    """Every objective, in order, with its topic."""
    return [{**o, "topic": t} for t in programme["topics"] for o in t["objectives"]]
