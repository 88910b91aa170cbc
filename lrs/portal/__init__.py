"""Pushing competence status changes to the regional competence portal: outbox, delivery, pull feed."""

from lrs import personal


def init_app(app):
    from lrs.portal import delivery, outbox  # noqa: F401  (the outbox listener and the delivery job register)
    from lrs.portal.api import bp
    from lrs.portal.cli import portal_group
    from lrs.portal.tables import PERSONAL_DATA

    personal.declare(app, PERSONAL_DATA)

    app.register_blueprint(bp)
    app.cli.add_command(portal_group)
