"""The LRS as simulation/ sees it: its HTTP APIs (xAPI, and the employee directory), through `xapi_client`.

Remote (LRS_SIMULATION_LRS_URL set): HTTP with a credential (LRS_SIMULATION_LRS_KEY/SECRET).
In the LRS's own app (the default): the same requests, handed to the app's WSGI application in-process, with a
credential of its own that the LRS keeps in its instance folder (the plugin host's `credential`). Either way every
statement passes the LRS's validation, authorisation and atomic batch write, exactly as for any other client."""
import xapi_client
from xapi_client import Refused, Unreachable  # noqa: F401  (what the LRS refused, or no answer: for the callers)

# statements/void/any: a correction voids what another instance (with its own kept credential) logged.
SCOPES = ("statements/write", "statements/read", "profile", "define", "competence/directory",
          "statements/void/any")


def for_app(app) -> xapi_client.Client:
    config = app.config
    if config["SIMULATION_LRS_URL"]:
        return xapi_client.connect(config["SIMULATION_LRS_URL"], config["SIMULATION_LRS_KEY"],
                                   config["SIMULATION_LRS_SECRET"], timeout=30)
    return xapi_client.in_process(app, *_own_credential(app))


def _own_credential(app) -> tuple[str, str]:
    """simulation/'s credential in this LRS, remembered for this app."""
    cached = app.extensions.get("simulation.credential")
    if not cached:
        cached = app.extensions["simulation.credential"] = app.extensions["simulation.host"].credential(
            "simulation", "simulation (team-training log)", SCOPES)
    return cached
