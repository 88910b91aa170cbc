"""kompetanse-lrs: an xAPI Learning Record Store for the regional health trusts."""
from flask import Flask

from lrs import config


def create_app(test_config: dict | None = None) -> Flask:
    # The instance folder holds lrs.cfg, the SQLite file and generated secrets (LRS_INSTANCE_PATH in a container).
    app = Flask(__name__, instance_relative_config=True, instance_path=config.instance_path())
    config.load(app, test_config)

    from lrs.store.credentials import Verifier
    from lrs.store.db import make_engine
    from lrs.xapi import bp as xapi_bp
    from lrs.xapi.alternate import AlternateRequestSyntax
    from lrs.xapi.errors import Request
    from lrs.xapi.paths import XAPIPaths

    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["lrs.engine"] = engine
    app.extensions["lrs.verifier"] = Verifier(engine, app.config["CREDENTIAL_CACHE_SECONDS"])
    app.register_blueprint(xapi_bp)
    app.request_class = Request  # request.get_json under LRS_JSON_MAX_DEPTH too
    app.wsgi_app = XAPIPaths(AlternateRequestSyntax(app.wsgi_app, max_body=app.config["MAX_CONTENT_LENGTH"]))
    if app.config["TRUSTED_PROXIES"]:  # the client address and scheme as the trusted proxies saw them
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    from lrs import (capacity, cmi5, competence, lti, ops, personal, plugins, portal, privacy, programmes, registry,
                     scheduler, web)
    app.extensions["lrs.registry"] = registry.Registry()  # this app's jobs and hooks, filled by each init_app
    registry.of(app).sessionless_paths.append(xapi_bp.url_prefix + "/")
    personal.declare(app, personal.CORE)  # the store's and the scheduler's personal data (they have no init_app)
    ops.init_app(app)
    competence.init_app(app)
    cmi5.init_app(app)
    portal.init_app(app)
    programmes.init_app(app)
    capacity.init_app(app)
    plugins.init_app(app)  # simulation/, the Moodle bridge's job: entry points (lrs/plugins.py)
    web.init_app(app)
    lti.init_app(app)  # after web: its pages and session cookie
    privacy.init_app(app)

    from lrs import cli
    cli.register(app)
    if app.config["SCHEDULER"]:
        scheduler.start(app)
    return app
