"""The competence engine: catalog, requirements, evidence rules, and each employee's plan."""

from lrs import personal


def init_app(app):
    from lrs import scheduler
    from lrs.competence import directory_api, jobs, reminders, rules_api
    from lrs.competence.api import bp
    from lrs.competence.cli import competence_group
    from lrs.competence.engine import Settings
    from lrs.competence.tables import PERSONAL_DATA

    app.extensions["competence.settings"] = Settings(app)
    personal.declare(app, PERSONAL_DATA)
    app.register_blueprint(bp)
    app.register_blueprint(rules_api.bp)
    app.register_blueprint(directory_api.bp)
    app.cli.add_command(competence_group)
    # New statements become evidence and plan changes within seconds (each instance tries; one at a time reads).
    scheduler.add(app, "competence.process", jobs.process, seconds=2, once=False)
    scheduler.add(app, "competence.expiry", jobs.expiry, seconds=86400)
    scheduler.add(app, "competence.reminders", reminders.send_reminders, seconds=86400)
    scheduler.add(app, "competence.digest", reminders.send_digests, seconds=7 * 86400)
