"""Voiding and StatementRefs, as the xAPI spec says."""
from tests.helpers import ATTEMPTED, COURSE, agent, all_pages, new_id, post, query, statement, voiding


def test_a_voided_statement_leaves_queries_but_is_fetchable_by_voided_id(xapi):
    [target] = post(xapi, statement()).json
    [voider] = post(xapi, voiding(target)).json
    assert xapi.get(f"/xapi/statements?statementId={target}").status_code == 404
    got = xapi.get(f"/xapi/statements?voidedStatementId={target}")
    assert got.status_code == 200 and got.json["id"] == target
    assert target not in [s["id"] for s in query(xapi).json["statements"]]
    assert xapi.get(f"/xapi/statements?statementId={voider}").status_code == 200


def test_voided_statement_id_of_a_statement_not_voided_is_404(xapi):
    [sid] = post(xapi, statement()).json
    assert xapi.get(f"/xapi/statements?voidedStatementId={sid}").status_code == 404


def test_voiding_a_voiding_statement_is_rejected(xapi):
    [target] = post(xapi, statement()).json
    [voider] = post(xapi, voiding(target)).json
    r = post(xapi, voiding(voider))
    assert r.status_code == 400 and "cannot be voided" in r.json["error"]["message"]
    assert xapi.get(f"/xapi/statements?statementId={voider}").status_code == 200


def test_voiding_a_voiding_statement_in_the_same_batch_is_rejected(xapi):
    target, voider = new_id(), new_id()
    r = post(xapi, [statement(id=target), voiding(target) | {"id": voider}, voiding(voider)])
    assert r.status_code == 400
    assert query(xapi).json["statements"] == []


def test_a_statement_voided_before_it_arrives_is_voided_on_arrival(xapi):
    target = new_id()
    post(xapi, voiding(target))
    post(xapi, statement(id=target))
    assert xapi.get(f"/xapi/statements?statementId={target}").status_code == 404
    assert xapi.get(f"/xapi/statements?voidedStatementId={target}").status_code == 200


def test_statements_targeting_a_matching_statement_match_too(xapi):
    """xAPI 'Filter Conditions for StatementRefs': a query matches statements whose target (recursively) matches."""
    [target] = post(xapi, statement(actor=agent("kari"), verb=ATTEMPTED)).json
    ref = statement(actor=agent("ola"))
    ref["object"] = {"objectType": "StatementRef", "id": target}
    [referrer] = post(xapi, ref).json
    ref2 = statement(actor=agent("per"))
    ref2["object"] = {"objectType": "StatementRef", "id": referrer}
    [chained] = post(xapi, ref2).json
    post(xapi, statement(actor=agent("ingrid"), activity="https://kurs.example.no/other"))

    found = {s["id"] for s in all_pages(xapi, query(xapi, agent=agent("kari")))}
    assert found == {target, referrer, chained}
    found = {s["id"] for s in all_pages(xapi, query(xapi, verb=ATTEMPTED))}
    assert found == {target, referrer, chained}
    found = {s["id"] for s in all_pages(xapi, query(xapi, activity=COURSE))}
    assert {target, referrer, chained} <= found


def test_the_voiding_statement_is_found_by_the_voided_statements_filters(xapi):
    [target] = post(xapi, statement(actor=agent("kari"))).json
    [voider] = post(xapi, voiding(target)).json
    assert [s["id"] for s in query(xapi, agent=agent("kari")).json["statements"]] == [voider]
    assert [s["id"] for s in query(xapi, activity=COURSE).json["statements"]] == [voider]


def test_statement_refs_are_returned_as_sent(xapi):
    [target] = post(xapi, statement()).json
    ref = statement()
    ref["object"] = {"objectType": "StatementRef", "id": target}
    [sid] = post(xapi, ref).json
    got = xapi.get(f"/xapi/statements?statementId={sid}").json
    assert got["object"] == {"objectType": "StatementRef", "id": target}
