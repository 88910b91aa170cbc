"""Errors as people read them: a page in the user's language that says what happened and offers a way back (400,
403, 404, 405, 413, 429, 500 …). The APIs keep answering JSON: /xapi/ through the xAPI's own handler, which gets
the first say, and /api/ and /cmi5/ (whose blueprints have handlers of their own for what reaches them) here."""
import logging
from urllib.parse import urlsplit

import psycopg
import sqlalchemy.exc
from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from lrs.xapi.errors import error_response

log = logging.getLogger(__name__)
API_PREFIXES = ("/xapi/", "/api/", "/cmi5/")


def _texts(code: int) -> tuple[str, str]:
    """(title, what to do) for a status code."""
    texts = {
        400: (_("Noe i forespørselen var feil"),
              _("Siden fikk noe den ikke kunne bruke. Gå tilbake, sjekk det du fylte ut, og prøv igjen.")),
        401: (_("Du må logge inn"), _("Logg inn og prøv igjen.")),
        403: (_("Du har ikke tilgang til denne siden"),
              _("Siden krever en tilgang du ikke har. Spør lederen din eller en administrator om du trenger den.")),
        404: (_("Fant ikke siden"),
              _("Adressen kan være skrevet feil, eller det du ser etter finnes ikke lenger.")),
        405: (_("Dette kan ikke gjøres her"), _("Gå tilbake og bruk knappene på siden.")),
        413: (_("Filen er for stor"), _("Gå tilbake og velg en mindre fil.")),
        429: (_("For mange forsøk"), _("Vent litt og prøv igjen.")),
        500: (_("Noe gikk galt hos oss"),
              _("Feilen er logget. Prøv igjen om litt; hvis det fortsatt ikke virker, kontakt brukerstøtte.")),
        503: (_("Tjenesten er midlertidig utilgjengelig"), _("Prøv igjen om noen sekunder.")),
    }
    return texts.get(code) or texts[500 if code >= 500 else 400]


def page(e: HTTPException):
    """The error page for a person: the title and what to do, a message of our own when the view gave one (an
    abort with a description in words), and links back."""
    code = e.code or 500
    title, advice = _texts(code)
    detail = None
    if isinstance(e, CSRFError):
        detail = _("Skjemaet var utløpt eller manglet sikkerhetskoden sin. Last siden på nytt og send det igjen.")
    elif e.description and e.description != type(e).description and code < 500:
        detail = e.description  # written by our views, in words and in the user's language
    back = request.referrer  # a page of this site other than this one
    if not back or not back.startswith(request.host_url) or urlsplit(back).path == request.path:
        back = None
    # The language link leads to the front page: back to a refused or missing page would only say so again.
    return render_template("errors/error.html", code=code, title=title, advice=advice, detail=detail,
                           back=back, lang_next=url_for("web.home")), code, _kept_headers(e)


def _kept_headers(e: HTTPException) -> dict:
    return {k: v for k, v in (e.get_headers() or []) if k.lower() in ("allow", "retry-after")}


def _is_api() -> bool:
    return request.path.startswith(API_PREFIXES) or request.path in ("/xapi", "/api", "/cmi5")


def init_app(app):
    # The xAPI registers an app-wide handler for its unknown paths and methods; it answers first, and returns the
    # exception itself for paths that are not its own.
    earlier = app.error_handler_spec[None][None].get(HTTPException)

    @app.errorhandler(HTTPException)
    def _http_error(e):
        if earlier is not None:
            answer = earlier(e)
            if answer is not e:
                return answer
        if _is_api():
            return error_response(e.code, e.description, _kept_headers(e))
        if isinstance(e, InternalServerError) and e.original_exception is not None:
            log.error("error page for an unhandled exception", exc_info=e.original_exception)
        return page(e)

    # A database outage: the xAPI's handler says so in JSON with Retry-After (and re-raises a bug); a person gets
    # the page saying to try again in a few seconds.
    for kind in (sqlalchemy.exc.SQLAlchemyError, psycopg.OperationalError):
        outage = app.error_handler_spec[None][None].get(kind)
        if outage is not None:
            app.register_error_handler(kind, _outage_page(outage))


def _outage_page(outage):
    def answer(e):
        response = outage(e)  # re-raises what is no outage (a bug: 500)
        if _is_api():
            return response
        html, code, _headers = page(ServiceUnavailable())
        return html, code, {k: v for k, v in response.headers.items() if k.lower() == "retry-after"}
    return answer
