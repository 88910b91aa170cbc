"""Capacity and indicators: staffing targets per unit, the capacity forecast (3, 12, 36 months) and the monthly
indicator snapshots, from unit to trust to region (docs/capacity.md)."""

from lrs import personal


def init_app(app):
    from lrs import registry, scheduler
    from lrs.capacity import api, indicators, jobs
    from lrs.capacity.cli import capacity_group
    from lrs.capacity.tables import PERSONAL_DATA

    personal.declare(app, PERSONAL_DATA)
    app.register_blueprint(api.bp)
    app.register_blueprint(api.indicators_bp)
    app.cli.add_command(capacity_group)
    # Daily, once across instances; it takes last month's snapshot when that month has none yet.
    scheduler.add(app, "capacity.snapshot", jobs.monthly_snapshot, seconds=86400)
    registry.of(app).digest_sections.append(indicators.digest_section)  # the month's change
