"""Who is who: employees, their units and roles, and the xAPI agents that are them."""
from sqlalchemy import select

from lrs.competence.tables import employee_agents, employees, units


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
