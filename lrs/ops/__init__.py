"""Operations: liveness and readiness, Prometheus metrics, and structured JSON logs with request ids.

    GET /health    200 while the process serves (liveness)
    GET /ready     200 when the database answers and its schema is at the newest migration, else 503
    GET /metrics   Prometheus text; with `Authorization: Bearer <LRS_METRICS_TOKEN>`, or from loopback not proxied

Under gunicorn (several worker processes) the metrics are gathered across workers through prometheus_client's
multiprocess mode: `lrs run` points PROMETHEUS_MULTIPROC_DIR at a fresh folder."""
import logging
import sys
import time
import uuid

from flask import Response, current_app, g, jsonify, request
from pythonjsonlogger.orjson import OrjsonFormatter
from sqlalchemy import text

log = logging.getLogger("lrs.requests")


def init_app(app):
    from lrs.ops import metrics

    _configure_logging(app)

    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-ID", "")
        # A caller's id is kept if it looks like one (bounded, printable); else a fresh one.
        g.request_id = incoming if 0 < len(incoming) <= 128 and incoming.isprintable() else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response):
        if "started" not in g:
            return response
        elapsed = time.perf_counter() - g.started
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        metrics.observe(request.method, endpoint, response.status_code, elapsed)
        response.headers["X-Request-ID"] = g.request_id
        who = g.get("principal")
        credential = g.get("credential")
        log.info("request", extra={"request_id": g.request_id, "method": request.method, "path": request.path,
                                   "status": response.status_code, "ms": round(elapsed * 1000, 1),
                                   "user": who.user_id if who else None,
                                   "credential": credential.key if credential else None})
        return response

    app.add_url_rule("/health", "health", lambda: jsonify({"status": "ok"}))
    app.add_url_rule("/ready", "ready", _ready)
    app.add_url_rule("/metrics", "metrics", _metrics)


def _configure_logging(app):
    """One JSON object per line on stderr (what log shippers read), for this app's loggers."""
    if app.config["LOG_FORMAT"] != "json" or getattr(_configure_logging, "done", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    # orjson: a line per request, so its encoding is on every request's path (the json module took half as long again).
    handler.setFormatter(OrjsonFormatter("{asctime}{levelname}{name}{message}", style="{",
                                        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    for name in ("lrs", "simulation"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(app.config["LOG_LEVEL"])
        logger.propagate = False
    _configure_logging.done = True


def _ready():
    from lrs.store.migrate import head_revision
    try:
        with current_app.extensions["lrs.engine"].connect() as conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as e:  # any failure to reach the database means: not ready
        return jsonify({"status": "unavailable", "reason": f"database: {type(e).__name__}"}), 503
    head = head_revision()
    if current != head:
        return jsonify({"status": "unavailable", "reason": f"schema at {current}, code needs {head} "
                                                           "(run lrs db upgrade)"}), 503
    return jsonify({"status": "ready", "schema": current})


def _metrics():
    from lrs.ops import metrics
    if not metrics.may_read(request, current_app.config["METRICS_TOKEN"]):
        return jsonify({"error": {"code": 403, "message": "metrics are for a bearer token (LRS_METRICS_TOKEN), or "
                                                          "loopback without a proxy in between"}}), 403
    return Response(metrics.render(current_app._get_current_object()), mimetype=metrics.CONTENT_TYPE)
