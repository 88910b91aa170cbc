"""The competence engine: catalog, requirements, evidence rules, and each employee's plan."""


def init_app(app):
    from lrs.competence import jobs, reminders  # noqa: F401  (they register their scheduled jobs)
    from lrs.competence import directory_api, rules_api
    from lrs.competence.api import bp
    from lrs.competence.cli import competence_group
    from lrs.competence.engine import Settings

    app.extensions["competence.settings"] = Settings(app.config)
    app.register_blueprint(bp)
    app.register_blueprint(rules_api.bp)
    app.register_blueprint(directory_api.bp)
    app.cli.add_command(competence_group)
