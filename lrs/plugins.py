"""The LRS's outer packages (simulation/, the Moodle bridge's job, others to come), loaded as plugins: each names an
`init_app(app, host)` under the entry point group "kompetanse_lrs.plugins" (pyproject.toml), and the LRS calls it
while it builds the app. The LRS imports none of them: what a plugin needs of the LRS comes through `host` (a
credential of its own, a scheduled job) and the LRS's HTTP APIs (the `xapi_client` package)."""
from importlib.metadata import entry_points

GROUP = "kompetanse_lrs.plugins"


class Host:
    """What the LRS hands a plugin, so that the plugin imports no LRS module."""

    def __init__(self, app):
        self.app = app

    def credential(self, stem: str, name: str, scopes) -> tuple[str, str]:
        """(key, secret) of the plugin's own credential in this LRS, with these scopes: made on first use and kept
        in the instance folder, so every worker and restart uses the same one (per database)."""
        from lrs.store import credentials
        return credentials.kept_in_instance(self.app, stem, name, scopes)

    def add_job(self, job_id: str, func, seconds: int, once: bool = True) -> None:
        """Run `func(app)` every `seconds` with the LRS's scheduler (once per slot across instances by default)."""
        from lrs import scheduler
        scheduler.add(self.app, job_id, func, seconds=seconds, once=once)


def init_app(app) -> None:
    host = Host(app)
    for entry in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        entry.load()(app, host)
