"""Who is asking: HTTP Basic credentials with xAPI scopes."""
from functools import wraps

from flask import current_app, g, request

from lrs.xapi.errors import XAPIError

_CHALLENGE = {"WWW-Authenticate": 'Basic realm="kompetanse-lrs"'}


def authenticate(scope: str | None = None):
    """The request's credential in g.credential, or 401; with `scope`, 403 unless the credential has it."""
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username or auth.password is None:
        raise XAPIError(401, "send a credential with HTTP Basic authentication", _CHALLENGE)
    cred = current_app.extensions["lrs.verifier"].verify(auth.username, auth.password)
    if cred is None:
        raise XAPIError(401, "the credential is unknown, revoked or its secret is wrong", _CHALLENGE)
    g.credential = cred  # also for a refusal's log line
    if scope and not cred.allows(scope):
        raise XAPIError(403, f"this credential lacks the scope {scope}")


def require(*scopes):
    """The view needs one of these scopes ('all' always does)."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not g.credential.allows(*scopes):
                raise XAPIError(403, f"this credential lacks the scope for this request (one of: {', '.join(scopes)})")
            return view(*args, **kwargs)
        return wrapper
    return decorate
