"""A stand-in for the competence portal: a real HTTP server on loopback that records what it receives and can be
told to fail, stall or answer with an error."""
import http.server
import json
import threading
import time


class Portal:
    """`plan` is consumed one entry per request: "ok", "500", "400", "slow" (sleeps past the client's timeout)."""

    def __init__(self, secret: str = "portal-secret", delay: float = 0.0):
        self.secret, self.delay = secret, delay
        self.received: list[dict] = []  # every request, also failed ones: {"key", "signature", "body", "status"}
        self.plan: list[str] = []
        self.lock = threading.Lock()
        portal = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request: a real portal never sees a whole request
                    return
                with portal.lock:
                    step = portal.plan.pop(0) if portal.plan else "ok"
                if step == "slow":
                    time.sleep(2)
                elif portal.delay:
                    time.sleep(portal.delay)
                status = {"ok": 200, "500": 500, "400": 400}.get(step, 200)
                with portal.lock:
                    portal.received.append({"key": self.headers.get("Idempotency-Key"),
                                            "signature": self.headers.get("X-Kompetanse-Signature"),
                                            "body": body, "status": status})
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except OSError:  # the client gave up (timeout)
                    pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/kompetanse"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def accepted(self) -> list[dict]:
        """The changes the portal took (2xx), in the order it took them, first time per idempotency key."""
        seen, out = set(), []
        with self.lock:
            for r in self.received:
                if r["status"] == 200 and r["key"] not in seen:
                    seen.add(r["key"])
                    out.append(json.loads(r["body"]))
        return out
