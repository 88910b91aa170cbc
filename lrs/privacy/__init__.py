"""Personal data of the people in the records: who read them (access log), everything about one person on request
(export), erasure with pseudonyms, and retention after someone leaves. See docs/privacy.md."""


def init_app(app):
    from lrs import scheduler
    from lrs.privacy import access, retention
    from lrs.privacy.cli import privacy_group
    from lrs.privacy.views import bp

    access.init_app(app)
    app.register_blueprint(bp)
    app.cli.add_command(privacy_group)
    scheduler.add(app, "privacy.retention", retention.retention_job, seconds=86400)
