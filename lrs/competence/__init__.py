"""The competence engine: catalog, requirements, evidence rules, and each employee's plan."""

from lrs import personal


def init_app(app):
    from lrs.competence import jobs, reminders  # noqa: F401  (they register their scheduled jobs)
    from lrs.competence import directory_api, rules_api
    from lrs.competence.api import bp
    from lrs.competence.cli import competence_group
    from lrs.competence.engine import Settings
    from lrs.competence.tables import PERSONAL_DATA

    app.extensions["competence.settings"] = Settings(app.config)
    personal.declare(app, PERSONAL_DATA)
    app.register_blueprint(bp)
    app.register_blueprint(rules_api.bp)
    app.register_blueprint(directory_api.bp)
    app.cli.add_command(competence_group)
