"""gunicorn serving the app: the way `lrs run` starts the LRS, and the way tests and benchmarks start it too."""
from gunicorn.app.base import BaseApplication


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


def serve(host: str, port: int, workers: int, threads: int = 4) -> None:
    import os
    import tempfile
    os.environ.setdefault("LRS_SCHEDULER", "1")  # each worker runs the scheduled jobs (once-per-slot ones once)
    # Metrics summed over the workers: each writes its counters to files in this folder (a fresh one per start).
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="lrs-metrics-")
    _Gunicorn({
        "bind": f"{host}:{port}",
        "workers": workers,
        # Threads keep a slow or stalled client from holding a whole worker.
        "worker_class": "gthread",
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


class Server:
    """A real LRS server in a child process (`lrs run`): what tests and benchmarks drive over HTTP.

        with Server("sqlite:////tmp/lrs.db", workers=2) as server:
            requests.get(server.url + "/xapi/about")
    """

    def __init__(self, database_url: str, workers: int = 2, threads: int = 4, port: int | None = None,
                 env: dict | None = None, log: str | None = None):
        self.database_url, self.workers, self.threads = database_url, workers, threads
        self.log = log  # a file the server's log (stderr) goes to; None: this process's stderr
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env or {}
        self.process = None

    def start(self, timeout: float = 30.0) -> "Server":
        import os
        import subprocess
        import sys
        import time
        import urllib.request

        env = {**os.environ, "LRS_DATABASE_URL": self.database_url, **self.env}
        subprocess.run([sys.executable, "-m", "lrs.cli", "db", "upgrade"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        stderr = open(self.log, "ab") if self.log else None
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lrs.cli", "run", "--port", str(self.port), "--workers", str(self.workers),
             "--threads", str(self.threads)], env=env, start_new_session=True, stderr=stderr)
        if stderr:
            stderr.close()  # the child holds its own copy
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"lrs run exited with {self.process.returncode}")
            try:
                urllib.request.urlopen(self.url + "/xapi/about", timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"lrs run did not answer on {self.url} within {timeout}s")

    def credential(self, *scopes: str) -> tuple[str, str]:
        """A new (key, secret) made with `lrs credentials create`."""
        import json
        import os
        import subprocess
        import sys
        args = [sys.executable, "-m", "lrs.cli", "credentials", "create", "--name", "server-test", "--json"]
        for scope in scopes or ("all",):
            args += ["--scope", scope]
        out = subprocess.run(args, env={**os.environ, "LRS_DATABASE_URL": self.database_url, **self.env},
                             check=True, capture_output=True, text=True).stdout
        cred = json.loads(out)
        return cred["key"], cred["secret"]

    def kill(self) -> None:
        """kill -9 the whole server (master and workers), as a crash would."""
        import os
        import signal
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        import os
        import signal
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except Exception:
                self.kill()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
