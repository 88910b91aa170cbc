"""The LTI 1.3 (LTI Advantage) tool: kompetanse-lrs inside Moodle (docs/lti.md).

Platforms (each trust's Moodle) register by LTI Dynamic Registration or by hand; each has its own keys, in the
database, rotated with `lrs lti rotate-key` and served as a JWKS. A launch (OIDC login, then the signed id_token,
checked by pylti1p3) signs the person in by a configured claim and lands on "Min kompetanseplan" or the leader
overview, framed by that platform or in a new window; Deep Linking places a published cmi5 module in a Moodle course,
whose launch starts the cmi5 session and whose result goes back to the gradebook (AGS, the job `lti.grades`); an
instructor can take a Moodle course's members (NRPS) as a simulation session's participants."""
from flask import g, request, session

from lrs import personal
from lrs.web import SignInSessions
from lrs.lti import tables  # noqa: F401  (its tables on the shared metadata)

FRAMED = "lti_origins"  # in the session cookie of a launched session: the launching platform's origins


class FramedSessionInterface(SignInSessions):
    """The session cookie as lrs.web sets it, except for a session an LTI launch started: that one is sent inside
    the platform's iframe (a cross-site context), so it is SameSite=None; Secure; Partitioned when served over
    HTTPS. (Over plain HTTP, as on a developer's machine, browsers refuse SameSite=None without Secure: it stays
    Lax, which works while the platform and the tool are on the same site.)"""

    @staticmethod
    def _framed(app) -> bool:
        return bool(session.get(FRAMED)) and (request.is_secure or app.config["PUBLIC_URL"].startswith("https://"))

    def get_cookie_samesite(self, app):
        return "None" if self._framed(app) else super().get_cookie_samesite(app)

    def get_cookie_secure(self, app):
        return True if self._framed(app) else super().get_cookie_secure(app)

    def get_cookie_partitioned(self, app):
        return True if self._framed(app) else super().get_cookie_partitioned(app)


def init_app(app) -> None:
    from lrs import scheduler
    from lrs.lti import api, cli, jobs, views
    personal.declare(app, tables.PERSONAL_DATA)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    app.session_interface = FramedSessionInterface()
    scheduler.add(app, "lti.grades", jobs.post_grades, seconds=30)
    app.cli.add_command(cli.lti_group)

    @app.before_request
    def _frame_ancestors():
        # A launched session's pages may be framed by the platform that launched it (and this site), no other.
        if session.get(FRAMED) and g.get("principal"):
            g.frame_ancestors = "'self' " + session[FRAMED]
