"""Evidence rules for other systems: /api/competence/rules/…, for a credential (HTTP Basic) with the scope
competence/rules. A system that knows which of its courses prove which competences (the Moodle bridge's course
mapping) keeps one rule per competence here, and the engine does the rest, as for a rule from the catalog file.

    GET /api/competence/rules?prefix=moodle:      the rules in force (id, competence, version), by id prefix
    GET /api/competence/rules/<id>                one rule's newest version
    PUT /api/competence/rules/<id>                a rule (lrs/competence/rules.py) as JSON: a new version when it
                                                  differs; "active": false withdraws it. ?dry_run=true: what it
                                                  would change, nothing kept. The answer lists each status
                                                  change: employee (id, name), competence, previous_status →
                                                  status, valid_until.

Saving re-reads the stored statements for that rule and recomputes the plans it touches, in one transaction."""
import orjson
from flask import Blueprint, current_app, request
from marshmallow import ValidationError
from sqlalchemy import select

from lrs.competence import imports
from lrs.competence.tables import rules
from lrs.csrf import credential_api
from lrs.store.db import transaction
from lrs.xapi import auth
from lrs.xapi.errors import XAPIError, error_response, json_object_body, json_response

bp = credential_api(Blueprint("competence_rules_api", __name__, url_prefix="/api/competence/rules"))
SCOPE = "competence/rules"


@bp.errorhandler(XAPIError)
def _error(e):
    return error_response(e.status, e.message, e.headers)


@bp.before_request
def _who_is_asking():
    auth.authenticate(SCOPE)


def _newest(conn, rule_id=None, prefix=None) -> dict:
    query = select(rules).order_by(rules.c.rule_id, rules.c.version)
    if rule_id is not None:
        query = query.where(rules.c.rule_id == rule_id)
    if prefix:
        query = query.where(rules.c.rule_id.startswith(prefix, autoescape=True))
    return {r.rule_id: r for r in conn.execute(query)}  # the last version of each wins


def _shown(row) -> dict:
    return {**orjson.loads(row.definition), "active": row.active, "version": row.version,
            "created": row.created.isoformat()}


@bp.get("")
def list_rules():
    with transaction() as conn:
        newest = _newest(conn, prefix=request.args.get("prefix", ""))
    return json_response({"rules": [{"id": r.rule_id, "competence": r.competence_code, "version": r.version}
                                    for r in newest.values() if r.active]})


@bp.get("/<rule_id>")
def get_rule(rule_id):
    with transaction() as conn:
        row = _newest(conn, rule_id).get(rule_id)
    if row is None:
        raise XAPIError(404, f"no rule {rule_id}")
    return json_response(_shown(row))


@bp.put("/<rule_id>")
def put_rule(rule_id):
    raw = json_object_body()
    if raw.setdefault("id", rule_id) != rule_id:
        raise XAPIError(400, f"the rule's id {raw['id']!r} is not the id in the URL {rule_id!r}")
    dry_run = request.args.get("dry_run", "false").lower() in ("1", "true", "yes")
    try:
        with transaction(write=True) as conn:
            made = imports.change_rule(conn, current_app.extensions["competence.settings"], raw, dry_run=dry_run)
            row = _newest(conn, rule_id).get(rule_id)
    except ValidationError as e:
        raise XAPIError(400, f"invalid rule: {e.normalized_messages()}")
    except imports.ImportProblem as e:
        raise XAPIError(400, str(e))
    return json_response({"id": rule_id, "changed": made is not None, "dry_run": dry_run,
                          "version": row.version if row else None,
                          "status_changes": len(made) if made is not None else 0,
                          "changes": [{**c, "competence": c["competence"]["code"]} for c in made or []]})
