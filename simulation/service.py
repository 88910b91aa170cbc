"""Logging, correcting and deleting sessions; what an instructor sees of theirs. Everything goes to and comes from
the LRS through its HTTP API (simulation/lrs.py): the session itself is kept as an Activity Profile document of
the session activity, each facilitator's list of sessions as an Agent Profile document, and who is an employee
(and the xAPI agent that is them) comes from the LRS's employee directory."""
import json
from collections import Counter, defaultdict

from simulation import catalog, lrs, sessions
from simulation.sessions import V, Invalid

SESSION_DOC = f"{V}/session"
MY_SESSIONS_DOC = f"{V}/my-sessions"


class NotFound(Invalid):
    pass


class Duplicate(Invalid):
    pass


class _Directory:
    """The LRS's employee directory, asked once per id in one piece of work."""

    def __init__(self, client):
        self.client, self.entries = client, {}

    def known(self, ids) -> set[str]:
        self._ask(ids)
        return {i for i in ids if self.entries[i]["known"]}

    def agent(self, employee_id: str) -> dict:
        if sessions.is_user(employee_id):  # an instructor who is no employee: their account
            return sessions.user_agent(employee_id)
        self._ask([employee_id])
        return self.entries[employee_id]["agent"]

    def _ask(self, ids):
        missing = [i for i in dict.fromkeys(ids) if i not in self.entries]
        if missing:
            self.entries.update(self.client.employees(missing))


def _doc(client, session_id: str):
    return client.get_document("activities/profile", activityId=sessions.session_iri(session_id),
                               profileId=SESSION_DOC)


def log(app, raw: dict) -> dict:
    """Log a new session: its statements in one batch, then the session document. A session already logged (same
    id, or the same scenario, start and place) is refused as a duplicate."""
    client = lrs.for_app(app)
    people = _Directory(client)
    session = sessions.load(raw, people.known)
    existing, _etag = _doc(client, session["id"])
    if existing and not existing.get("deleted"):
        raise Duplicate(f"this session is already logged (id {session['id']}); correct it instead")
    revision = (existing or {}).get("revision", 0) + 1
    stmts = sessions.statements(session, revision, people.agent)
    client.post_statements(stmts)
    _keep(client, session, revision, [s["id"] for s in stmts], _etag)
    for facilitator in session["facilitators"]:
        _remember(client, people.agent(facilitator), session["id"])
    return {"id": session["id"], "revision": revision, "statements": len(stmts)}


def correct(app, session_id: str, raw: dict) -> dict:
    """The corrected session replaces the logged one: the old statements are voided and the new ones sent, in one
    batch (all or nothing)."""
    client = lrs.for_app(app)
    people = _Directory(client)
    old, etag = _doc(client, session_id)
    if old is None or old.get("deleted"):
        raise NotFound(f"no session {session_id}")
    session = sessions.load({**raw, "id": session_id}, people.known)
    revision = old["revision"] + 1
    stmts = sessions.statements(session, revision, people.agent)
    voids = sessions.voiding(old["statement_ids"], people.agent(session["facilitators"][0]))
    client.post_statements(voids + stmts)
    _keep(client, session, revision, [s["id"] for s in stmts], etag)
    for facilitator in session["facilitators"]:
        _remember(client, people.agent(facilitator), session_id)
    return {"id": session_id, "revision": revision, "statements": len(stmts), "voided": len(voids)}


def delete(app, session_id: str) -> dict:
    client = lrs.for_app(app)
    old, etag = _doc(client, session_id)
    if old is None or old.get("deleted"):
        raise NotFound(f"no session {session_id}")
    voids = sessions.voiding(old["statement_ids"], _Directory(client).agent(old["facilitators"][0]))
    client.post_statements(voids)
    client.put_document("activities/profile", {**old, "deleted": True, "statement_ids": []}, etag,
                        activityId=sessions.session_iri(session_id), profileId=SESSION_DOC)
    return {"id": session_id, "voided": len(voids)}


def _keep(client, session, revision, sent, etag):
    client.put_document("activities/profile", sessions.to_document(session, revision, sent), etag,
                        create_only=etag is None, activityId=sessions.session_iri(session["id"]),
                        profileId=SESSION_DOC)


def _remember(client, facilitator: dict, session_id: str):
    agent = json.dumps(facilitator)
    for _attempt in range(5):  # another instructor's write in between: read again and retry
        mine, etag = client.get_document("agents/profile", agent=agent, profileId=MY_SESSIONS_DOC)
        ids = (mine or {}).get("sessions", [])
        if session_id in ids:
            return
        try:
            client.put_document("agents/profile", {"sessions": ids + [session_id]}, etag, create_only=etag is None,
                                agent=agent, profileId=MY_SESSIONS_DOC)
            return
        except lrs.Refused as e:
            if e.status != 412:
                raise


def get(app, session_id: str) -> dict:
    doc, _etag = _doc(lrs.for_app(app), session_id)
    if doc is None or doc.get("deleted"):
        raise NotFound(f"no session {session_id}")
    return doc


def mine(app, facilitator: str) -> list[dict]:
    """The sessions of a facilitator: an employee id, or "user:<user name>" for an instructor who is no employee."""
    client = lrs.for_app(app)
    agent = json.dumps(_Directory(client).agent(facilitator))
    listed, _etag = client.get_document("agents/profile", agent=agent, profileId=MY_SESSIONS_DOC)
    out = []
    for session_id in (listed or {}).get("sessions", []):
        doc, _etag = _doc(client, session_id)
        if doc and not doc.get("deleted"):
            out.append(doc)
    return sorted(out, key=lambda d: d["start"], reverse=True)


def summaries(docs: list[dict]) -> list[dict]:
    """Per scenario: sessions, participants, and how each team rating item was scored (a distribution)."""
    by_scenario = defaultdict(list)
    for doc in docs:
        by_scenario[doc["scenario"]].append(doc)
    scales = catalog.scales()
    out = []
    for scenario_id, docs_ in sorted(by_scenario.items()):
        scenario = catalog.scenarios().get(scenario_id, {"title": {"nb": scenario_id, "en": scenario_id}})
        distributions = []
        for scale_id in sorted({s for d in docs_ for s in d.get("team_ratings", {})}):
            scale = scales[scale_id]
            item = scale.global_item or next(iter(scale.items.values()))
            values = Counter(d["team_ratings"][scale_id][item.id] for d in docs_
                             if item.id in d.get("team_ratings", {}).get(scale_id, {}))
            distributions.append({"scale": scale, "item": item,
                                  "counts": [(v, values.get(v, 0)) for v in range(item.min, item.max + 1)]})
        out.append({"scenario": scenario, "sessions": len(docs_),
                    "participants": sum(sum(1 for p in d["participants"] if p["attended"]) for d in docs_),
                    "distributions": distributions})
    return out
