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
        # Bounded request lines and headers: a malformed request cannot exhaust a worker.
        "limit_request_line": 8190,
        "limit_request_fields": 100,
    }).run()
