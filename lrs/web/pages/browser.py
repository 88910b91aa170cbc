"""The statement browser for admins and instructors: filter by person, activity, verb and time, and one statement
as stored. It reads the store directly (lrs.store.statements), with the filters checked as the xAPI statement
query checks them, so the page shows the same statements and the same messages as that query would."""
import orjson
from flask import abort, current_app, render_template, request
from marshmallow import ValidationError

from lrs import principal
from lrs.competence import service
from lrs.competence.directory import agent_for
from lrs import accesslog
from lrs.competence import directory
from lrs.store import statements as store
from lrs.store.db import engine, read_transaction
from lrs.web.guard import audit, login_required
from lrs.web.pages.base import bp
from lrs.model.agents import ifi
from lrs.xapi.statements import QuerySchema
from lrs.model.validation import StatementError, validate_agent

PAGE = 50  # statements on the page
_FILTERS = ("activity", "verb", "since", "until")


class BadFilter(ValueError):
    """A filter the xAPI query would refuse; the message says which and why."""


@bp.get("/statements")
@login_required("admin", "instructor")
def statements_page():
    """An admin sees everyone's statements; an instructor those of the people of the units they teach, and of the
    sessions they led (as context.instructor)."""
    who = principal.current()
    args = {k: request.args.get(k, "").strip() for k in ("person", *_FILTERS)}
    # The access log names the person by employee id (not by the e-mail address searched for), as does the audit.
    with read_transaction(engine()) as conn:
        person = directory.employee_of_person_filter(conn, args["person"], current_app.config["IDENTITY_HOMEPAGE"]) \
            if args["person"] else None
        whole = who.has("admin") or (person is not None and service.can_see_records(conn, who, person))
    me = _me(who)
    if not whole and me is None:
        return render_template("statements.html", args=args, statements=[], error=None, scoped=True)
    logged = {k: v for k, v in args.items() if v and not (person and k == "person")}
    accesslog.note("statement-browser", person, filter=orjson.dumps(logged).decode() if logged else None)
    audit("statements-browsed", orjson.dumps({**logged, **({"employee": person} if person else {})}).decode())
    wanted = _person_agent(args["person"]) if args["person"] else None
    try:
        if whole:
            found = _find(args, wanted, related=False, limit=PAGE)
        else:  # an instructor: the statements of the sessions they led, of that person if one is named
            found = _find(args, me, related=True, limit=current_app.config["MAX_PAGE"])
            found = [s for s in found if _instructs(s, me) and (wanted is None or _same_agent(s["actor"], wanted))]
    except BadFilter as e:
        return render_template("statements.html", args=args, statements=[], error=str(e), scoped=not whole)
    return render_template("statements.html", args=args, statements=found[:PAGE], error=None, scoped=not whole)


def _find(args: dict, agent: dict | None, related: bool, limit: int) -> list[dict]:
    """The newest statements (not voided) matching the page's filters and `agent` (as actor or object, or anywhere
    in the statement when `related`)."""
    try:
        params = QuerySchema(only=_FILTERS).load({k: args[k] for k in _FILTERS if args[k]})
    except ValidationError as e:
        raise BadFilter("; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                                  for k, v in e.messages.items()))
    key = None
    if agent is not None:
        try:
            validate_agent(agent, "agent", "1.0.3")
        except StatementError as e:
            raise BadFilter(f"agent: {e}")
        key = ifi(agent)
    bodies, _more = store.find(engine(), store.Query(
        agent=key, related_agents=related, verb=params.get("verb"), activity=params.get("activity"),
        since_us=params.get("since"), until_us=params.get("until"),
        limit=min(limit, current_app.config["MAX_PAGE"])))
    return [orjson.loads(body) for body in bodies]


def _me(who) -> dict | None:
    """The xAPI agent the signed-in person acts as: their employee account, or (an instructor who is no employee)
    their user account."""
    if who.employee_id:
        return agent_for(who.employee_id, current_app.config["IDENTITY_HOMEPAGE"])
    return principal.user_agent(who.username) if who.username else None


def _person_agent(person: str) -> dict:
    """The agent a search field names: an e-mail address, else an employee id (an account at the trust)."""
    if "@" in person:
        return {"mbox": "mailto:" + person}
    return {"account": {"homePage": current_app.config["IDENTITY_HOMEPAGE"], "name": person}}


def _same_agent(agent: dict, other: dict) -> bool:
    return any(key in agent and agent[key] == other.get(key) for key in ("mbox", "account"))


def _instructs(stmt: dict, me: dict) -> bool:
    """Whether `me` is the statement's instructor (an Agent, or a member of a Group of facilitators)."""
    instructor = (stmt.get("context") or {}).get("instructor") or {}
    return any(_same_agent(a, me) for a in [instructor, *instructor.get("member", [])])


@bp.get("/statements/<statement_id>")
@login_required("admin", "instructor")
def statement_page(statement_id):
    who = principal.current()
    row = store.get(engine(), statement_id, voided=False) or store.get(engine(), statement_id, voided=True)
    if row is None:
        abort(404)
    with read_transaction(engine()) as conn:
        people = directory.employees_in_statement(conn, statement_id)
        if not who.has("admin"):  # an instructor: a statement of a session they led, or about people they teach
            me = _me(who)
            if not (me and _instructs(orjson.loads(row.body), me)) and not (
                    people and all(service.can_see_records(conn, who, p) for p in people)):
                abort(403)
        for person in people:
            accesslog.note("statement-page", person, filter=f"statementId={statement_id.lower()}")
    pretty = orjson.dumps(orjson.loads(row.body), option=orjson.OPT_INDENT_2).decode()
    return render_template("statement.html", statement=pretty, statement_id=statement_id)
