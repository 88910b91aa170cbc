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


# ------------------------------------------------------------------------------------------------ who may void

WRITER = ("statements/write", "statements/read/mine")


def test_a_credential_may_void_its_own_statements(client_for):
    lms = client_for(*WRITER)
    [target] = post(lms, statement()).json
    assert post(lms, voiding(target)).status_code == 200
    assert lms.get(f"/xapi/statements?voidedStatementId={target}").status_code == 200


def test_a_credential_may_not_void_another_credentials_statement(xapi, client_for):
    [target] = post(xapi, statement()).json
    other = client_for(*WRITER)
    r = post(other, voiding(target))
    assert r.status_code == 403
    assert "stored by another credential" in r.json["error"]["message"]
    assert "statements/void/any" in r.json["error"]["message"]
    assert xapi.get(f"/xapi/statements?statementId={target}").status_code == 200  # not voided
    assert query(xapi).json["statements"][0]["id"] == target  # and the voiding statement is not stored


def test_a_refused_voiding_refuses_the_whole_batch(xapi, client_for):
    [target] = post(xapi, statement()).json
    other = client_for(*WRITER)
    [own] = post(other, statement()).json
    fresh = new_id()
    r = post(other, [statement(id=fresh), voiding(own), voiding(target)])
    assert r.status_code == 403
    assert other.get(f"/xapi/statements?statementId={fresh}").status_code == 404
    assert other.get(f"/xapi/statements?statementId={own}").status_code == 200


def test_the_void_any_scope_and_all_may_void_any_statement(xapi, client_for):
    owner = client_for(*WRITER)
    first, second = post(owner, [statement(), statement()]).json
    assert post(client_for("statements/write", "statements/void/any"), voiding(first)).status_code == 200
    assert post(xapi, voiding(second)).status_code == 200  # xapi holds "all"
    for sid in (first, second):
        assert xapi.get(f"/xapi/statements?voidedStatementId={sid}").status_code == 200


def test_a_voiding_stored_before_its_target_voids_it_only_for_the_same_credential(xapi, client_for):
    other = client_for(*WRITER)
    theirs, mine = new_id(), new_id()
    assert post(other, [voiding(theirs), voiding(mine)]).status_code == 200  # targets unknown yet: accepted
    post(xapi, statement(id=theirs))
    post(other, statement(id=mine))
    assert xapi.get(f"/xapi/statements?statementId={theirs}").status_code == 200  # not voided by the other
    assert xapi.get(f"/xapi/statements?voidedStatementId={mine}").status_code == 200


def test_the_lrs_own_attestation_statements_cannot_be_voided_by_a_writer(app, client_for, trust, sign_in):
    from tests.competence_support import EMPLOYEE_E1, LEADER_MED
    web = app.test_client()
    sign_in(EMPLOYEE_E1)
    r = web.post("/api/competence/me/evidence", json={"competence": "HLR", "title": "HLR-kurs, Røde Kors",
                                                      "completed_on": "2026-01-05"})
    assert r.status_code == 201, r.get_json()
    sign_in(LEADER_MED)
    r = web.post(f"/api/competence/evidence/{r.get_json()['id']}/decision", json={"attest": True})
    sid = r.get_json()["statement_id"]  # stored by the LRS's own attestation credential
    assert post(client_for(*WRITER), voiding(sid)).status_code == 403
    assert post(client_for("statements/write", "statements/void/any"), voiding(sid)).status_code == 200


def test_permissive_voiding_is_the_specs_rule(app, xapi, client_for):
    app.config["VOIDING"] = "permissive"
    [target] = post(xapi, statement()).json
    assert post(client_for(*WRITER), voiding(target)).status_code == 200
    assert xapi.get(f"/xapi/statements?voidedStatementId={target}").status_code == 200
