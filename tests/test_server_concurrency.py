"""Many clients at once against the real server: gunicorn with several worker processes (and two app instances
on one PostgreSQL database). Whatever the interleaving, an acknowledged statement is stored exactly once, nothing
unacknowledged is stored, nothing is answered 5xx, and one id never holds two contents.

Several processes writing one database is what PostgreSQL is for; SQLite (the default, where `lrs run` starts
2 x CPUs workers) is checked here as well."""
import random
import threading
import uuid

import pytest
import requests

from tests import helpers
from tests.server_support import (database, duplicates, make_statement, new_ids, post, put, run_clients, running,
                                  session, stored_ids)

pytestmark = pytest.mark.xdist_group("server")

CLIENTS = 6


def check_stored_exactly_acknowledged(s, base, results):
    failures = [f for r in results for f in r["failures"]]
    assert not failures, failures[:10]
    acked = {i for r in results for i in r["acked"]}
    ids = stored_ids(s, base)
    assert not duplicates(ids)
    assert set(ids) == acked
    assert len(ids) == len(acked)
    return ids


# --------------------------------------------------------------------------------------------------- tests

@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_many_client_processes_against_several_workers(kind, tmp_path, worker_id):
    with database(kind, tmp_path, worker_id) as url, running(url, workers=3, threads=4) as server:
        key, secret = server.credential("all")
        results = run_clients([[server.url]] * CLIENTS, key, secret, ops=10, seed=1)
        ids = check_stored_exactly_acknowledged(session(key, secret), server.url, results)
        assert len(ids) > 500
        assert sum(r["timed_out"] for r in results) > 0  # the retry-after-timeout path really ran


def test_two_app_instances_on_one_postgresql_database(tmp_path, worker_id):
    with database("postgresql", tmp_path, worker_id) as url:
        with running(url, workers=2, threads=4) as a, running(url, workers=2, threads=4) as b:
            key, secret = a.credential("all")
            # Each client alternates between the instances; a retry goes to the other one.
            bases = [[a.url, b.url] if i % 2 else [b.url, a.url] for i in range(CLIENTS)]
            results = run_clients(bases, key, secret, ops=8, seed=2)
            s = session(key, secret)
            ids = check_stored_exactly_acknowledged(s, a.url, results)
            assert stored_ids(s, b.url) == ids  # both instances see the same statements, in the same order


# ----------------------------------------------------------------------------- one id, many clients at once

@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def race_server(request, tmp_path_factory, worker_id):
    """One server (3 workers x 4 threads) for the race tests below; each test looks only at the ids it sent."""
    with database(request.param, tmp_path_factory.mktemp("race"), worker_id, "_race") as url:
        with running(url, workers=3, threads=4) as server:
            key, secret = server.credential("all")
            server.kind, server.sessions = request.param, [session(key, secret) for _ in range(12)]
            yield server
            for s in server.sessions:
                s.close()


def race(base, sessions, send) -> list:
    """Every session calls send(i, session) at the same moment; returns the responses (or exceptions)."""
    barrier = threading.Barrier(len(sessions))
    out = [None] * len(sessions)

    def go(i):
        barrier.wait()
        try:
            out[i] = send(i, sessions[i])
        except Exception as e:  # reported by the caller
            out[i] = e

    for s in sessions:  # open (keep-alive) connections first, so the requests start together
        s.get(base + "/xapi/about", timeout=10)
    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(sessions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


def test_one_id_posted_by_many_clients_at_once(race_server):
    server, n, rounds = race_server, 12, 4
    sessions = server.sessions[:n]
    rng = random.Random(3)
    for _ in range(rounds):
        # Same content from everyone (a PUT, a single statement, or inside a batch): all succeed, stored once.
        sid = str(uuid.uuid4())
        stmt = make_statement(rng, sid, "same")
        extra = {i: make_statement(rng, str(uuid.uuid4()), "other") for i in range(n) if i % 3 == 2}

        def same(i, s):
            if i % 3 == 0:
                return put(s, server.url, stmt)
            if i % 3 == 1:
                return post(s, server.url, stmt)
            return post(s, server.url, [extra[i], stmt])

        answers = race(server.url, sessions, same)
        assert all(isinstance(r, requests.Response) for r in answers), answers
        assert [r.status_code for r in answers] == [204 if i % 3 == 0 else 200 for i in range(n)], \
            [(r.status_code, r.text[:200]) for r in answers]
        ids = stored_ids(sessions[0], server.url)
        assert not duplicates(ids)
        assert set(ids) >= {sid, *(e["id"] for e in extra.values())}

        # Different content under one id: exactly one wins, the others are told 409, the winner's is stored.
        sid = str(uuid.uuid4())
        versions = [make_statement(rng, sid, f"rival{i}") for i in range(n)]

        def rival(i, s):
            return put(s, server.url, versions[i]) if i % 2 else post(s, server.url, [versions[i]])

        answers = race(server.url, sessions, rival)
        assert all(isinstance(r, requests.Response) for r in answers), answers
        codes = [r.status_code for r in answers]
        won = [i for i, c in enumerate(codes) if c in (200, 204)]
        assert len(won) == 1 and codes.count(409) == n - 1, [(c, r.text[:200]) for c, r in zip(codes, answers)]
        assert stored_ids(sessions[0], server.url).count(sid) == 1
        got = sessions[0].get(server.url + "/xapi/statements", params={"statementId": sid}, timeout=10).json()
        assert got["result"] == versions[won[0]]["result"]


def test_batches_sharing_ids_in_different_orders(race_server, request):
    """Clients (say, two forwarding bridges) sending the same statements, batched in opposite orders, at once."""
    server = race_server
    sessions = server.sessions[:8]
    rng = random.Random(4)
    failures, sent, rounds = [], [], 3
    for _ in range(rounds):
        # Four pairs, each pair on its own batch: one sends it in order, the other reversed
        batches = [[make_statement(rng, sid, "order") for sid in new_ids(300)] for _ in range(len(sessions) // 2)]
        sent += [st["id"] for batch in batches for st in batch]

        def opposite(i, s):
            batch = batches[i // 2]
            return post(s, server.url, batch if i % 2 else batch[::-1])

        for r in race(server.url, sessions, opposite):
            if not isinstance(r, requests.Response) or r.status_code != 200:
                failures.append(getattr(r, "status_code", r))
    ids = stored_ids(sessions[0], server.url)
    assert not duplicates(ids) and set(ids) >= set(sent)
    assert not failures, f"{len(failures)} of {rounds * len(sessions)} batches failed: {failures[:5]}"


def test_voiding_statement_and_its_target_stored_at_once(race_server, request):
    """The target comes in one batch, the statement voiding it in another, at the same moment: either way round,
    the target ends up voided."""
    server = race_server
    sessions = server.sessions[:2]
    rng = random.Random(5)
    targets = []
    for _ in range(25):
        target = make_statement(rng, str(uuid.uuid4()), "target")
        targets.append(target["id"])
        batch = [make_statement(rng, sid, "filler") for sid in new_ids(rng.randint(0, 40))] + [target]
        voiding = {**helpers.voiding(target["id"]), "id": str(uuid.uuid4())}
        answers = race(server.url, sessions, lambda i, s: post(s, server.url, batch if i == 0 else voiding))
        assert [getattr(r, "status_code", r) for r in answers] == [200, 200]
    s = sessions[0]
    not_voided = [t for t in targets
                  if s.get(server.url + "/xapi/statements", params={"statementId": t}, timeout=10).status_code != 404
                  or s.get(server.url + "/xapi/statements", params={"voidedStatementId": t},
                           timeout=10).status_code != 200]
    assert not not_voided, f"{len(not_voided)} of {len(targets)} targets were not voided"
