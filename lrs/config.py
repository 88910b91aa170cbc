"""Settings: the environment first, then the instance file (instance/lrs.cfg), then these defaults.

Every setting is named LRS_<NAME> in the environment and <NAME> in Flask's config."""
import os

DEFAULTS = {
    # SQLite in the instance folder when unset; PostgreSQL: postgresql+psycopg://user@host/db
    "DATABASE_URL": None,
    "SECRET_KEY": None,
    # Largest request body accepted (bytes); larger requests get 413.
    "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
    # Most statements accepted in one POST; larger batches get 413.
    "MAX_BATCH": 1000,
    # Largest State / Activity Profile / Agent Profile document kept (bytes, also after a JSON merge); larger: 413.
    "DOCUMENT_MAX_BYTES": 1024 * 1024,
    # Most statements returned on one page of a query.
    "MAX_PAGE": 500,
    "DEFAULT_PAGE": 100,
    # Seconds a write may take to commit; X-Experience-API-Consistent-Through lags "now" by this.
    "CONSISTENCY_WINDOW": 2.0,
    # Seconds a verified credential is trusted before it is looked up again (revocation delay).
    "CREDENTIAL_CACHE_SECONDS": 5.0,
    # The trust's identity provider: homePage of the xAPI account that is each employee (name = employee id).
    "IDENTITY_HOMEPAGE": "https://id.helse.example.no",
    # Run the scheduled jobs (lrs/scheduler.py) in this process. `lrs run` workers do; tests start them by hand.
    "SCHEDULER": False,
    # cmi5: base of the activity ids the LMS makes for imported courses, blocks and AUs (cmi5 8.1.5, 9.4).
    "CMI5_ID_BASE": "https://lrs.helse.example.no/cmi5",
}



def _coerce(name: str, value: str):
    """An environment string as the type of the setting's default (int, float, bool; else the string)."""
    default = DEFAULTS[name]
    if isinstance(default, bool):
        return value.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, (int, float)):
        return type(default)(value)
    return value


def load(app, test_config=None):
    app.config.update(DEFAULTS)
    app.config.from_pyfile("lrs.cfg", silent=True)
    for name in DEFAULTS:
        value = os.environ.get("LRS_" + name)
        if value is not None:
            app.config[name] = _coerce(name, value)
    if test_config:
        app.config.update(test_config)
    if not app.config["DATABASE_URL"]:
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["DATABASE_URL"] = "sqlite:///" + os.path.join(app.instance_path, "lrs.db")
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(app.instance_path)


def _instance_secret(instance_path):
    """A random key kept in the instance folder, so sessions survive restarts without setup."""
    path = os.path.join(instance_path, "secret_key")
    os.makedirs(instance_path, exist_ok=True)
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        pass
    key = os.urandom(32).hex()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        with open(path) as f:
            return f.read().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key
