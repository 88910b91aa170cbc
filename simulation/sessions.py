"""A logged team-training session: what an instructor enters, checked, and the xAPI statements it becomes.

Statement ids are UUID v5 of the session, its revision and what the statement says, so sending a session again
sends the same statements (which the LRS accepts as repeats), and a corrected session (the next revision) has new
ones while the old ones are voided in the same batch."""
import uuid
from datetime import timezone

from marshmallow import (EXCLUDE, Schema, ValidationError, fields, post_load, validate, validates_schema)

from lrs import principal
from simulation import catalog

XAPI = "https://kompetanse.helse.example.no/xapi"
V = XAPI + "/simulation"
SESSION_TYPE = XAPI + "/activities/simulation-session"
SCENARIO_TYPE = XAPI + "/activities/simulation-scenario"
ADL = "http://adlnet.gov/expapi/verbs/"
VERBS = {"attended": {"id": ADL + "attended", "display": {"nb-NO": "deltok på", "en-US": "attended"}},
         "completed": {"id": ADL + "completed", "display": {"nb-NO": "fullførte", "en-US": "completed"}},
         "scored": {"id": ADL + "scored", "display": {"nb-NO": "fikk vurdering", "en-US": "scored"}},
         "voided": {"id": ADL + "voided", "display": {"en-US": "voided"}}}


USER_PREFIX = "user:"  # a facilitator named by user name instead of employee id: "user:instruktor"


def is_user(person: str) -> bool:
    return person.startswith(USER_PREFIX)


def user_agent(person: str) -> dict:
    """The xAPI agent of a facilitator named by account ("user:<username>"), as the LRS's pages know them."""
    return principal.user_agent(person[len(USER_PREFIX):])


def ext(name: str) -> str:
    return f"{V}/extensions/{name}"


def rating_ext(scale: str, item: str) -> str:
    """The result extension carrying one rating: what competence rules compare with (min_extensions)."""
    return f"{V}/extensions/rating/{scale}/{item}"


class Invalid(ValueError):
    """The session cannot be logged; the message says why, in words an instructor understands."""


Ratings = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()))


class ParticipantSchema(Schema):
    class Meta:
        unknown = EXCLUDE
    employee_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    profession = fields.String(required=True, validate=validate.Length(min=1, max=64))
    role = fields.String(required=True, validate=validate.Length(min=1, max=100))  # role in the scenario
    attended = fields.Boolean(load_default=True)
    ratings = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()),
                          load_default=dict)


class DebriefSchema(Schema):
    held = fields.Boolean(required=True)
    minutes = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=600))
    learning_points = fields.String(load_default="")
    shareable = fields.Boolean(load_default=False)  # only then do learning points go into statements


class SessionSchema(Schema):
    class Meta:
        unknown = EXCLUDE
    id = fields.UUID(load_default=None)
    scenario = fields.String(required=True)
    start = fields.AwareDateTime(required=True, default_timezone=timezone.utc)
    place = fields.String(required=True, validate=validate.OneOf(["in_situ", "sim_centre"]))
    location = fields.String(load_default="", validate=validate.Length(max=200))
    facilitators = fields.List(fields.String(validate=validate.Regexp(
        r"^(user:\S{1,100}|[^:\s]{1,64})$", error="an employee id or user:<user name>")),
        required=True, validate=validate.Length(min=1))
    participants = fields.List(fields.Nested(ParticipantSchema), required=True, validate=validate.Length(min=1))
    team_ratings = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()),
                               load_default=dict)
    debrief = fields.Nested(DebriefSchema, load_default=lambda: {"held": False, "minutes": None,
                                                                  "learning_points": "", "shareable": False})

    @validates_schema
    def _sane(self, data, **_):
        ids = [p["employee_id"] for p in data["participants"]]
        if len(ids) != len(set(ids)):
            raise ValidationError("the same participant is listed twice", "participants")
        if not any(p["attended"] for p in data["participants"]):
            raise ValidationError("nobody attended", "participants")

    @post_load
    def _identity(self, data, **_):
        if data["id"] is None:  # the same session logged twice gets the same id, and is refused as a duplicate
            data["id"] = uuid.uuid5(uuid.NAMESPACE_URL,
                                    f"{V}/sessions/{data['scenario']}/{data['start'].isoformat()}/{data['place']}/"
                                    f"{data['location']}")
        data["id"] = str(data["id"])
        return data


def load(raw: dict, known_employees) -> dict:
    """A session from what the instructor sent; raises Invalid saying what is wrong. known_employees(ids) gives
    those of the ids that are employees."""
    try:
        session = SessionSchema().load(raw)
    except ValidationError as e:
        raise Invalid(_describe(e.normalized_messages()))
    scenario = catalog.scenarios().get(session["scenario"])
    if scenario is None:
        raise Invalid(f"unknown scenario «{session['scenario']}»; known: {', '.join(catalog.scenarios())}")
    people = [f for f in session["facilitators"] if not is_user(f)] + [p["employee_id"]
                                                                          for p in session["participants"]]
    known = known_employees(people)
    for person in people:
        if person not in known:
            raise Invalid(f"unknown person: no employee with id «{person}»")
    for p in session["participants"]:
        _check_ratings(p["ratings"], scenario, "participant", f"participant {p['employee_id']}")
    _check_ratings(session["team_ratings"], scenario, "team", "team")
    return session


def _describe(messages, prefix="") -> str:
    if isinstance(messages, dict):
        return "; ".join(_describe(v, f"{prefix}{k}." if not str(k).isdigit() else f"{prefix}[{k}].")
                         for k, v in messages.items())
    return f"{prefix.rstrip('.')}: {' '.join(map(str, messages))}"


def _check_ratings(ratings: dict, scenario: dict, level: str, who: str) -> None:
    scales = catalog.scales()
    for scale_id, items in ratings.items():
        scale = scales.get(scale_id)
        if scale is None or scale_id not in scenario["scales"]:
            raise Invalid(f"{who}: the scenario does not use the rating scale «{scale_id}» "
                          f"(it uses {', '.join(scenario['scales'])})")
        if level not in scale.levels:
            raise Invalid(f"{who}: {scale.name_en} rates a {' or '.join(scale.levels)}, not a {level}")
        for item_id, value in items.items():
            item = scale.items.get(item_id)
            if item is None:
                raise Invalid(f"{who}: {scale.name_en} has no item «{item_id}»")
            if not item.min <= value <= item.max:
                raise Invalid(f"{who}: {scale.name_en} «{item.en}» is rated {value}, outside {item.min}–{item.max}")


# ------------------------------------------------------------------------------------------------ to xAPI

def session_iri(session_id: str) -> str:
    return f"{V}/sessions/{session_id}"


def statement_id(session: dict, revision: int, *what) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{session_iri(session['id'])}#{revision}/" + "/".join(what)))


def statements(session: dict, revision: int, agent_for) -> list[dict]:
    """Every statement of a session: per attended participant `attended` and `completed` (with their ratings),
    and per team rating one `scored` statement by the team."""
    scenario = catalog.scenarios()[session["scenario"]]
    scales = catalog.scales()
    attended = [p for p in session["participants"] if p["attended"]]
    team = {"objectType": "Group", "name": f"Team {session['start']:%Y-%m-%d %H:%M} {scenario['title']['nb']}",
            "member": [agent_for(p["employee_id"]) for p in attended]}
    facilitators = [agent_for(f) for f in session["facilitators"]]
    instructor = facilitators[0] if len(facilitators) == 1 else {"objectType": "Group", "member": facilitators}
    debrief = session["debrief"]
    extensions = {ext("place"): session["place"], ext("revision"): revision, ext("debrief-held"): debrief["held"]}
    if session["location"]:
        extensions[ext("location")] = session["location"]
    if debrief["minutes"] is not None:
        extensions[ext("debrief-minutes")] = debrief["minutes"]
    if debrief["shareable"] and debrief["learning_points"]:
        extensions[ext("learning-points")] = debrief["learning_points"]
    activity = {"objectType": "Activity", "id": session_iri(session["id"]), "definition": {
        "type": SESSION_TYPE, "name": {"nb-NO": scenario["title"]["nb"], "en-US": scenario["title"]["en"]}}}
    scenario_activity = {"objectType": "Activity", "id": f"{V}/scenarios/{scenario['id']}",
                         "definition": {"type": SCENARIO_TYPE, "name": {"nb-NO": scenario["title"]["nb"],
                                                                        "en-US": scenario["title"]["en"]}}}
    registration = str(uuid.uuid5(uuid.NAMESPACE_URL, session_iri(session["id"])))
    timestamp = session["start"].astimezone(timezone.utc).isoformat()

    def context(more=None):
        return {"registration": registration, "instructor": instructor, "team": team,
                "contextActivities": {"parent": [scenario_activity]},
                "extensions": {**extensions, **(more or {})}}

    out = []
    for p in attended:
        who = agent_for(p["employee_id"])
        mine = {ext("role"): p["role"], ext("profession"): p["profession"]}
        out.append({"id": statement_id(session, revision, "attended", p["employee_id"]), "actor": who,
                    "verb": VERBS["attended"], "object": activity, "context": context(mine), "timestamp": timestamp})
        result = {"completion": True}
        ratings = {rating_ext(s, i): v for s, items in p["ratings"].items() for i, v in items.items()}
        if ratings:
            result["extensions"] = ratings
        for scale_id, items in p["ratings"].items():
            item = scales[scale_id].global_item
            if item and item.id in items:
                raw = items[item.id]
                result["score"] = {"raw": raw, "min": item.min, "max": item.max,
                                   "scaled": round((raw - item.min) / (item.max - item.min), 4)}
                break
        out.append({"id": statement_id(session, revision, "completed", p["employee_id"]), "actor": who,
                    "verb": VERBS["completed"], "object": activity, "result": result, "context": context(mine),
                    "timestamp": timestamp})
    for scale_id, items in session["team_ratings"].items():
        for item_id, raw in items.items():
            item = scales[scale_id].items[item_id]
            out.append({"id": statement_id(session, revision, "team", scale_id, item_id), "actor": team,
                        "verb": VERBS["scored"], "object": activity,
                        "result": {"score": {"raw": raw, "min": item.min, "max": item.max,
                                             "scaled": round((raw - item.min) / (item.max - item.min), 4)},
                                   "extensions": {rating_ext(scale_id, item_id): raw}},
                        "context": context({ext("scale"): scale_id, ext("item"): item_id}),
                        "timestamp": timestamp})
    return out


def voiding(statement_ids, instructor_agent) -> list[dict]:
    """Voiding statements, the same on every retry (no timestamp: the LRS stamps them when it stores them)."""
    return [{"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{V}/void/{sid}")), "actor": instructor_agent,
             "verb": VERBS["voided"], "object": {"objectType": "StatementRef", "id": sid}}
            for sid in statement_ids]


def to_document(session: dict, revision: int, sent: list[str], deleted: bool = False) -> dict:
    """What is kept of a session in the LRS (an Activity Profile document of the session activity)."""
    return {**session, "start": session["start"].isoformat(), "revision": revision, "statement_ids": sent,
            "deleted": deleted}
