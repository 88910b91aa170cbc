"""The real server under crashes, retries and hostile clients.

(a) kill -9 in the middle of a load of batch POSTs: every acknowledged statement is there after a restart, exactly
    once, and every batch that was in flight is there whole or not at all;
(b) clients that retry (after a timeout, or after the crash) store nothing twice;
(c) slow and malformed clients do not keep others from being served."""
import base64
import json
import random
import socket
import threading
import time

import pytest
import requests

from tests.server_support import (SERVER_ENV, Server, database, duplicates, make_statement, new_ids, post, running,
                                  session, stored_ids)

pytestmark = pytest.mark.xdist_group("server")


class Load:
    """Threads POSTing batches of client-chosen ids until stopped or the server goes away. Each batch is
    'acked' (200), 'unknown' (in flight when the connection broke) or 'rejected' (any other answer)."""

    def __init__(self, base, key, secret, threads=4, batch=100, seed=0):
        self.base, self.key, self.secret, self.batch = base, key, secret, batch
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.batches = []  # [ids, payload, state]
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def _run(self, i):
        s = session(self.key, self.secret)
        rng = random.Random(self.rng.random())
        while not self.stop.is_set():
            ids = new_ids(rng.randint(self.batch // 2, self.batch))
            entry = [ids, [make_statement(rng, sid, f"load{i}") for sid in ids], "unknown"]
            with self.lock:
                self.batches.append(entry)
            try:
                r = post(s, self.base, entry[1], timeout=30)
            except requests.RequestException:
                return  # the server is gone: this batch stays 'unknown'
            entry[2] = "acked" if r.status_code == 200 and r.json() == ids else f"rejected {r.status_code}"

    def acked(self):
        with self.lock:
            return sum(1 for b in self.batches if b[2] == "acked")

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(60)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_kill_9_mid_load_loses_no_acknowledged_statement_and_no_batch_lands_half(kind, tmp_path, worker_id):
    with database(kind, tmp_path, worker_id) as url:
        with running(url, workers=2, threads=4) as server:
            key, secret = server.credential("all")
            load = Load(server.url, key, secret, threads=4, batch=150).start()
            deadline = time.monotonic() + 30
            while load.acked() < 30 and time.monotonic() < deadline:
                time.sleep(0.05)
            server.kill()  # while the load threads are mid-request
            load.join()
            port = server.port

        batches = load.batches
        rejected = [b[2] for b in batches if b[2].startswith("rejected")]
        assert not rejected, rejected
        acked = [b for b in batches if b[2] == "acked"]
        unknown = [b for b in batches if b[2] == "unknown"]
        assert len(acked) >= 30 and unknown, "the kill should have caught some batches in flight"

        # The same server (database, port) comes back
        with running(url, workers=2, threads=4, port=port) as server:
            s = session(key, secret)
            ids = stored_ids(s, server.url)
            assert not duplicates(ids)
            stored = set(ids)
            for b in acked:
                assert stored.issuperset(b[0]), "an acknowledged batch is missing statements"
            landed = []
            for b in unknown:
                there = len(stored.intersection(b[0]))
                assert there in (0, len(b[0])), f"a batch in flight landed in part: {there} of {len(b[0])}"
                landed += [b] if there else []
            assert len(ids) == sum(len(b[0]) for b in acked + landed)  # nothing else crept in

            # (b) The clients whose batches were in flight send them again: no duplicates, all there.
            for b in unknown:
                r = post(s, server.url, b[1])
                assert r.status_code == 200 and r.json() == b[0], r.text
            ids = stored_ids(s, server.url)
            assert not duplicates(ids)
            assert set(ids) == {i for b in batches for i in b[0]}
            # An acknowledged batch sent again changes nothing either
            r = post(s, server.url, acked[0][1])
            assert r.status_code == 200
            assert len(stored_ids(s, server.url)) == len(ids)


@pytest.fixture(scope="module")
def server_on(request, tmp_path_factory, worker_id):
    """A server (2 workers x 4 threads) on the database kind given by indirect parametrization, shared by the
    tests below that need no fresh database."""
    kind = request.param
    with database(kind, tmp_path_factory.mktemp(kind), worker_id, "_" + kind) as url:
        with running(url, workers=2, threads=4) as server:
            server.key, server.secret = server.credential("all")
            yield server


@pytest.mark.parametrize("server_on", ["sqlite", "postgresql"], indirect=True)
def test_retry_after_timeout_stores_nothing_twice(server_on):
    server, rng = server_on, random.Random(5)
    s = session(server.key, server.secret)
    before = stored_ids(s, server.url)
    sent, timed_out = [], 0
    # Three attempts at least, and more until one has timed out: how fast a batch is written is the machine's
    for attempt in range(10):
        if attempt >= 3 and timed_out:
            break
        ids = new_ids(600)
        batch = [make_statement(rng, sid, "retry") for sid in ids]
        try:
            r = post(s, server.url, batch, timeout=(5, 0.005))  # gives up long before the batch is written
            assert r.status_code == 200
        except requests.Timeout:
            timed_out += 1
            s.close()
        # At once, while the first attempt may still be writing
        r = post(s, server.url, batch)
        assert r.status_code == 200 and r.json() == ids, r.text
        sent += ids
    assert timed_out > 0
    r = post(s, server.url, batch)  # and once more, surely after both finished
    assert r.status_code == 200 and r.json() == ids

    stored = stored_ids(s, server.url)
    assert not duplicates(stored)
    assert len(stored) == len(before) + len(sent)
    assert stored[:len(sent)] == sent[::-1]  # a batch is stored in its order; batches newest first


# ------------------------------------------------------------------------------------ slow and bad clients

def timed_get(s, base):
    start = time.monotonic()
    r = s.get(base + "/xapi/statements", params={"limit": 1}, timeout=30)
    assert r.status_code == 200, r.text
    return time.monotonic() - start


def raw(port, data: bytes, wait=5.0) -> tuple[bytes, bool]:
    """Send bytes on a fresh connection: the head of the answer (status line and headers), and whether the
    server closed the connection without answering (rather than leaving it open past `wait` seconds)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        try:
            while b"\r\n\r\n" not in out and (chunk := sock.recv(65536)):
                out += chunk
        except socket.timeout:
            return out, False
        except ConnectionResetError:
            pass
        return out, b"\r\n\r\n" not in out


@pytest.mark.parametrize("server_on", ["sqlite"], indirect=True)  # the HTTP layer: one database is enough
def test_a_few_slow_clients_do_not_hold_up_others(server_on):
    """Connections that send nothing, or dribble a body, must not slow anyone else down."""
    server = server_on
    key, secret, port = server.key, server.secret, server.port
    s = session(key, secret)
    timed_get(s, server.url)
    stalled, stop = [], threading.Event()
    try:
        # Connections that send nothing at all
        for _ in range(2):
            stalled.append(socket.create_connection(("127.0.0.1", port)))
        # A client that sends its headers, then dribbles the body a byte at a time
        dribbler = socket.create_connection(("127.0.0.1", port))
        stalled.append(dribbler)
        body = b'{"actor": {"mbox": "mailto:slow@example.no"}, "verb": {"id": "http://example.no/v"}}'
        dribbler.sendall(request_head(key, secret, len(body)))

        def dribble():
            for byte in body[:-1]:
                if stop.wait(0.2):
                    return
                try:
                    dribbler.sendall(bytes([byte]))
                except OSError:
                    return

        dribbling = threading.Thread(target=dribble, daemon=True)
        dribbling.start()
        time.sleep(0.5)

        # Everyone else is served promptly, on fresh connections and on kept-alive ones, writes too
        rng = random.Random(9)
        slowest = 0.0
        for n in range(20):
            fresh = session(key, secret) if n % 2 else s
            slowest = max(slowest, timed_get(fresh, server.url))
            start = time.monotonic()
            r = post(fresh, server.url, [make_statement(rng, sid, "busy") for sid in new_ids(5)], timeout=30)
            assert r.status_code == 200
            slowest = max(slowest, time.monotonic() - start)
        assert slowest < 2.0, f"a request took {slowest:.2f}s while slow clients were connected"
        assert dribbling.is_alive(), "the dribbling client should still be sending"
    finally:
        stop.set()
        for sock in stalled:
            sock.close()


BAD_REQUESTS = {
    "garbage bytes": b"\x00\xff\xfe garbage \x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 50 + b"\r\n\r\n",
    "huge header": b"GET /xapi/about HTTP/1.1\r\nHost: x\r\nX-Huge: " + b"a" * 100_000 + b"\r\n\r\n",
    "huge request line": b"GET /xapi/" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "500 headers": b"GET /xapi/about HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(500))
                   + b"\r\n",
    "negative length": b"POST /xapi/statements HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    "length and chunked": b"POST /xapi/statements HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\nzz",
    "absurd length": b"POST /xapi/statements HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n"
                     b"Content-Type: application/json\r\nX-Experience-API-Version: 1.0.3\r\n\r\n{",
    "bad version": b"GET /xapi/about HTTP/9.9\r\n\r\n",
}


@pytest.mark.parametrize("server_on", ["sqlite"], indirect=True)
def test_malformed_requests_get_4xx_or_a_closed_connection_and_hurt_no_one(server_on):
    server = server_on
    key, secret, port = server.key, server.secret, server.port
    s = session(key, secret)
    for what, data in BAD_REQUESTS.items():
        answer, closed = raw(port, data)
        status = answer.split(b"\r\n", 1)[0]
        assert status.startswith((b"HTTP/1.1 4", b"HTTP/1.0 4")) or (answer == b"" and closed), \
            (what, answer[:200], closed)
        assert timed_get(session(key, secret), server.url) < 2.0, what

    # An oversized body is refused before it is read (413), and a body cut short stores nothing
    answer, _ = raw(port, request_head(key, secret, 25 * 1024 * 1024) + b"[" + b" " * 1000)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    before = stored_ids(s, server.url)
    raw(port, request_head(key, secret, 1000) + b'[{"actor": {"mbox": "mailto:cut@example.no"}, ', wait=0.5)
    assert stored_ids(s, server.url) == before
    assert timed_get(s, server.url) < 2.0


@pytest.mark.parametrize("server_on", ["sqlite"], indirect=True)
def test_more_dribbling_clients_than_threads_do_not_stall_the_server(server_on):
    """Slowloris: each connection sends a request head and then its body slowly, more of them than the server has
    threads. A request gets a thread only once it has arrived (lrs.serve.RequestBufferingWorker)."""
    server = server_on
    key, secret, port = server.key, server.secret, server.port
    dribblers = []
    try:
        for _ in range(3 * server.workers * server.threads):  # so that every worker likely gets its share
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(request_head(key, secret, 100) + b"[")
            dribblers.append(sock)
            time.sleep(0.01)
        time.sleep(0.5)

        waits = []

        def probe():  # a fresh connection each, all at once
            start = time.monotonic()
            try:
                session(key, secret).get(server.url + "/xapi/statements", params={"limit": 1}, timeout=3)
            except requests.Timeout:
                pass
            waits.append(time.monotonic() - start)

        threads = [threading.Thread(target=probe) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert max(waits) < 2.0, f"{sum(w >= 2.0 for w in waits)} of {len(waits)} clients were not served"
    finally:
        for sock in dribblers:
            sock.close()


def test_slow_and_stalled_requests_get_their_answers(tmp_path, worker_id):
    """A body sent in pieces, or after 100 Continue, is served as usual; one that does not arrive within
    LRS_REQUEST_SECONDS gets 408 and the connection closes, and nothing of it is stored."""
    with database("sqlite", tmp_path, worker_id, "_slow") as url:
        server = Server(url, workers=1, threads=2, env={**SERVER_ENV, "LRS_REQUEST_SECONDS": "1.5"}).start(60)
        try:
            key, secret = server.credential("all")
            s = session(key, secret)
            rng = random.Random(11)

            # 300 statements (well over the 64 KiB a thread waits for), in four pieces 0.3 s apart
            ids = new_ids(300)
            body = json.dumps([make_statement(rng, sid, "pieces") for sid in ids]).encode()
            assert len(body) > 128 * 1024
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
                sock.sendall(request_head(key, secret, len(body)))
                for i in range(4):
                    time.sleep(0.3)
                    sock.sendall(body[i * len(body) // 4:(i + 1) * len(body) // 4])
                assert read_answer(sock).startswith(b"HTTP/1.1 200")

            # Expect: 100-continue (curl sends it for bodies over 1 KiB): the body only after the server says so
            more = new_ids(2)
            body = json.dumps([make_statement(rng, sid, "continue") for sid in more]).encode()
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
                head = request_head(key, secret, len(body))
                sock.sendall(head.replace(b"\r\n\r\n", b"\r\nExpect: 100-continue\r\n\r\n"))
                assert sock.recv(1024) == b"HTTP/1.1 100 Continue\r\n\r\n"
                sock.sendall(body)
                answer = read_answer(sock)
                assert answer.startswith(b"HTTP/1.1 200") and b"100 Continue" not in answer, answer[:300]
            assert set(ids + more) <= set(stored_ids(s, server.url))

            # A body that keeps trickling past the deadline: 408, closed, nothing stored
            before = stored_ids(s, server.url)
            late = json.dumps([make_statement(rng, new_ids(1)[0], "late")]).encode()
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
                sock.sendall(request_head(key, secret, len(late)))
                start, answer = time.monotonic(), b""
                for byte in late:
                    try:
                        sock.sendall(bytes([byte]))
                    except OSError:
                        break
                    sock.settimeout(0.3)
                    try:
                        answer = sock.recv(1024)
                        break
                    except socket.timeout:
                        continue
                assert answer.startswith(b"HTTP/1.1 408"), answer
                assert 1.5 <= time.monotonic() - start < 5
            assert stored_ids(s, server.url) == before
        finally:
            server.stop()


@pytest.mark.parametrize("doc, content_type", [
    (json.dumps({"last_log_id": 12345}).encode(), "application/json"),
    # larger than the worker waits for: it streams to the app, which must see that it ends too soon
    (bytes(range(256)) * 1024, "application/octet-stream")], ids=["small", "streamed"])
def test_a_client_that_leaves_halfway_through_its_body_stores_nothing(tmp_path, worker_id, doc, content_type):
    """Killed between the head and the end of the body (a bridge killed mid-PUT): the server must not hand the
    app the body cut short, which a PUT would keep as a truncated document."""
    with database("sqlite", tmp_path, worker_id, "_gone") as url, running(url, workers=1, threads=2) as server:
        key, secret = server.credential("all")
        where = "activityId=https://moodle.example.no/site&profileId=checkpoint"
        head = request_head(key, secret, len(doc), b"PUT /xapi/activities/profile?" + where.encode(),
                            b"If-None-Match: *\r\n", content_type.encode())
        for sent in (0, len(doc) // 2):  # only the head, then the head and half the body
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
                sock.sendall(head + doc[:sent])
                time.sleep(0.2)  # the head has arrived and waits for its body
            time.sleep(0.3)
            r = session(key, secret).get(f"{server.url}/xapi/activities/profile?{where}")
            assert r.status_code == 404, (sent, r.status_code, r.content)
        # the same request sent whole is stored
        r = session(key, secret).put(f"{server.url}/xapi/activities/profile?{where}", data=doc,
                                     headers={"Content-Type": content_type, "If-None-Match": "*"})
        assert r.status_code == 204, r.text
        assert session(key, secret).get(f"{server.url}/xapi/activities/profile?{where}").content == doc


def read_answer(sock) -> bytes:
    """An HTTP answer with a Content-Length body, read whole."""
    out = b""
    while b"\r\n\r\n" not in out:
        out += sock.recv(65536)
    head, _, rest = out.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest


def request_head(key, secret, length: int, target: bytes = b"POST /xapi/statements", extra: bytes = b"",
                 content_type: bytes = b"application/json") -> bytes:
    auth = base64.b64encode(f"{key}:{secret}".encode())
    return (target + b" HTTP/1.1\r\nHost: x\r\nContent-Type: " + content_type + b"\r\n"
            b"Authorization: Basic " + auth + b"\r\nX-Experience-API-Version: 1.0.3\r\n" + extra +
            b"Content-Length: %d\r\n\r\n" % length)
