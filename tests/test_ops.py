"""Operations: health and readiness, Prometheus metrics (also summed across gunicorn workers), JSON logs with
request ids."""
import json
import subprocess
import sys

import pytest
import requests

from lrs import create_app
from tests.competence_support import days_ago, load_trust, passed_hlr, send
from tests.conftest import fresh_database
from tests.server_support import Server


def test_health_and_ready(app):
    client = app.test_client()
    assert client.get("/health").get_json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ready"


def test_not_ready_without_the_schema_or_the_database(tmp_path):
    empty = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/empty.db", "SECRET_KEY": "t"})
    r = empty.test_client().get("/ready")
    assert r.status_code == 503 and r.get_json()["status"] == "unavailable"
    gone = create_app({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "SECRET_KEY": "t"})
    r = gone.test_client().get("/ready")
    assert r.status_code == 503 and "database" in r.get_json()["reason"]


def test_metrics_count_requests_and_read_the_queues(app, xapi):
    load_trust(app)
    send(xapi, passed_hlr("E1", days_ago(3)))
    client = app.test_client()
    text = client.get("/metrics").get_data(as_text=True)
    assert 'lrs_http_requests_total{endpoint="/xapi/statements",method="POST",status="200"}' in text
    assert "lrs_http_request_seconds_bucket" in text
    assert "lrs_statements_stored 1.0" in text and "lrs_competence_backlog 1.0" in text


def test_metrics_need_loopback_or_the_token(app):
    client = app.test_client()
    outside = {"REMOTE_ADDR": "10.1.2.3"}
    assert client.get("/metrics", environ_base=outside).status_code == 403
    app.config["METRICS_TOKEN"] = "s3cret"
    assert client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_request_id_is_kept_or_made(app):
    client = app.test_client()
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = client.get("/health").headers["X-Request-ID"]
    assert len(made) == 32


def test_logs_are_json_lines_with_the_request_id(tmp_path):
    code = ("from lrs import create_app; from lrs.store.migrate import upgrade;"
            f"app = create_app({{'DATABASE_URL': 'sqlite:///{tmp_path}/l.db', 'SECRET_KEY': 't'}});"
            "upgrade(app.extensions['lrs.engine']);"
            "app.test_client().get('/xapi/about', headers={'X-Request-ID': 'req-42'})")
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stderr
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    (entry,) = [e for e in lines if e.get("request_id") == "req-42"]
    assert entry["path"] == "/xapi/about" and entry["status"] == 200 and entry["level"] == "INFO"
    assert "time" in entry and isinstance(entry["ms"], float)


@pytest.mark.xdist_group("server")
def test_metrics_are_summed_over_gunicorn_workers(tmp_path):
    with fresh_database("sqlite", tmp_path, "metrics") as url:
        server = Server(url, workers=3, threads=2, env={"LRS_SECRET_KEY": "t"}).start(timeout=60)
        try:
            for _ in range(30):  # spread over the workers by the kernel
                requests.get(server.url + "/health", timeout=10)
            text = requests.get(server.url + "/metrics", timeout=10).text
        finally:
            server.stop()
    line = next(row for row in text.splitlines()
                if row.startswith('lrs_http_requests_total{endpoint="/health",method="GET",status="200"}'))
    assert float(line.split()[-1]) >= 30
