"""Tables of the competence engine: the organisation, the catalog, rules, evidence and plans."""
from sqlalchemy import Column, Date, ForeignKey, Index, String, Table, Text

from lrs.store.models import metadata

# Units as a tree (health trust > clinic > department > section). `path` is the chain of ids from the root,
# "/trust/clinic/dept/", so a subtree is one indexed prefix match.
units = Table(
    "units", metadata,
    Column("id", String(64), primary_key=True),  # the unit's code in the HR system
    Column("parent_id", String(64), ForeignKey("units.id")),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),  # trust | clinic | department | section
    Column("path", Text, nullable=False),
    Index("ix_units_path", "path"),
)

job_roles = Table(
    "job_roles", metadata,
    Column("code", String(64), primary_key=True),
    Column("name_nb", Text, nullable=False),
    Column("name_en", Text, nullable=False),
)

employees = Table(
    "employees", metadata,
    Column("id", String(64), primary_key=True),  # employee id in the HR system
    Column("name", Text, nullable=False),
    Column("email", Text),
    Column("unit_id", String(64), ForeignKey("units.id"), nullable=False),
    Column("started_on", Date, nullable=False),
    Column("left_on", Date),  # set when the employee leaves the trust: the plan closes
    Index("ix_employees_unit", "unit_id"),
)

employee_roles = Table(
    "employee_roles", metadata,
    Column("employee_id", String(64), ForeignKey("employees.id"), primary_key=True),
    Column("role_code", String(64), ForeignKey("job_roles.code"), primary_key=True),
)

# The xAPI agents that are this employee (by IFI, as lrs.xapi.agents.ifi writes it): the account at the trust's
# identity provider, and others (mbox, a Moodle account …). An agent belongs to at most one employee.
employee_agents = Table(
    "employee_agents", metadata,
    Column("ifi", Text, primary_key=True),
    Column("employee_id", String(64), ForeignKey("employees.id"), nullable=False),
    Index("ix_employee_agents_employee", "employee_id"),
)
