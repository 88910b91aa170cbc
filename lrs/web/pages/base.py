"""What every page module shares: the `web` blueprint (one, so endpoints stay `web.<view>`), the template helpers,
the app's engine and competence settings, and the status labels."""
from flask import Blueprint, abort, current_app
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from lrs import principal
from lrs.competence import evidence
from lrs.store.db import transaction
from lrs.store.types import utcnow
from lrs.web import LANGUAGES, current_language

# Named after lrs.web, so its templates and static files are those of lrs/web.
bp = Blueprint("web", "lrs.web", template_folder="templates", static_folder="static", static_url_path="/static/web")


def status_labels() -> dict[str, str]:
    """Each status as the reader reads it (made once per page: a matrix has tens of thousands of cells)."""
    return {"fulfilled": _("Oppfylt"), "expiring": _("Går snart ut"), "expired": _("Utløpt"),
            "missing": _("Mangler"), "awaiting_attestation": _("Venter på attestering"),
            "not_yet_due": _("Ikke forfalt ennå"), "not_required": _("Ikke lenger påkrevd"),
            "closed": _("Avsluttet")}


@bp.app_context_processor
def _helpers():
    lang = current_language()  # Babel's locale too: the page's text, its <html lang> and the names agree
    return {"status_label": status_labels().__getitem__, "who": principal.current(), "lang": lang, "languages": LANGUAGES,
            "name_of": name_of, "long_day": long_day,
            "attestations_waiting": _attestations_waiting}


def name_of(thing: dict) -> str:
    """A competence's (or role's) name in the page's language: name_en or name_nb."""
    return thing["name_en"] if current_language() == "en" else thing["name_nb"]


def long_day(day) -> str:
    """A day as people write it: "15. januar" this year, "15. januar 2027" another year ("January 15" in en)."""
    if day is None:
        return ""
    this_year = day.year == today().year
    if str(get_locale()).startswith("en"):
        return format_date(day, "MMMM d" if this_year else "MMMM d, y")
    return format_date(day, "d. MMMM" if this_year else "d. MMMM y")


def _attestations_waiting() -> int:
    """How much registered evidence waits for the signed-in leader's (or admin's) attestation: the menu's count,
    asked for by the template only when it shows the leader's menu entry (one count query)."""
    with transaction() as conn:
        return evidence.waiting_count(conn, principal.current())


def own_employee_id() -> str:
    """The signed-in user's employee id, for the pages of one's own records: 404 for an account that is nobody's."""
    employee_id = principal.current().employee_id
    if not employee_id:
        abort(404)
    return employee_id


def settings():
    return current_app.extensions["competence.settings"]


def today():
    return settings().day(utcnow())
