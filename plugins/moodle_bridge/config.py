"""The bridge's settings: a YAML file (optional), then the environment (MOODLE_BRIDGE_<NAME>) over it.

    lrs_url: https://lrs.helse.example.no/xapi      # the LRS's xAPI endpoint
    lrs_key: ...                                    # a credential with statements/write, statements/read, profile
    lrs_secret: ...
    site_url: https://moodle.helse.example.no       # Moodle's $CFG->wwwroot: ids of courses, modules and accounts
    actor_id: username                              # or idnumber: which user field names the xAPI account
    actor_home_page: https://id.helse.example.no    # the account's homePage (default site_url): with idnumber =
                                                    # employee id, the LRS's IDENTITY_HOMEPAGE links employees
    log_db_url: postgresql+psycopg://reader@db/moodle   # or mysql+pymysql://reader@db/moodle (read-only user)
    table_prefix: mdl_
    batch_size: 500                                 # log rows read (and statements sent) at a time
    max_rows_per_second: 0                          # 0: no cap
    pause_seconds: 0                                # rest between batches, so Moodle's database is not crowded
    concurrency: 2                                  # batches in flight to the LRS at once
    source: log                                     # or webservice: Moodle's Web Services instead of its database
    ws_token: ...                                   # webservice: the bridge user's token (docs/moodle.md)
    ws_per_second: 5                                # webservice: most calls a second
    competence_map: {HLR-2024: [HLR], 42: [SMITTE]} # course idnumber (or id) -> competence codes (`map`)

Bad settings raise ConfigError with a message that names the setting and what is wrong."""
import dataclasses
import os
import re
from urllib.parse import urlsplit

import yaml

ENV_PREFIX = "MOODLE_BRIDGE_"
# The LRS takes at most this many statements in one POST (its MAX_BATCH default).
LARGEST_BATCH = 1000


class ConfigError(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Settings:
    lrs_url: str
    lrs_key: str
    lrs_secret: str
    site_url: str
    log_db_url: str = ""
    actor_id: str = "username"
    table_prefix: str = "mdl_"
    batch_size: int = 500
    max_rows_per_second: float = 0.0
    pause_seconds: float = 0.0
    # Batches sent to the LRS at once (the checkpoint still advances in log order).
    concurrency: int = 2
    # Like logstore_xapi's send_name: the user's full name beside the account.
    send_name: bool = True
    # Language of names when a course forces none (logstore_xapi uses "en").
    lang: str = "en"
    lrs_timeout: float = 60.0
    # homePage of the actors' accounts; empty: site_url. The LRS's IDENTITY_HOMEPAGE, with actor_id idnumber holding
    # the employee id, makes every Moodle record an employee's at once.
    actor_home_page: str = ""
    # Which way in: "log" (Moodle's standard log, read from its database) or "webservice" (REST, a token).
    source: str = "log"
    ws_token: str = ""
    ws_per_second: float = 5.0
    # Moodle course (id, or idnumber) -> competence codes its completion proves (plugins/moodle_bridge/mapping.py).
    competence_map: dict = dataclasses.field(default_factory=dict)


REQUIRED = ("lrs_url", "lrs_key", "lrs_secret", "site_url")
SOURCES = {"log": "log_db_url", "webservice": "ws_token"}  # each way in, and the setting it cannot do without
_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
# Drivers the bridge is built and tested with; the bare dialect names mean these.
_DRIVERS = {"postgresql": "postgresql+psycopg", "postgresql+psycopg": "postgresql+psycopg",
            "mysql": "mysql+pymysql", "mysql+pymysql": "mysql+pymysql", "mariadb": "mysql+pymysql",
            "mariadb+pymysql": "mysql+pymysql"}


def load(path: str | None = None, environ=None) -> Settings:
    environ = os.environ if environ is None else environ
    raw = {}
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                raw = yaml.safe_load(f) or {}
        except OSError as e:
            raise ConfigError(f"cannot read the settings file {path}: {e.strerror}")
        except yaml.YAMLError as e:
            raise ConfigError(f"the settings file {path} is not valid YAML: {e}")
        if not isinstance(raw, dict):
            raise ConfigError(f"the settings file {path} must be a mapping of setting: value")
        unknown = sorted(set(raw) - set(_FIELDS))
        if unknown:
            raise ConfigError(f"unknown setting(s) in {path}: {', '.join(unknown)} "
                              f"(known: {', '.join(_FIELDS)})")
    for name in _FIELDS:
        if ENV_PREFIX + name.upper() in environ:
            raw[name] = environ[ENV_PREFIX + name.upper()]
    return from_mapping(raw)


def from_mapping(raw: dict) -> Settings:
    source = raw.get("source") or "log"
    if source not in SOURCES:
        raise ConfigError(f"source must be {' or '.join(SOURCES)}, not {source!r}")
    missing = [n for n in (*REQUIRED, SOURCES[source]) if raw.get(n) in (None, "")]
    if missing:
        raise ConfigError("missing setting(s): " + ", ".join(
            f"{n} (or {ENV_PREFIX}{n.upper()})" for n in missing))
    values = {name: _typed(name, value) for name, value in raw.items()}
    for name in ("lrs_url", "site_url", "actor_home_page"):
        if name == "actor_home_page" and not values.get(name):
            continue
        parts = urlsplit(values[name])
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{name} must be an http(s) URL, not {values[name]!r}")
        values[name] = values[name].rstrip("/")
    if values.get("log_db_url"):
        values["log_db_url"] = _driver_url(values["log_db_url"])
    if values.get("actor_id", "username") not in ("username", "idnumber"):
        raise ConfigError(f"actor_id must be 'username' or 'idnumber', not {values['actor_id']!r}")
    if not re.fullmatch(r"[a-z0-9_]*", values.get("table_prefix", "mdl_")):
        raise ConfigError(f"table_prefix may hold only a-z, 0-9 and _, not {values['table_prefix']!r}")
    if not 1 <= values.get("batch_size", 500) <= LARGEST_BATCH:
        raise ConfigError(f"batch_size must be 1 to {LARGEST_BATCH} (the LRS takes at most {LARGEST_BATCH} "
                          f"statements per request), not {values['batch_size']}")
    if not 1 <= values.get("concurrency", 2) <= 8:
        raise ConfigError(f"concurrency must be 1 to 8, not {values['concurrency']}")
    for name in ("max_rows_per_second", "pause_seconds"):
        if values.get(name, 0) < 0:
            raise ConfigError(f"{name} cannot be negative")
    return Settings(**values)


def _typed(name: str, value):
    kind = _FIELDS[name].type
    try:
        if kind is bool and isinstance(value, str):
            if value.lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise ValueError
            return value.lower() in ("1", "true", "yes")
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be {kind.__name__}, not {value!r}")


def _driver_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in _DRIVERS:
        raise ConfigError(f"log_db_url must be postgresql+psycopg://… or mysql+pymysql://… (Moodle's database), "
                          f"not {url.split('@')[-1]!r}")
    return _DRIVERS[scheme] + "://" + rest
