"""The two things every page does the same way: check who is asking (`login_required`) and write an admin
action to the audit log (`audit`)."""
from functools import wraps

from flask import abort, redirect, request, url_for

from lrs import principal
from lrs.store.db import transaction
from lrs.web import accounts


def login_required(*roles: str):
    """The view runs for a signed-in person holding one of `roles` (any role when none given); `principal.current()`
    is then who it is. Signed in means a live server-side session: lrs.web's before_request sets the principal only
    for a session not ended (signed out here or everywhere, idle, or the account disabled). Not signed in: to the
    sign-in page and back; signed in without the role: 403."""
    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            who = principal.current()
            if who is None:
                return redirect(url_for("web.login", next=request.path))
            if roles and not who.roles.intersection(roles):
                abort(403)
            return view(*args, **kwargs)
        return guarded
    return decorate


_SIGNED_IN = object()


def audit(action: str, detail: str = "", user_id=_SIGNED_IN) -> None:
    """One line in the audit log: what was done, by the signed-in person (or by `user_id`, None for nobody
    signed in), from which address."""
    if user_id is _SIGNED_IN:
        user_id = who.user_id if (who := principal.current()) else None
    with transaction(write=True) as conn:  # its own, after the view's: called by views outside theirs
        accounts.audit(conn, user_id, action, detail, request.remote_addr)
