"""Prometheus metrics: request counts and latencies per resource (recorded as requests finish), and what the
database says at scrape time: statements stored, the competence engine's backlog, the portal queues, job runs."""
import hmac
import ipaddress
import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

CONTENT_TYPE = CONTENT_TYPE_LATEST
REQUESTS = Counter("lrs_http_requests_total", "HTTP requests answered", ["method", "endpoint", "status"])
LATENCY = Histogram("lrs_http_request_seconds", "Time to answer an HTTP request", ["method", "endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


def observe(method: str, endpoint: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, endpoint, str(status)).inc()
    LATENCY.labels(method, endpoint).observe(seconds)


class DatabaseCollector:
    """Gauges read from the database when Prometheus scrapes (cheap queries: indexed maxima and counts)."""

    def __init__(self, engine):
        self.engine = engine

    def collect(self):
        from lrs.competence.tables import engine_cursor
        from lrs.portal.tables import deliveries
        from lrs.scheduler import job_runs
        from lrs.store.models import statements
        with self.engine.connect() as conn:
            newest = conn.execute(select(func.max(statements.c.seq))).scalar() or 0
            read = conn.execute(select(engine_cursor.c.seq)).scalar() or 0
            queues = conn.execute(select(deliveries.c.connector, deliveries.c.state, func.count())
                                  .where(deliveries.c.state != "sent")
                                  .group_by(deliveries.c.connector, deliveries.c.state)).all()
            runs = conn.execute(select(job_runs.c.job_id, job_runs.c.status, func.count())
                                .group_by(job_runs.c.job_id, job_runs.c.status)).all()
        stored = GaugeMetricFamily("lrs_statements_stored", "Statements stored (highest storing sequence number)")
        stored.add_metric([], newest)
        yield stored
        backlog = GaugeMetricFamily("lrs_competence_backlog", "Statements stored but not yet read by the engine")
        backlog.add_metric([], max(0, newest - read))
        yield backlog
        queue = GaugeMetricFamily("lrs_portal_queue", "Portal deliveries not sent", labels=["connector", "state"])
        for connector, state, n in queues:
            queue.add_metric([connector, state], n)
        yield queue
        jobs = GaugeMetricFamily("lrs_job_runs", "Once-per-slot job runs recorded", labels=["job", "status"])
        for job_id, status, n in runs:
            jobs.add_metric([job_id, status], n)
        yield jobs


def render(app) -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # every gunicorn worker's counters, summed
    else:
        registry.register(_Local())
    registry.register(DatabaseCollector(app.extensions["lrs.engine"]))
    return generate_latest(registry)


class _Local:
    """This process's request metrics (one process: tests, `flask run`)."""

    def collect(self):
        yield from REQUESTS.collect()
        yield from LATENCY.collect()


def may_read(request, token: str) -> bool:
    """The bearer token, or a loopback socket peer that no proxy stands behind. The peer is the socket's own
    address, not one ProxyFix took from X-Forwarded-For; and a request that carries forwarding headers came
    through a proxy (which may be serving anyone), so loopback alone is not enough for it."""
    if token and hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return True
    peer = request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR", request.environ.get("REMOTE_ADDR"))
    proxied = any(h in request.headers for h in ("X-Forwarded-For", "Forwarded", "X-Real-IP"))
    try:
        return ipaddress.ip_address(peer or "").is_loopback and not proxied
    except ValueError:
        return False
