"""gunicorn serving the app: what `lrs run` starts. (Tests and benchmarks run `lrs run`: tests/server_support.py.)"""
import gc
import os
import re
import socket
import time

from gunicorn.app.base import BaseApplication
from gunicorn.workers import gthread


class _Gunicorn(BaseApplication):
    def __init__(self, options):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from lrs import create_app
        return create_app()


def _streamed_bodies_checked(wsgi_app):
    """A body larger than the worker waits for (RequestBufferingWorker.enough) streams to the app, and gunicorn's
    reader ends it early, without a word, if the client leaves halfway (wsgi.input_terminated, which werkzeug
    trusts). Without that mark werkzeug reads such a body through a LimitedStream of its Content-Length, which
    answers a body cut short with 400 (ClientDisconnected) instead of handing the app what came."""
    def app(environ, start_response):
        if (int(environ.get("CONTENT_LENGTH") or 0) > RequestBufferingWorker.enough
                and "HTTP_TRANSFER_ENCODING" not in environ):
            environ.pop("wsgi.input_terminated", None)
        return wsgi_app(environ, start_response)
    return app


_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)")
_EXPECT = re.compile(rb"(?i)\r\nexpect:[ \t]*100-continue[ \t]*(?=\r\n|$)")
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class RequestBufferingWorker(gthread.ThreadWorker):
    """gthread, but a connection gets one of the worker's threads only once its request has arrived: the head and
    the whole body, or the body's first `enough` bytes (a large upload then streams). Until then it waits in the
    worker's poller, where it costs no thread, so clients that send a request slowly or stall halfway (slowloris)
    cannot take every thread from the others. A request that has not arrived within REQUEST_SECONDS (the app's
    config) of its first byte gets 408 and the connection is closed. (What nginx does in front of gunicorn, for
    `lrs run` on its own.)"""

    enough = 64 * 1024
    app_config = {}  # the served app's settings (lrs/config.py), set by load_wsgi; none for another WSGI app

    def load_wsgi(self):
        super().load_wsgi()
        self.app_config = getattr(self.wsgi, "config", {})
        self.wsgi = _streamed_bodies_checked(self.wsgi)
        # What the app is made of (modules, tables, routes: ~185,000 objects) lives as long as the worker. Frozen out
        # of the collector's reach, a full collection walks only what requests leave behind: 8-23 % less CPU per
        # statement in batches (docs/performance.md).
        gc.collect()
        gc.freeze()

    def notify(self):
        """The heartbeat the arbiter checks against `timeout` (60 s): once a second, not on every turn of the event
        loop (a file-time syscall several times per request was a tenth of a small request's CPU)."""
        now = time.monotonic()
        if now - getattr(self, "_last_beat", 0.0) >= 1.0:
            self._last_beat = now
            super().notify()

    def handle(self, conn):
        # gunicorn's own TLS and HTTP/2 are served as by gthread (their bytes are not HTTP/1 heads to look at).
        arrived = self.cfg.is_ssl or getattr(conn, "is_http2", False) or self._arrived(conn)
        if arrived:
            conn.lrs_buffer, conn.lrs_since = b"", None  # the next request on this connection is waited for anew
            return super().handle(conn)
        if arrived is None:
            return False  # the client left before its request was whole: closed, nothing of it reaches the app
        since = getattr(conn, "lrs_since", None)
        if since is not None and time.monotonic() - since > self.app_config.get("REQUEST_SECONDS", 10):
            try:
                conn.sock.send(_TIMED_OUT, socket.MSG_DONTWAIT)
            except OSError:
                pass
            return False  # closed
        return gthread._DEFER  # back to the poller until more arrives

    def _arrived(self, conn) -> bool | None:
        """Read what the client has sent so far without waiting; hand it to the parser once the request is in.
        False: not yet; None: the client closed before it was."""
        got = bytearray(getattr(conn, "lrs_buffer", b""))
        if conn.parser is not None:  # a kept-alive connection: the parser may hold read-ahead bytes
            got += conn.parser.unreader.take_buffered()
        while not self._complete(conn, got):
            try:
                chunk = conn.sock.recv(self.enough, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):  # nothing more yet: wait in the poller
                conn.lrs_buffer = bytes(got)
                if got and getattr(conn, "lrs_since", None) is None:
                    conn.lrs_since = time.monotonic()
                return False
            except OSError:
                chunk = b""
            if not chunk:
                # The client closed before its request was whole (killed between head and body, say). Handed on,
                # gunicorn's parser would give the app the body cut short (it reads to EOF and werkzeug trusts it,
                # wsgi.input_terminated), and a PUT would store a truncated document.
                return None
            got += chunk
        head_end = got.find(b"\r\n\r\n")
        if getattr(conn, "lrs_continued", False) and head_end >= 0:
            got[:head_end] = _EXPECT.sub(b"", bytes(got[:head_end]))  # said already: the parser must not again
            conn.lrs_continued = False
        conn.init()  # makes the parser of a new connection (and sets the socket blocking for the thread)
        conn.parser.unreader.unread(bytes(got))
        return True

    def _complete(self, conn, got: bytearray) -> bool:
        """Whether the request in `got` has arrived as far as a thread needs to wait for."""
        head_end = got.find(b"\r\n\r\n")
        if head_end < 0:
            return len(got) >= self.enough  # an endless head: the parser refuses it
        head = bytes(got[:head_end]).lower()
        length = _CONTENT_LENGTH.search(head)
        if length is None or b"\r\ntransfer-encoding:" in head or int(length.group(1)) > self._max_body():
            # No body; or one the parser or the app refuses from the head alone (413 comes before reading);
            # or a chunked one, rare for xAPI, whose end is the parser's to find.
            return True
        if len(got) - head_end - 4 >= min(int(length.group(1)), self.enough):
            return True
        if _EXPECT.search(head) and not getattr(conn, "lrs_continued", False):
            conn.sock.send(_CONTINUE, socket.MSG_DONTWAIT)  # the client waits for this before it sends the body
            conn.lrs_continued = True
        return False

    def _max_body(self) -> int:
        return self.app_config.get("MAX_CONTENT_LENGTH") or 2 ** 63


def serve(host: str, port: int, workers: int, threads: int = 4) -> None:
    import tempfile
    os.environ.setdefault("LRS_SCHEDULER", "1")  # each worker runs the scheduled jobs (once-per-slot ones once)
    # Metrics summed over the workers: each writes its counters to files in this folder (a fresh one per start).
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="lrs-metrics-")
    _Gunicorn({
        "bind": f"{host}:{port}",
        "workers": workers,
        # Threads, and a thread only for a request that has arrived: a slow client holds no worker and no thread.
        "worker_class": RequestBufferingWorker,
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        # The workers' heartbeat touches a file before every request; on tmpfs that costs no disk metadata write.
        "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,
        # Bounded request lines and headers: a malformed request cannot exhaust a worker.
        "limit_request_line": 8190,
        "limit_request_fields": 100,
    }).run()
