"""The bridge inside the LRS's own app: when LRS_MOODLE_BRIDGE_CONFIG names a bridge settings file, a scheduled
job (the LRS's scheduler: once per slot across all instances) keeps the course -> competence mapping and runs one
sync every 15 minutes (LRS_JOB_SECONDS=moodle_bridge.sync=N to change it), by the way in the settings name
(log or webservice).

A plugin of the LRS (entry point "kompetanse_lrs.plugins"): the LRS calls `init_app(app, host)`, and the host
registers the job and keeps the bridge's own credential in the instance folder. The bridge talks to this LRS as any
client does, through its HTTP API (xapi_client), handed to the app's WSGI application in-process: every statement
passes the LRS's validation and authorisation. The settings' lrs_url, lrs_key and lrs_secret are not needed here
and are ignored."""
import logging
import os

import xapi_client
from plugins.moodle_bridge import config, lrs, mapping, sync, websync
from plugins.moodle_bridge.logstore import Moodle

log = logging.getLogger(__name__)
JOB_ID = "moodle_bridge.sync"
SCOPES = ("statements/write", "statements/read", "profile", "competence/rules")


def init_app(app, host):
    if not app.config["MOODLE_BRIDGE_CONFIG"]:  # the bridge runs in the app only when configured (docs/moodle.md)
        return
    app.extensions["moodle_bridge.host"] = host
    host.add_job(JOB_ID, run, seconds=900)


def run(app):
    """One round: the mapping, then a sync. A run that fails is recorded by the scheduler and tried next slot."""
    path = app.config["MOODLE_BRIDGE_CONFIG"]
    if not path or "moodle_bridge.host" not in app.extensions:
        return None  # registered by another app in this process
    key, secret = own_credential(app)
    settings = config.load(path, {**os.environ, config.ENV_PREFIX + "LRS_URL": app.config["PUBLIC_URL"] + "/xapi",
                                  config.ENV_PREFIX + "LRS_KEY": key, config.ENV_PREFIX + "LRS_SECRET": secret})
    xapi_lrs = xapi_client.in_process(app, key, secret)
    ws = websync.web_service(settings) if settings.ws_token else None
    mapping_failed = None
    if settings.competence_map:
        try:
            mapping.apply(settings, xapi_lrs, ws)
        except (mapping.MappingError, lrs.Refused) as e:  # a mapping to fix must not hold up the records
            mapping_failed = e
    if settings.source == "webservice":
        summary = websync.run(settings, ws, xapi_lrs)
    else:
        summary = sync.run(settings, Moodle(settings.log_db_url, settings.table_prefix), xapi_lrs)
    log.info("moodle bridge: %s", summary.line())
    if mapping_failed:  # synced, but the run is recorded as failed, with what is wrong in the mapping
        raise mapping_failed
    return summary


def own_credential(app) -> tuple[str, str]:
    """The bridge's credential in this LRS, made on first use and kept in the instance folder by the LRS, so every
    instance and restart uses the same one (per database, like simulation/'s)."""
    return app.extensions["moodle_bridge.host"].credential("moodle-bridge", "Moodle bridge (in-app)", SCOPES)
