"""Who is asking, for everything outside the xAPI resources (which use credentials and scopes).

An authentication layer (the web sign-in, later others) sets `flask.g.principal` before the view runs; views
and services only ever look at the Principal, never at how it signed in."""
from dataclasses import dataclass, field

from flask import abort, g

ROLES = ("employee", "leader", "instructor", "author", "admin", "region", "trust_admin")
# The xAPI agent of someone known here by their user account and not as an employee (an instructor from the
# simulation centre, say): an account on this home page, named by the user name.
USERS_HOME = "https://kompetanse.helse.example.no/xapi/users"


def user_agent(username: str) -> dict:
    return {"objectType": "Agent", "account": {"homePage": USERS_HOME, "name": username}}


@dataclass(frozen=True)
class Principal:
    user_id: str
    employee_id: str | None = None  # the employee this person is, if any
    roles: frozenset[str] = field(default_factory=frozenset)
    led_units: frozenset[str] = field(default_factory=frozenset)  # unit ids whose subtrees a leader sees
    username: str = ""  # the account's user name (an instructor who is no employee is known by it)

    def has(self, role: str) -> bool:
        return role in self.roles


def current() -> Principal | None:
    return g.get("principal")


def require(*roles: str) -> Principal:
    """The signed-in principal, holding one of `roles` (any role when none given); else 401/403."""
    who = current()
    if who is None:
        abort(401)
    if roles and not who.roles.intersection(roles):
        abort(403)
    return who
