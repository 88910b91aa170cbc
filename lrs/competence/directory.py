"""Who is who: employees, their units and roles, and the xAPI agents that are them."""
from sqlalchemy import select

from lrs.competence.tables import employee_agents, employees, units
from lrs.model.agents import ifi
from lrs.store.models import iri_match, statement_agent, statements


def agent_for(employee_id: str, identity_homepage: str) -> dict:
    """The xAPI Agent of an employee: their account at the trust's identity provider (setting IDENTITY_HOMEPAGE)."""
    return {"objectType": "Agent", "account": {"homePage": identity_homepage, "name": employee_id}}


def employee(conn, employee_id: str) -> dict | None:
    row = conn.execute(select(employees).where(employees.c.id == employee_id)).mappings().first()
    return dict(row) if row else None


def employees_by_ifi(conn, ifis) -> dict[str, str]:
    """IFI -> employee id, for the IFIs that belong to an employee."""
    ifis = list(ifis)
    if not ifis:
        return {}
    rows = conn.execute(select(employee_agents.c.ifi, employee_agents.c.employee_id)
                        .where(employee_agents.c.ifi.in_(ifis)))
    return dict(rows.all())


def subtree_unit_ids(conn, unit_ids) -> set[str]:
    """Every unit in the subtrees rooted at these units (the units themselves included)."""
    roots = conn.execute(select(units.c.path).where(units.c.id.in_(list(unit_ids)))).scalars().all()
    found: set[str] = set()
    for path in roots:
        found.update(conn.execute(select(units.c.id).where(units.c.path.startswith(path, autoescape=True))).scalars())
    return found


def employees_in_statement(conn, statement_id: str) -> list[str]:
    """The employees a statement is about (actor, object, context, authority, or a statement it targets)."""
    return sorted(conn.execute(
        select(employee_agents.c.employee_id).distinct().select_from(employee_agents)
        .join(statement_agent, iri_match(conn.dialect.name, statement_agent.c.ifi, employee_agents.c.ifi))
        .join(statements, statements.c.seq == statement_agent.c.seq)
        .where(statements.c.id == statement_id.lower())).scalars())


def employee_of_person_filter(conn, person: str, identity_homepage: str) -> str | None:
    """The employee a search field names: an employee id, or an e-mail address of one."""
    key = ifi({"mbox": "mailto:" + person} if "@" in person else {"account": {"homePage": identity_homepage,
                                                                               "name": person}})
    return conn.execute(select(employee_agents.c.employee_id).where(employee_agents.c.ifi == key)).scalar()


def ifis_of(conn, employee_id: str) -> list[str]:
    """The IFIs of the xAPI agents that are this employee."""
    return sorted(conn.execute(select(employee_agents.c.ifi).where(employee_agents.c.employee_id == employee_id))
                  .scalars())
