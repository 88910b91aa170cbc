"""Education programmes: learning objectives by topic, the activities that count, supervisors (veiledere) and
sign-off as xAPI statements, on the competence engine (docs/programmes.md)."""
from pathlib import Path

from lrs import personal

EXAMPLES = Path(__file__).parent / "examples"  # the three example programmes, as data


def init_app(app):
    from lrs import scheduler
    from lrs.programmes import jobs
    from lrs.programmes.api import bp
    from lrs.programmes.cli import programmes_group
    from lrs.programmes.tables import PERSONAL_DATA

    personal.declare(app, PERSONAL_DATA)
    app.register_blueprint(bp)
    app.cli.add_command(programmes_group)
    scheduler.add(app, "programmes.reminders", jobs.send_reminders, seconds=86400)
