"""Personal data, as each package declares it: which columns of its tables name or describe a person, and what an
erasure does with each. Privacy's erasure and export are driven by these declarations (lrs/privacy), and a test
fails when a table has a column that looks personal (employee_id, email, actor …) and no declaration covers it.

A package declares in its init_app: `personal.declare(app, [Personal(table, "column", EMPLOYEE, PSEUDONYM), …])`;
the declarations live per app in `app.extensions["lrs.personal_data"]`."""
import re
from dataclasses import dataclass

from sqlalchemy import Table

from lrs.scheduler import job_runs
from lrs.store.models import documents, statement_agent, statements

# What a column holds.
EMPLOYEE = "employee id"
ACTOR = "actor"  # an xAPI agent, or its IFI
USER = "user"  # a user account's id or name
TEXT = "free text"  # may name someone in passing (a searched e-mail, an error)

# What erasure does with it. Rows are found by the table's EMPLOYEE column with PSEUDONYM (the employee's rows).
PSEUDONYM = "pseudonym"  # the value becomes the pseudonym
AGENT = "agent"  # the value (an xAPI agent as JSON) becomes the pseudonym's agent
BLANK = "blank"  # the value becomes NULL
DELETE = "delete row"  # the row goes
SCRUB = "scrub"  # in every row, the person's words (name, e-mail, ids, user names) become the pseudonym
PERSON = "person"  # the erasure's own steps: the person, their agents, statements and documents (lrs.privacy.erase)
CLOSE = "close"  # the flag becomes true (an account closed for good)
KEEP = "keep"  # stays as it is: `why` says why that identifies nobody after the erasure

KEY = "lrs.personal_data"
# Column names that hold who someone is: every such column must be declared (tests/test_personal_data.py).
LOOKS_PERSONAL = re.compile(r"employee_id|employee_number|email|e_mail|username|user_name|display_name|user_id|"
                            r"leader_id|ifi|\w*_ifi|actor\w*|agent\w*|\w*_by")


@dataclass(frozen=True)
class Personal:
    table: Table
    column: str
    kind: str
    erase: str
    why: str = ""


def columns(table, kind, erase, *names, why="") -> list[Personal]:
    """The declarations of columns of one table that hold the same kind of data and are erased the same way."""
    return [Personal(table, name, kind, erase, why) for name in names]


def declare(app, items) -> None:
    for item in items:
        if item.column not in item.table.c:
            raise ValueError(f"{item.table.name}.{item.column}: no such column")
    app.extensions.setdefault(KEY, []).extend(items)


def declared(app) -> list[Personal]:
    return list(app.extensions.get(KEY, []))


def keyed(declared: list[Personal]) -> dict:
    """{table: (its employee id declarations, all its declarations)} for the tables whose rows are an employee's
    by an employee id column declared PSEUDONYM or DELETE (the rows erasure moves and export shows)."""
    out = {}
    for p in declared:
        if p.kind == EMPLOYEE and p.erase in (PSEUDONYM, DELETE):
            out.setdefault(p.table, ([], []))[0].append(p)
    for p in declared:
        if p.table in out:
            out[p.table][1].append(p)
    return out


def unreachable(declared: list[Personal]) -> list[str]:
    """'table.column' of declarations that change the person's rows (PSEUDONYM, AGENT, BLANK, CLOSE, DELETE) in a
    table with no employee id column to find those rows by: erasure would pass them by."""
    tables = keyed(declared)
    return sorted(f"{p.table.name}.{p.column}" for p in declared
                  if p.erase in (PSEUDONYM, AGENT, BLANK, CLOSE, DELETE) and p.table not in tables)


def undeclared(app, metadata) -> list[str]:
    """'table.column' of every column of these tables that looks personal and that no declaration covers."""
    covered = {(p.table.name, p.column) for p in declared(app)}
    return sorted(f"{t.name}.{c.name}" for t in metadata.tables.values() for c in t.columns
                  if LOOKS_PERSONAL.fullmatch(c.name) and (t.name, c.name) not in covered)


# The store's and the scheduler's tables (neither has an init_app; create_app declares these).
CORE = [
    *(Personal(table, name, ACTOR, PERSON) for table, name in
      ((statements, "body"), (statement_agent, "ifi"), (documents, "agent_ifi"))),
    Personal(documents, "content", TEXT, PERSON),
    Personal(job_runs, "error", TEXT, SCRUB),
]
