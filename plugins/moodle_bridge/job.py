"""The bridge inside the LRS's own app: when LRS_MOODLE_BRIDGE_CONFIG names a bridge settings file, a scheduled
job (lrs/scheduler.py: once per slot across all instances) keeps the course -> competence mapping and runs one
sync every 15 minutes (LRS_JOB_SECONDS=moodle_bridge.sync=N to change it), by the way in the settings name
(log or webservice).

It talks to this LRS as any client does, through its HTTP API, handed to the app in-process (as simulation/lrs.py
does), with a credential of its own kept in the instance folder: every statement passes the LRS's validation and
authorisation. The settings' lrs_url, lrs_key and lrs_secret are not needed here and are ignored."""
import base64
import logging
import os

from lrs.scheduler import job
from lrs.store import credentials as creds
from plugins.moodle_bridge import config, lrs, mapping, sync, websync
from plugins.moodle_bridge.logstore import Moodle

log = logging.getLogger(__name__)
JOB_ID = "moodle_bridge.sync"
SCOPES = ("statements/write", "statements/read", "profile", "competence/rules")


def init_app(app):
    job(JOB_ID, seconds=900)(run)


def run(app):
    """One round: the mapping, then a sync. A run that fails is recorded by the scheduler and tried next slot."""
    path = app.config["MOODLE_BRIDGE_CONFIG"]
    if not path:
        return None  # registered by another app in this process
    key, secret = own_credential(app)
    settings = config.load(path, {**os.environ, config.ENV_PREFIX + "LRS_URL": app.config["PUBLIC_URL"] + "/xapi",
                                  config.ENV_PREFIX + "LRS_KEY": key, config.ENV_PREFIX + "LRS_SECRET": secret})
    send = _in_process(app, key, secret)
    ws = websync.web_service(settings) if settings.ws_token else None
    mapping_failed = None
    if settings.competence_map:
        try:
            mapping.apply(settings, mapping.RulesAPI(send), ws)
        except (mapping.MappingError, lrs.Refused) as e:  # a mapping to fix must not hold up the records
            mapping_failed = e
    xapi_lrs = lrs.LRS(lambda method, path_, body, headers: send(method, "/xapi" + path_, body, headers))
    if settings.source == "webservice":
        summary = websync.run(settings, ws, xapi_lrs)
    else:
        summary = sync.run(settings, Moodle(settings.log_db_url, settings.table_prefix), xapi_lrs)
    log.info("moodle bridge: %s", summary.line())
    if mapping_failed:  # synced, but the run is recorded as failed, with what is wrong in the mapping
        raise mapping_failed
    return summary


def _in_process(app, key, secret):
    """send(method, path, body, headers) for a path below the LRS's root, answered by the app itself."""
    auth = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()

    def send(method, path, body, headers):
        # A client per request: the log path sends batches from several threads at once.
        r = app.test_client().open(path, method=method, data=body, headers={**headers, "Authorization": auth})
        return r.status_code, r.headers, r.get_data()
    return send


def own_credential(app) -> tuple[str, str]:
    """The bridge's credential in this LRS, made on first use and kept in the instance folder, so every instance
    and restart uses the same one (per database, like simulation/'s)."""
    return creds.kept_in_instance(app, "moodle-bridge", "Moodle bridge (in-app)", SCOPES)
