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
    # Deepest nesting of objects and arrays in a JSON body (statements, documents, the JSON APIs); deeper: 400.
    # At most 200: the JSON encoder stops at 255 levels.
    "JSON_MAX_DEPTH": 64,
    # Voiding statements: "own" lets a credential void only statements it stored itself, unless it holds the scope
    # statements/void/any (or all); "permissive" lets any credential that writes statements void any (the xAPI spec).
    "VOIDING": "own",
    # Largest State / Activity Profile / Agent Profile document kept (bytes, also after a JSON merge); larger: 413.
    "DOCUMENT_MAX_BYTES": 1024 * 1024,
    # Most statements returned on one page of a query.
    "MAX_PAGE": 500,
    "DEFAULT_PAGE": 100,
    # xAPI version of the answers to requests that name none in X-Experience-API-Version (refused with 400) and
    # of About and CORS answers without one: 2.0.0 or 1.0.3 (docs/conformance.md).
    "XAPI_DEFAULT_VERSION": "2.0.0",
    # Seconds a write may take to commit; X-Experience-API-Consistent-Through lags "now" by this.
    "CONSISTENCY_WINDOW": 2.0,
    # Seconds a verified credential is trusted before it is looked up again (revocation delay).
    "CREDENTIAL_CACHE_SECONDS": 5.0,
    # The trust's identity provider: homePage of the xAPI account that is each employee (name = employee id).
    "IDENTITY_HOMEPAGE": "https://id.helse.example.no",
    # The competence engine's day starts at midnight here (validity and deadlines are dates).
    "COMPETENCE_TIMEZONE": "Europe/Oslo",
    # PostgreSQL: a gap in statement order older than this is a rolled-back write, not one still in flight.
    "COMPETENCE_GAP_SECONDS": 10.0,
    # A statement timestamped later than it was stored counts from when it was stored; beyond this many seconds
    # (clocks differ a little) the evidence is marked as having a timestamp in the future.
    "COMPETENCE_CLOCK_SKEW_SECONDS": 300.0,
    # E-mail reminders (expiring, overdue) and the leaders' weekly digest. No SMTP_HOST: none are sent.
    "SMTP_HOST": "",
    "SMTP_PORT": 25,
    "SMTP_STARTTLS": False,
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "SMTP_FROM": "kompetanse@helse.example.no",
    # Link to the web UI in e-mails.
    "PUBLIC_URL": "http://127.0.0.1:8080",
    # Portal push (docs/portal.md). A webhook: HTTPS URL and the shared secret its HMAC signature uses.
    "PORTAL_WEBHOOK_URL": "",
    "PORTAL_WEBHOOK_SECRET": "",
    # An LRS to forward the changes to as xAPI statements: its xAPI endpoint and a credential.
    "PORTAL_XAPI_URL": "",
    "PORTAL_XAPI_KEY": "",
    "PORTAL_XAPI_SECRET": "",
    # Seconds to wait for the portal; attempts before a change is dead-lettered; first retry delay (doubles).
    "PORTAL_TIMEOUT": 10.0,
    "PORTAL_MAX_ATTEMPTS": 12,
    "PORTAL_BACKOFF_SECONDS": 5.0,
    # Changes sent per connector per job run (the job runs every few seconds).
    "PORTAL_BATCH": 500,
    # Changes sent side by side (never two of one employee at once).
    "PORTAL_CONCURRENCY": 4,
    # Web sign-in. Cookies are marked Secure when PUBLIC_URL is https (or set this to true/false).
    "WEB_SECURE_COOKIES": "",
    # A session ends after this many hours without use.
    "SESSION_HOURS": 8,
    # Failed sign-ins allowed per user name and client address, counted in the database across workers and
    # instances; then that pair waits until the oldest failure is out of the window.
    "LOGIN_RATE_LIMIT": "10 per minute",
    # Reverse proxies in front of the app that set X-Forwarded-For/-Proto (the client address comes from them);
    # 0: none, the socket peer is the client.
    "TRUSTED_PROXIES": 0,
    # Who may frame the pages (CSP frame-ancestors): 'none', or e.g. "'self' https://moodle.helse.example.no".
    "FRAME_ANCESTORS": "'none'",
    # LTI 1.3 tool (docs/lti.md): hours a rotated-out key stays in the key set; the launch claim that names the
    # person for a new platform (a claim name, "claim#key" for one key of an object claim) and what it matches.
    "LTI_KEY_GRACE_HOURS": 24,
    "LTI_MATCH_CLAIM": "https://purl.imsglobal.org/spec/lti/claim/lis#person_sourcedid",
    "LTI_MATCH_FIELD": "employee_id",
    # Other origins whose pages may write to the cookie-signed-in JSON APIs (space-separated).
    "ALLOWED_ORIGINS": "",
    # OpenID Connect (HelseID / Entra ID style): the issuer's discovery URL, the client, and the claim matched to
    # an account's user name (or to its employee id, with OIDC_MATCH=employee_id).
    "OIDC_DISCOVERY_URL": "",
    "OIDC_CLIENT_ID": "",
    "OIDC_CLIENT_SECRET": "",
    "OIDC_CLAIM": "preferred_username",
    "OIDC_MATCH": "username",
    # The LRS simulation/ sends to: empty means this one (in-process); else an xAPI endpoint and a credential.
    "SIMULATION_LRS_URL": "",
    "SIMULATION_LRS_KEY": "",
    "SIMULATION_LRS_SECRET": "",
    # Logs: "json" (one object per line on stderr, with request ids) or "plain" (Python's default).
    "LOG_FORMAT": "json",
    "LOG_LEVEL": "INFO",
    # /metrics answers "Authorization: Bearer <this>", or a loopback socket peer that came through no proxy.
    "METRICS_TOKEN": "",
    # Run the scheduled jobs (lrs/scheduler.py) in this process. `lrs run` workers do; tests start them by hand.
    "SCHEDULER": False,
    # Job intervals other than the defaults, in seconds: "competence.expiry=3600,portal.deliver=10".
    "JOB_SECONDS": "",
    # cmi5: base of the activity ids the LMS makes for imported courses, blocks and AUs (cmi5 8.1.5, 9.4).
    "CMI5_ID_BASE": "https://lrs.helse.example.no/cmi5",
    # Privacy (docs/privacy.md): the raw statements of people who left are deleted this many days after their last
    # day, by a daily job. 0: kept (no retention job runs).
    "RETENTION_DAYS_AFTER_LEAVING": 0,
    # An erased person becomes an xAPI account on this homePage, named by a random pseudonym.
    "PSEUDONYM_HOMEPAGE": "https://pseudonym.helse.example.no",
    # The Moodle bridge in this app (docs/moodle.md): its settings file (empty: not run here). It syncs every 15
    # minutes (JOB_SECONDS: moodle_bridge.sync=N).
    "MOODLE_BRIDGE_CONFIG": "",
    # `lrs run`: seconds a request may take to arrive once its first byte has (408 after; lrs/serve.py).
    "REQUEST_SECONDS": 10.0,
}



def _coerce(name: str, value: str):
    """An environment string as the type of the setting's default (int, float, bool; else the string)."""
    default = DEFAULTS[name]
    if isinstance(default, bool):
        return value.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, (int, float)):
        return type(default)(value)
    return value


def instance_path() -> str | None:
    """The instance folder (lrs.cfg, the SQLite file, secrets): LRS_INSTANCE_PATH, else Flask's default."""
    return os.environ.get("LRS_INSTANCE_PATH") or None


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
