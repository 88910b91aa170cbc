"""Reading statements: by id, filters, paging, formats."""
import re

import pytest

from tests.helpers import ATTEMPTED, COMPLETED, COURSE, agent, all_pages, new_id, post, query, statement

OTHER = "https://kurs.helse.example.no/smittevern"
REG = "6fa459ea-ee8a-3ca4-894e-db77e160355e"


@pytest.fixture
def stored(xapi):
    return store_five(xapi)


def store_five(xapi):
    """Five statements, stored one request at a time (so stored order is known), newest last."""
    group = {"objectType": "Group", "name": "Team 1", "member": [agent("ola"), agent("per")]}
    stmts = [
        statement(actor=agent("kari"), context={"registration": REG}),
        statement(actor=agent("ola"), verb=ATTEMPTED, activity=OTHER,
                  context={"contextActivities": {"parent": [{"id": COURSE}]}, "instructor": agent("ingrid")}),
        statement(actor=agent("kari"), activity=OTHER),
        statement(actor=group, verb=ATTEMPTED),
        {"actor": agent("ingrid"), "verb": {"id": COMPLETED}, "object": agent("kari")},
    ]
    ids = []
    for s in stmts:
        ids += post(xapi, s).json
    return ids


def ids_of(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [s["id"] for s in response.json["statements"]]


def test_default_order_is_newest_stored_first(xapi, stored):
    assert ids_of(query(xapi)) == stored[::-1]
    assert ids_of(query(xapi, ascending=True)) == stored


def test_filter_by_agent_as_actor_or_object(xapi, stored):
    assert ids_of(query(xapi, agent=agent("kari"))) == [stored[4], stored[2], stored[0]]


def test_related_agents_widen_the_agent_filter(xapi, stored):
    assert ids_of(query(xapi, agent=agent("ingrid"))) == [stored[4]]
    assert ids_of(query(xapi, agent=agent("ingrid"), related_agents=True)) == [stored[4], stored[1]]
    # Group members count as related
    assert ids_of(query(xapi, agent=agent("per"), related_agents=True)) == [stored[3]]


def test_filter_by_verb(xapi, stored):
    assert ids_of(query(xapi, verb=ATTEMPTED)) == [stored[3], stored[1]]


def test_filter_by_activity_and_related_activities(xapi, stored):
    assert ids_of(query(xapi, activity=COURSE)) == [stored[3], stored[0]]
    assert ids_of(query(xapi, activity=COURSE, related_activities=True)) == [stored[3], stored[1], stored[0]]


def test_filters_combine(xapi, stored):
    assert ids_of(query(xapi, agent=agent("kari"), activity=OTHER)) == [stored[2]]
    assert ids_of(query(xapi, activity=COURSE, verb=ATTEMPTED)) == [stored[3]]
    assert ids_of(query(xapi, agent=agent("kari"), verb=ATTEMPTED)) == []


def test_filter_by_registration(xapi, stored):
    assert ids_of(query(xapi, registration=REG)) == [stored[0]]
    assert ids_of(query(xapi, registration=REG.upper())) == [stored[0]]


def test_since_and_until_use_stored_time(xapi, stored):
    third = xapi.get(f"/xapi/statements?statementId={stored[2]}").json["stored"]
    assert ids_of(query(xapi, since=third)) == [s for s in stored[::-1] if s not in stored[:3]]
    assert set(ids_of(query(xapi, until=third))) == set(stored[:3])


def test_limit_and_more_page_through_everything_once(xapi, stored):
    r = query(xapi, limit=2)
    assert len(r.json["statements"]) == 2 and r.json["more"].startswith("/xapi/statements?more=")
    assert [s["id"] for s in all_pages(xapi, r)] == stored[::-1]


def test_paging_is_stable_while_new_statements_arrive(xapi, stored):
    first = query(xapi, limit=2)
    post(xapi, [statement() for _ in range(3)])
    rest = all_pages(xapi, xapi.get(first.json["more"]))
    assert ids_of(first) + [s["id"] for s in rest] == stored[::-1]


def test_ascending_paging_sees_later_statements_at_the_end(xapi, stored):
    first = query(xapi, limit=3, ascending=True)
    [late] = post(xapi, statement()).json
    rest = all_pages(xapi, xapi.get(first.json["more"]))
    assert ids_of(first) + [s["id"] for s in rest] == stored + [late]


def test_format_ids_keeps_only_identifiers(xapi, stored):
    [s] = query(xapi, format="ids", limit=1, ascending=True).json["statements"]
    assert s["actor"] == {"objectType": "Agent", "account": agent("kari")["account"]}
    assert s["verb"] == {"id": COMPLETED}
    assert s["object"] == {"id": COURSE}


def test_format_canonical_picks_one_language(xapi, stored):
    r = xapi.get("/xapi/statements?format=canonical&limit=1&ascending=true", headers={"Accept-Language": "nb-NO"})
    assert r.json["statements"][0]["object"]["definition"]["name"] == {"nb-NO": "HLR"}
    r = xapi.get("/xapi/statements?format=canonical&limit=1&ascending=true", headers={"Accept-Language": "en-US"})
    assert r.json["statements"][0]["object"]["definition"]["name"] == {"en-US": "CPR"}


def test_single_statement_has_last_modified(xapi, stored):
    r = xapi.get(f"/xapi/statements?statementId={stored[0]}")
    assert r.status_code == 200 and r.headers["Last-Modified"].endswith("GMT")


def test_unknown_statement_is_404(xapi):
    assert xapi.get(f"/xapi/statements?statementId={new_id()}").status_code == 404


@pytest.mark.parametrize("params", [
    "statementId={id}&agent=%7B%22mbox%22%3A%22mailto%3Aa%40b.no%22%7D",
    "statementId={id}&voidedStatementId={id}",
    "voidedStatementId={id}&limit=3",
    "color=blue",
    "agent=not-json",
    "agent=%7B%22name%22%3A%22no%20ifi%22%7D",
    "since=yesterday",
    "limit=-1",
    "format=pretty",
    "verb=not%20an%20iri",
    "registration=123",
    "ascending=maybe",
])
def test_bad_parameters_get_400_naming_the_problem(xapi, params):
    r = xapi.get("/xapi/statements?" + params.format(id=new_id()))
    assert r.status_code == 400
    assert r.json["error"]["message"]


def test_more_links_cannot_be_forged_or_mixed(xapi, stored):
    more = query(xapi, limit=1).json["more"]
    assert xapi.get(more + "x").status_code == 400
    assert xapi.get(more + "&limit=2").status_code == 400


def test_statements_with_many_agents_page_correctly(xapi):
    """A statement matching a filter through several index rows comes back once."""
    group = {"objectType": "Group", "mbox": "mailto:team@example.no", "member": [agent("kari")]}
    stmt = statement(actor=group, context={"instructor": agent("kari"), "team": group})
    [sid] = post(xapi, stmt).json
    assert ids_of(query(xapi, agent=agent("kari"), related_agents=True)) == [sid]
    assert ids_of(query(xapi, agent={"mbox": "mailto:team@example.no"}, related_agents=True)) == [sid]


@pytest.mark.parametrize("filters, index", [
    ({"agent": "mbox:mailto:kari@example.no"}, "ix_statement_agent_ifi"),
    ({"agent": "mbox:mailto:kari@example.no", "verb": COMPLETED}, "ix_statement_agent_ifi_verb"),
    ({"activity": COURSE}, "ix_statement_activity_activity"),
    ({"activity": COURSE, "verb": ATTEMPTED}, "ix_statement_activity_activity_verb"),
    # The verb indexes hold no related rows (migration 0023): with them, the verb is read from the rows.
    ({"agent": "mbox:mailto:kari@example.no", "verb": COMPLETED, "related_agents": True}, "ix_statement_agent_ifi"),
    ({"activity": COURSE, "verb": ATTEMPTED, "related_activities": True}, "ix_statement_activity_activity"),
])
def test_queries_by_agent_or_activity_look_up_their_index(app, stored, filters, index):
    """The indexes by agent and activity hold hashes (migrations 0020, 0022): a filter that named only the text
    would walk a whole index of a 10M-statement store. With the other ways out closed (sequential scans off, the
    seq indexes dropped in a transaction rolled back), the page query must look its rows up in that index (or one
    with the same first keys) by the hash."""
    from sqlalchemy import event, text

    from lrs.store import statements as store
    engine = app.extensions["lrs.engine"]
    sent = []
    event.listen(engine, "before_cursor_execute", lambda c, cur, sql, params, ctx, many: sent.append((sql, params)))
    store.find(engine, store.Query(**filters))
    sql, params = next((s, p) for s, p in sent if "ORDER BY" in s)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            conn.execute(text("DROP INDEX ix_statement_agent_seq, ix_statement_activity_seq"))
            plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql, params))
            conn.rollback()
            lookup = rf"(using|on) {index}\w*_key .*\n\s+(Index|Recheck) Cond: \(+hashtextextended\("
        else:
            plan = "\n".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params))
            lookup = rf"USING (COVERING )?INDEX {index}\w*_key \(<expr>=\?"
    assert re.search(lookup, plan), plan


def answers(xapi, cases: list[dict]) -> list[list[str]]:
    """The ids each query (its filters) answers, newest first."""
    return [ids_of(query(xapi, **filters)) for filters in cases]


def downgrade(engine, revision: str) -> None:
    """Take the store's schema back to `revision`."""
    from alembic import command

    from lrs.store.db import write_transaction
    from lrs.store.migrate import alembic_config
    with write_transaction(engine) as conn:
        command.downgrade(alembic_config(conn), revision)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_sqlite_store_moves_to_the_key_indexes_and_answers_the_same(app, xapi):
    """Migration 0022 on a SQLite store that holds statements: the queries by agent, activity and verb answer as
    before it, after it and after its downgrade; the indexes by agent and activity hold keys only in between."""
    from lrs.store.migrate import upgrade

    engine = app.extensions["lrs.engine"]

    downgrade(engine, "0021")  # the template store is at head
    ids = store_five(xapi)
    cases = [{"agent": agent("kari")}, {"agent": agent("ingrid"), "related_agents": True},
             {"agent": agent("kari"), "verb": ATTEMPTED}, {"activity": COURSE, "related_activities": True},
             {"activity": COURSE, "verb": ATTEMPTED}, {"agent": agent("kari"), "activity": OTHER}]

    def keyed_indexes():
        with engine.connect() as conn:
            return sorted(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE "
                                               "'ix_statement_a%' AND sql LIKE '%lrs_key(%'").scalars())

    before = answers(xapi, cases)
    assert before[0] == [ids[4], ids[2], ids[0]] and before[4] == [ids[3]]
    assert keyed_indexes() == []
    upgrade(engine)
    assert answers(xapi, cases) == before
    assert keyed_indexes() == ["ix_statement_activity_activity_key", "ix_statement_activity_activity_verb_key",
                               "ix_statement_agent_ifi_key", "ix_statement_agent_ifi_verb_key"]
    downgrade(engine, "0021")
    assert keyed_indexes() == [] and answers(xapi, cases) == before


def test_the_verb_indexes_hold_a_statements_own_rows_and_every_verb_query_answers_as_before(app, xapi):
    """Migration 0023: the indexes by agent or activity with the verb leave the related rows out. Queries with a
    verb, with and without the related agents or activities, answer the same before it, after it and after its
    downgrade; only in between are the indexes partial."""
    from sqlalchemy import text

    from lrs.store.migrate import upgrade

    engine = app.extensions["lrs.engine"]

    def partial_indexes():
        if engine.dialect.name == "sqlite":
            sql, where = "SELECT name FROM sqlite_master WHERE sql LIKE :where", "%WHERE related = 0"
        else:
            sql, where = "SELECT indexname FROM pg_indexes WHERE indexdef LIKE :where", "%WHERE (NOT related)"
        with engine.connect() as conn:
            return sorted(conn.execute(text(sql), {"where": where}).scalars())

    downgrade(engine, "0022")  # the template store is at head
    ids = store_five(xapi)
    cases = [{"activity": COURSE, "verb": ATTEMPTED},
             {"activity": COURSE, "verb": ATTEMPTED, "related_activities": True},
             {"agent": agent("ingrid"), "verb": ATTEMPTED},
             {"agent": agent("ingrid"), "verb": ATTEMPTED, "related_agents": True},
             {"agent": agent("ingrid"), "verb": COMPLETED},
             {"agent": agent("ola"), "activity": COURSE, "verb": ATTEMPTED, "related_activities": True}]

    before = answers(xapi, cases)
    assert before == [[ids[3]], [ids[3], ids[1]], [], [ids[1]], [ids[4]], [ids[1]]]
    assert partial_indexes() == []
    upgrade(engine)
    assert answers(xapi, cases) == before
    assert partial_indexes() == ["ix_statement_activity_activity_verb_key", "ix_statement_agent_ifi_verb_key"]
    downgrade(engine, "0022")
    assert partial_indexes() == [] and answers(xapi, cases) == before
