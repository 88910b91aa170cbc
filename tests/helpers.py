"""Small builders shared by the HTTP tests."""
import json
import uuid

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
COURSE = "https://kurs.helse.example.no/hlr"


def agent(name="kari", home="https://kompetanse.example.no"):
    return {"objectType": "Agent", "name": name.title(), "account": {"homePage": home, "name": name}}


def statement(actor=None, verb=COMPLETED, activity=COURSE, **extra):
    stmt = {"actor": actor or agent(), "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
            "object": {"objectType": "Activity", "id": activity,
                       "definition": {"name": {"nb-NO": "HLR", "en-US": "CPR"}}}}
    stmt.update(extra)
    return stmt


def voiding(target_id, actor=None):
    return {"actor": actor or agent("admin"), "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": target_id}}


def new_id():
    return str(uuid.uuid4())


def post(xapi, stmts, **kw):
    return xapi.post("/xapi/statements", data=json.dumps(stmts), content_type="application/json", **kw)


def put(xapi, stmt, statement_id, **kw):
    return xapi.put(f"/xapi/statements?statementId={statement_id}", data=json.dumps(stmt),
                    content_type="application/json", **kw)


def query(xapi, **params):
    """GET /xapi/statements with params (dicts become JSON); returns the response."""
    from urllib.parse import urlencode
    params = {k: json.dumps(v) if isinstance(v, dict) else str(v).lower() if isinstance(v, bool) else v
              for k, v in params.items()}
    return xapi.get("/xapi/statements?" + urlencode(params))


def all_pages(xapi, response):
    """Every statement of a query, following `more` links."""
    out = []
    while True:
        assert response.status_code == 200, response.get_data(as_text=True)
        out += response.json["statements"]
        if not response.json["more"]:
            return out
        response = xapi.get(response.json["more"])
