"""The Activities and Agents resources."""
import json
from urllib.parse import quote

from tests.helpers import COURSE, agent, post, statement


def activity(xapi, activity_id=COURSE):
    return xapi.get("/xapi/activities?activityId=" + quote(activity_id))


def test_activity_definition_is_merged_from_statements(xapi):
    first = statement()
    first["object"]["definition"] = {"name": {"nb-NO": "HLR"}, "type": "http://adlnet.gov/expapi/activities/course"}
    later = statement()
    later["object"]["definition"] = {"name": {"en-US": "CPR"}, "description": {"en-US": "Adult CPR"}}
    post(xapi, first)
    post(xapi, later)
    r = activity(xapi)
    assert r.status_code == 200
    assert r.json == {"objectType": "Activity", "id": COURSE, "definition": {
        "name": {"nb-NO": "HLR", "en-US": "CPR"}, "description": {"en-US": "Adult CPR"},
        "type": "http://adlnet.gov/expapi/activities/course"}}


def test_newer_text_for_a_language_replaces_older(xapi):
    post(xapi, statement())
    newer = statement()
    newer["object"]["definition"] = {"name": {"nb-NO": "Hjerte-lunge-redning"}}
    post(xapi, newer)
    assert activity(xapi).json["definition"]["name"] == {"nb-NO": "Hjerte-lunge-redning", "en-US": "CPR"}


def test_context_activities_are_known_too(xapi):
    parent = "https://kurs.helse.example.no/program"
    post(xapi, statement(context={"contextActivities": {"parent": [
        {"id": parent, "definition": {"name": {"nb-NO": "Program"}}}]}}))
    assert activity(xapi, parent).json["definition"] == {"name": {"nb-NO": "Program"}}


def test_activity_without_definition_and_unknown_activity(xapi):
    bare = statement(activity="https://kurs.example.no/bare")
    del bare["object"]["definition"]
    post(xapi, bare)
    assert activity(xapi, "https://kurs.example.no/bare").json == {"objectType": "Activity",
                                                                   "id": "https://kurs.example.no/bare"}
    assert activity(xapi, "https://kurs.example.no/never").json == {"objectType": "Activity",
                                                                    "id": "https://kurs.example.no/never"}


def test_activities_parameters_are_checked(xapi):
    assert xapi.get("/xapi/activities").status_code == 400
    assert xapi.get("/xapi/activities?activityId=" + quote(COURSE) + "&x=1").status_code == 400


def test_agents_returns_a_person_with_known_names(xapi):
    post(xapi, statement(actor=agent("kari")))
    renamed = agent("kari")
    renamed["name"] = "Kari Nordmann"
    post(xapi, statement(actor=renamed))
    r = xapi.get("/xapi/agents?agent=" + quote(json.dumps({"account": agent("kari")["account"]})))
    assert r.status_code == 200
    assert r.json["objectType"] == "Person"
    assert r.json["name"] == ["Kari Nordmann", "Kari"]
    assert r.json["account"] == [agent("kari")["account"]]


def test_agents_with_an_unknown_agent_returns_what_was_given(xapi):
    r = xapi.get("/xapi/agents?agent=" + quote(json.dumps({"mbox": "mailto:ny@example.no"})))
    assert r.json == {"objectType": "Person", "mbox": ["mailto:ny@example.no"]}


def test_agents_rejects_bad_agents(xapi):
    assert xapi.get("/xapi/agents").status_code == 400
    assert xapi.get("/xapi/agents?agent=nope").status_code == 400
