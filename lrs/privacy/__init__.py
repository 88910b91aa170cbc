"""Personal data of the people in the records: who read them (access log), everything about one person on request
(export), erasure with pseudonyms, and retention after someone leaves. See docs/privacy.md."""

from lrs import accesslog, personal


def init_app(app):
    from lrs import scheduler
    from lrs.privacy import access, retention, tables
    from lrs.privacy.cli import privacy_group
    from lrs.privacy.views import bp

    personal.declare(app, [*accesslog.PERSONAL_DATA, *tables.PERSONAL_DATA])
    access.init_app(app)
    app.register_blueprint(bp)
    app.cli.add_command(privacy_group)
    scheduler.add(app, "privacy.retention", retention.retention_job, seconds=86400)
