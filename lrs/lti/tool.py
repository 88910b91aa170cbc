"""pylti1p3 (the pylti1p3next fork) on this tool's database: the platform registrations, the flow values (state and
nonce, each used once, kept on the server rather than in a third-party cookie that a framed launch may not get),
and the launch validation the library does (signature against the platform's key set, issuer and audience, expiry,
deployment, message shape)."""
import time
import typing as t

from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.deployment import Deployment
from pylti1p3.exception import LtiException
from pylti1p3.launch_data_storage.base import LaunchDataStorage
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector
from pylti1p3.tool_config import ToolConfAbstract

from lrs.lti import service

FLOW_SECONDS = 600  # an OIDC login must come back within this
KEPT_LAUNCH_SECONDS = 3600
KEY_SET_SECONDS = 300


class LaunchRefused(LtiException):
    pass


class DbStorage(LaunchDataStorage):
    """The library's launch data on this tool's database, on the caller's connection. A nonce or state is taken
    (deleted) when checked, so each is good for one launch."""

    def __init__(self, conn):
        super().__init__()
        self.conn = conn

    def get_session_cookie_name(self):
        return None  # no per-browser prefix: the state and nonce are random and single-use

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key):
        return service.get_value(self.conn, self._prepare_key(key))

    def set_value(self, key, value, exp=None):
        key = self._prepare_key(key)
        if key.startswith("lti1p3-key-set-url-"):
            seconds = exp or KEY_SET_SECONDS  # the platform's key set, cached
        elif key.startswith("lti1p3-launch-"):
            seconds = KEPT_LAUNCH_SECONDS  # a deep-linking launch, until the author has chosen
        else:
            seconds = FLOW_SECONDS  # a state or nonce: the login must come back within this
        service.put_value(self.conn, key, value, seconds)

    def check_value(self, key) -> bool:
        return service.take_value(self.conn, self._prepare_key(key)) is not None


class _Registration(Registration):
    platform: dict

    def get_kid(self):
        return self._kid

    def get_jwks(self):
        return self._jwks


class DbToolConf(ToolConfAbstract):
    """The registrations in lti_platforms: one issuer may have several client ids (several Moodle tools)."""

    def __init__(self, conn, grace_hours: float = 24):
        self.conn = conn
        self.grace_hours = grace_hours

    def check_iss_has_one_client(self, iss):
        return False

    def check_iss_has_many_clients(self, iss):
        return True

    def registration(self, p: dict) -> _Registration | None:
        if not p or not all(p[k] for k in ("issuer", "client_id", "auth_login_url", "key_set_url")):
            return None  # a registration whose platform values are not all entered yet
        key = service.signing_key(self.conn, p["id"])
        reg = _Registration()
        reg.platform = p
        reg.set_issuer(p["issuer"]).set_client_id(p["client_id"]).set_auth_login_url(p["auth_login_url"]) \
            .set_auth_token_url(p["auth_token_url"]).set_key_set_url(p["key_set_url"])
        if p["auth_audience"]:
            reg.set_auth_audience(p["auth_audience"])
        reg.set_tool_private_key(key["private_pem"]).set_tool_public_key(key["public_pem"])
        reg._kid = key["kid"]
        reg._jwks = service.key_set(self.conn, p["id"], self.grace_hours)["keys"]
        return reg

    def find_registration_by_issuer(self, iss, *args, **kwargs):
        return self.registration(service.find_platform(self.conn, iss, None))

    def find_registration_by_params(self, iss, client_id, *args, **kwargs):
        return self.registration(service.find_platform(self.conn, iss, client_id))

    def find_deployment(self, iss, deployment_id):
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):
        p = service.find_platform(self.conn, iss, client_id)
        if not p or not deployment_id:
            return None
        known = p["deployment_ids"].split()
        if known and deployment_id not in known:
            return None
        return Deployment().set_deployment_id(deployment_id)


class OIDCLogin(FlaskOIDCLogin):
    """The library's login initiation, with the nonce kept beside the state on the server."""

    def _generate_nonce(self):
        nonce = super()._generate_nonce()
        self._state_params = {"nonce": nonce}
        return nonce


class MessageLaunch(FlaskMessageLaunch):
    """The library's launch validation, with the state checked against the server's record of the login (used
    once, and its nonce must be the id_token's) when the browser did not bring the state cookie back, as in a
    cross-site iframe."""

    _login_nonce: str | None = None

    def validate_state(self):
        state = self._get_request_param("state")
        if not state:
            raise LaunchRefused("Missing state param")
        params = service.take_value(self._session_service.data_storage.conn, "lti1p3-" + state)
        if params is None:
            raise LaunchRefused("State not found: the login was not started here, has expired, or was used")
        self._login_nonce = params.get("nonce")
        return self

    def validate_nonce(self):
        nonce = self._get_jwt_body().get("nonce")
        if not nonce or nonce != self._login_nonce:
            raise LaunchRefused("The nonce is not the one this login was given")
        return super().validate_nonce()

    def save_launch_data(self):
        return self  # kept only when needed (deep linking), by keep()

    def keep(self) -> str:
        """Keeps the validated launch (KEPT_LAUNCH_SECONDS) for a later step (the deep-linking answer)."""
        self._session_service.save_launch_data(self._launch_id, self._jwt["body"])
        return self._launch_id

    @property
    def registration(self) -> _Registration:
        return self._registration


def request_adapter(form: t.Mapping | None = None) -> FlaskRequest:
    return FlaskRequest(session={}, request_data=form)


def oidc_login(conn, grace_hours) -> OIDCLogin:
    storage = DbStorage(conn)
    return OIDCLogin(request_adapter(), DbToolConf(conn, grace_hours), launch_data_storage=storage)


def message_launch(conn, grace_hours) -> MessageLaunch:
    storage = DbStorage(conn)
    launch = MessageLaunch(request_adapter(), DbToolConf(conn, grace_hours), launch_data_storage=storage)
    launch.set_public_key_caching(storage, cache_lifetime=KEY_SET_SECONDS)
    return launch


def restored_launch(conn, launch_id: str, grace_hours) -> MessageLaunch:
    storage = DbStorage(conn)
    return MessageLaunch.from_cache(launch_id, request_adapter(), DbToolConf(conn, grace_hours),
                                    launch_data_storage=storage)


class Connector(ServiceConnector):
    """The library's service connector (OAuth 2 client credentials with a signed assertion), its access tokens kept
    in this process per platform, client and scopes until they expire."""

    _tokens: dict = {}

    def _key(self, scope_key):
        return (self._registration.get_issuer(), self._registration.get_client_id(), scope_key)

    def _get_cached_access_token(self, scope_key):
        token, until = self._tokens.get(self._key(scope_key), (None, 0))
        return token if until > time.monotonic() else None

    def _cache_access_token(self, scope_key, access_token, expires_in):
        self._tokens[self._key(scope_key)] = (access_token, time.monotonic() + float(expires_in or 0) - 30)


def connector(conn, p: dict, grace_hours) -> ServiceConnector:
    """A service connector for AGS and NRPS calls on the platform's behalf."""
    reg = DbToolConf(conn, grace_hours).registration(p)
    if reg is None:
        raise LaunchRefused(f"the platform {p.get('name')} has no issuer yet")
    return Connector(reg)
