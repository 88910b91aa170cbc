"""Fixtures every test builds on: an app on each database, a test client that speaks xAPI, credentials.

Tests run on SQLite always and on PostgreSQL (127.0.0.1:5432, user postgres) whenever it answers; under CI=true
PostgreSQL is required."""
import base64
import hashlib
import os
import shutil
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import inspect, text

from lrs import create_app
from lrs.store import credentials as creds
from lrs.store.db import make_engine
from lrs.store.migrate import upgrade

# fixtures: trust, sign_in (competence_support); site, browser, page, new_page (browser_support)
pytest_plugins = ["tests.competence_support", "tests.browser_support"]

PG_ADMIN = os.environ.get("LRS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
ALL_SCOPES = ("all",)
PG_SKIP = "PostgreSQL does not answer on 127.0.0.1:5432: PostgreSQL tests skipped (required under CI=true)"
# Test databases carry a tag of this checkout, so two checkouts testing at once on one server keep apart.
CHECKOUT_TAG = hashlib.sha1(os.path.dirname(os.path.abspath(__file__)).encode()).hexdigest()[:6]


def pg_available() -> bool:
    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
        return True
    except psycopg.OperationalError:
        if os.environ.get("CI") == "true":
            raise
        return False


def require_pg() -> None:
    if not pg_available():
        pytest.skip(PG_SKIP)


def pg_admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def pg_database_url(stem: str) -> str:
    """A new, empty PostgreSQL database named for this checkout and `stem` (dropped first if left over)."""
    name = f"lrs_{CHECKOUT_TAG}_{stem}"
    pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


@contextmanager
def fresh_database(kind: str, tmp_path, stem: str):
    """A fresh, empty database URL of this kind ("sqlite" or "postgresql"), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / (stem + '.db')}"
        return
    require_pg()
    url = pg_database_url(stem)
    try:
        yield url
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "lrs.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_url(worker_id):
    require_pg()
    url = pg_database_url(f"test_{worker_id}")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "lrs.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_url")
    engine = make_engine(url)
    with engine.begin() as conn:
        # Every table the migrations made, whichever package owns it.
        tables = ", ".join(t for t in inspect(conn).get_table_names() if t != "alembic_version")
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY"))
    engine.dispose()
    return url


@pytest.fixture
def app(db_url, tmp_path):
    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test", "CREDENTIAL_CACHE_SECONDS": 0})
    app.instance_path = str(tmp_path / "instance")
    yield app
    app.extensions["lrs.engine"].dispose()


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


class XAPIClient:
    """The Flask test client with a credential and a version header on every request, as an xAPI client sends."""

    def __init__(self, client, auth: str | None, version: str = "1.0.3"):
        self.client, self.auth, self.version = client, auth, version

    def request(self, method, path, headers=None, **kwargs):
        h = {}
        if self.auth:
            h["Authorization"] = self.auth
        if self.version:
            h["X-Experience-API-Version"] = self.version
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        return self.client.open(path, method=method, headers=h, **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)


def make_credential(app, scopes=ALL_SCOPES, name="test"):
    cred = creds.create(app.extensions["lrs.engine"], name, scopes)
    return cred


@pytest.fixture
def credential(app):
    return make_credential(app)


@pytest.fixture
def xapi(app, credential):
    return XAPIClient(app.test_client(), basic(credential["key"], credential["secret"]))


@pytest.fixture
def xapi2(app, credential):
    return XAPIClient(app.test_client(), basic(credential["key"], credential["secret"]), version="2.0.0")


@pytest.fixture
def client_for(app):
    """A client with its own credential and scopes: client_for("statements/read/mine")."""
    def make(*scopes, version="1.0.3"):
        cred = make_credential(app, scopes or ALL_SCOPES, name="-".join(scopes) or "all")
        return XAPIClient(app.test_client(), basic(cred["key"], cred["secret"]), version)
    return make
