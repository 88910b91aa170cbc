"""The `format` parameter of statement queries: exact (as stored), ids, canonical."""
from lrs.model.agents import ifi

_LANGUAGE_MAPS = {"display", "name", "description"}


def canonical(stmt: dict, accept_languages) -> dict:
    """Every language map cut to the one language the client prefers (Accept-Language), or the first there is."""
    def walk(value):
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if k == "extensions":
                    out[k] = v
                elif k in _LANGUAGE_MAPS and isinstance(v, dict) and v:
                    best = accept_languages.best_match(list(v)) or next(iter(v))
                    out[k] = {best: v[best]}
                else:
                    out[k] = walk(v)
            return out
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value
    return walk(stmt)


def _agent_ids(agent: dict) -> dict:
    key = ifi(agent)
    out = {"objectType": agent.get("objectType", "Agent")}
    if key is None:  # anonymous Group: its members are what identify it
        out["member"] = [_agent_ids(m) for m in agent.get("member", ())]
    else:
        for name in ("mbox", "mbox_sha1sum", "openid", "account"):
            if name in agent:
                out[name] = agent[name]
    return out


def _object_ids(obj: dict) -> dict:
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        return {"id": obj["id"]}
    if kind in ("Agent", "Group"):
        return _agent_ids(obj)
    if kind == "SubStatement":
        return _statement_ids(obj)
    return obj


def _statement_ids(stmt: dict) -> dict:
    out = dict(stmt)
    out["actor"] = _agent_ids(stmt["actor"])
    out["verb"] = {"id": stmt["verb"]["id"]}
    out["object"] = _object_ids(stmt["object"])
    if "authority" in stmt:
        out["authority"] = _agent_ids(stmt["authority"])
    if "context" in stmt:
        ctx = out["context"] = dict(stmt["context"])
        for name in ("instructor", "team"):
            if name in ctx:
                ctx[name] = _agent_ids(ctx[name])
        if "contextActivities" in ctx:
            ctx["contextActivities"] = {
                k: [_object_ids(a) for a in (v if isinstance(v, list) else [v])]
                for k, v in ctx["contextActivities"].items()}
        if "contextAgents" in ctx:
            ctx["contextAgents"] = [{**ca, "agent": _agent_ids(ca["agent"])} for ca in ctx["contextAgents"]]
        if "contextGroups" in ctx:
            ctx["contextGroups"] = [{**cg, "group": _agent_ids(cg["group"])} for cg in ctx["contextGroups"]]
    return out


def ids_only(stmt: dict) -> dict:
    """Agents, Groups, Activities and Verbs reduced to what identifies them."""
    return _statement_ids(stmt)
