"""Pushing competence status changes to the regional competence portal: outbox, delivery, pull feed."""

from lrs import personal


def init_app(app):
    from lrs import registry, scheduler
    from lrs.portal import delivery, outbox
    from lrs.portal.api import bp
    from lrs.portal.cli import portal_group
    from lrs.portal.tables import PERSONAL_DATA

    personal.declare(app, PERSONAL_DATA)

    app.register_blueprint(bp)
    app.cli.add_command(portal_group)
    registry.status_changed.connect(outbox.write, sender=app)  # in the changing transaction
    scheduler.add(app, "portal.deliver", delivery.deliver_job, seconds=5, once=False)
