"""Small builders shared by the HTTP tests."""
import functools
import json
import re
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


PASSWORD = "et langt passord 123"  # of every web account the tests make


@functools.cache
def password_hash() -> str:
    """PASSWORD as an account stores it, hashed once for all the accounts the tests make (argon2 is slow)."""
    from lrs.web import accounts
    return accounts.hash_password(PASSWORD)


def create_people(engine, admin_name="Admin Istrator"):
    """Web accounts: Kari and Per (employees E1 and E3), Lise (employee L1, leader of unit med), and an admin."""
    from lrs.store.db import write_transaction
    from lrs.web import accounts
    with write_transaction(engine) as conn:
        accounts.create(conn, "kari", "Kari Nordmann", ["employee"], password_hash(), employee_id="E1")
        accounts.create(conn, "per", "Per Olsen", ["employee"], password_hash(), employee_id="E3")
        accounts.create(conn, "lise", "Lise Leder", ["employee", "leader"], password_hash(), employee_id="L1",
                        led_units=["med"])
        accounts.create(conn, "admin", admin_name, ["admin"], password_hash())


def token_of(html: str) -> str:
    """The CSRF token of a page's form."""
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def csrf_header(client, page="/plan") -> dict:
    """The header a page's script sends with a form post to a cookie-signed-in JSON API (the csrf-token meta)."""
    html = client.get(page).get_data(as_text=True)
    return {"X-CSRFToken": re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)}


def sign_in(client, username):
    """Sign a test client in through the sign-in form, as a browser would."""
    page = client.get("/login").get_data(as_text=True)
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token_of(page)})
    assert r.status_code == 302, r.get_data(as_text=True)
    return r
