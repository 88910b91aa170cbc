"""The instructor's ways in on the web: a JSON API (/api/simulation/…) and pages (/sim): a form to log a session
fast on a tablet, and my sessions with per-scenario summaries and rating distributions."""
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from lrs import principal
from lrs.csrf import cookie_api
from simulation import catalog, service
from simulation.lrs import Refused, Unreachable
from simulation.sessions import USER_PREFIX, Invalid

api = cookie_api(Blueprint("simulation_api", __name__, url_prefix="/api/simulation"))
pages = Blueprint("simulation", __name__, url_prefix="/sim", template_folder="templates")


def _app():
    return current_app._get_current_object()


def error_response(status: int, message: str):
    """An error as the LRS's APIs give one: {"error": {"code", "message"}}."""
    return jsonify({"error": {"code": status, "message": message}}), status


@api.errorhandler(Invalid)
def _invalid(e):
    status = 404 if isinstance(e, service.NotFound) else 409 if isinstance(e, service.Duplicate) else 400
    return error_response(status, str(e))


@api.errorhandler(Refused)
def _refused(e):
    return error_response(502 if e.status >= 500 else 400, str(e))


@api.errorhandler(Unreachable)
def _unreachable(e):
    return error_response(502, str(e))


@api.before_request
def _instructors_only():
    who = principal.current()
    if who is None:
        return error_response(401, "sign in first")
    if not who.roles.intersection(("instructor", "admin")):
        return error_response(403, "only instructors log sessions")


@api.get("/scales")
def scales():
    return jsonify({s.id: {"name": {"nb": s.name_nb, "en": s.name_en}, "levels": list(s.levels),
                           "items": [{"id": i.id, "nb": i.nb, "en": i.en, "min": i.min, "max": i.max,
                                      "global": i.is_global} for i in s.items.values()]}
                    for s in catalog.scales().values()})


@api.get("/scenarios")
def scenarios():
    return jsonify(list(catalog.scenarios().values()))


@api.post("/sessions")
def log_session():
    return jsonify(service.log(_app(), request.get_json(silent=True) or {})), 201


@api.get("/sessions")
def my_sessions():
    who = principal.current()
    return jsonify(service.mine(_app(), me(who)))


@api.get("/sessions/<session_id>")
def get_session(session_id):
    return jsonify(service.get(_app(), session_id))


@api.put("/sessions/<session_id>")
def correct_session(session_id):
    return jsonify(service.correct(_app(), session_id, request.get_json(silent=True) or {}))


@api.delete("/sessions/<session_id>")
def delete_session(session_id):
    return jsonify(service.delete(_app(), session_id))


# ------------------------------------------------------------------------------------------------ pages

def _instructor():
    who = principal.current()
    if who is None:
        abort(redirect(url_for("web.login", next=request.path)))
    if not who.roles.intersection(("instructor", "admin")):
        abort(403)
    return who


def me(who) -> str:
    """How a signed-in instructor is named as a facilitator: their employee id, or their account when they are no
    employee (an instructor from the simulation centre, say)."""
    return who.employee_id or f"{USER_PREFIX}{who.username}"


@pages.get("/")
def overview():
    who = _instructor()
    docs = service.mine(_app(), me(who))
    return render_template("sim_overview.html", sessions=docs, summaries=service.summaries(docs),
                           scenarios=catalog.scenarios(), lang=_lang())


def _lang() -> str:
    return "en" if str(get_locale() or "nb").startswith("en") else "nb"


ROWS = 4  # participant rows the form starts with; "Flere deltakere" adds more


@pages.route("/new", methods=["GET", "POST"])
def new_session():
    who = _instructor()
    scenario_id = request.values.get("scenario") or next(iter(catalog.scenarios()))
    scenario = catalog.scenarios().get(scenario_id)
    if scenario is None:
        abort(404, _("Ukjent scenario."))
    form = FlaskForm()
    values = request.form if request.method == "POST" else _from_moodle(request.args)
    rows = max(ROWS, _posted_rows(values))
    problems, status = [], 200
    if request.method == "POST" and not form.validate_on_submit():
        abort(400, _("Skjemaet var utløpt. Last siden på nytt og prøv igjen."))
    if request.method == "POST" and request.form.get("action") == "more":
        rows += 2  # more participant rows; what was typed stays
    elif request.method == "POST":
        raw, problems = _from_form(values, scenario, who, rows)
        if not problems:
            try:
                done = service.log(_app(), raw)
            except (Invalid, Refused, Unreachable) as e:
                problems = [_in_words(e)]
            else:
                flash(_("Økten er logget: %(n)s utsagn sendt.", n=done["statements"]), "ok")
                return redirect(url_for("simulation.overview"))
        status = 400
    scales = catalog.scales()
    used = [scales[s] for s in scenario["scales"]]
    return render_template("sim_new.html", form=form, scenario=scenario, scenarios=catalog.scenarios(),
                           team_scales=[s for s in used if "team" in s.levels],
                           participant_scales=[s for s in used if "participant" in s.levels],
                           rows=rows, values=values, problems=problems, me=me(who), lang=_lang(),
                           now=datetime.now().strftime("%Y-%m-%dT%H:%M")), status


def _from_moodle(args) -> dict:
    """A GET may bring the members of a Moodle course (lrs.lti's "Hent deltakere"): lines "employee id; profession;
    role" in `participants`, put into the participant rows for the instructor to complete."""
    values = args.to_dict()
    lines = [line for line in values.pop("participants", "").splitlines() if line.strip()]
    for n, line in enumerate(lines):
        employee_id, profession, role = ([p.strip() for p in line.split(";")] + ["", ""])[:3]
        values.update({f"p{n}_id": employee_id, f"p{n}_profession": profession, f"p{n}_role": role})
    if lines:
        values["rows"] = str(len(lines))
    return values


def _posted_rows(form) -> int:
    try:
        return min(int(form.get("rows", 0)), 60)
    except ValueError:
        return 0


_UNKNOWN_PERSON = re.compile(r"no employee with id «(.*)»")


def _in_words(e) -> str:
    """What the LRS or the session check said, in the user's language where it is a usual mistake."""
    text = str(e)
    if isinstance(e, Unreachable):
        return _("Fikk ikke svar fra læringsdatalageret. Prøv igjen om litt; det du skrev er tatt vare på.")
    if isinstance(e, service.Duplicate):
        return _("Denne økten er logget allerede (samme scenario, tidspunkt og sted).")
    if m := _UNKNOWN_PERSON.search(text):
        return _("Ukjent person: ingen ansatt har nummer «%(id)s».", id=m.group(1))
    return _("Økten kan ikke logges: %(reason)s", reason=text)


def _number(value: str):
    value = value.strip()
    return int(value) if value.lstrip("-").isdigit() else None


def _ratings(form, prefix: str, scale_ids, problems: list, who: str) -> dict:
    out = {}
    scales = catalog.scales()
    for scale_id in scale_ids:
        scale = scales[scale_id]
        for item_id, item in scale.items.items():
            value = form.get(f"{prefix}:{scale_id}:{item_id}", "").strip()
            if not value:
                continue
            n = _number(value)
            if n is None or not item.min <= n <= item.max:
                problems.append(_("%(who)s: «%(item)s» (%(scale)s) må være et tall fra %(min)s til %(max)s.",
                                  who=who, item=item.nb, scale=scale.name_nb, min=item.min, max=item.max))
                continue
            out.setdefault(scale_id, {})[item_id] = n
    return out


def _from_form(form, scenario, who, rows: int) -> tuple[dict, list[str]]:
    """The session as the form has it, and what is wrong with it in words (nothing is sent then). Participants are
    rows of employee id, profession and role, each with their own ratings on every scale that rates a participant;
    lines "employee id; profession; role" in `participants` (pasted) are taken too."""
    problems = []
    scales = catalog.scales()
    per_participant = [s for s in scenario["scales"] if "participant" in scales[s].levels]
    participants = []
    for n in range(rows):
        employee_id = form.get(f"p{n}_id", "").strip()
        profession, role = form.get(f"p{n}_profession", "").strip(), form.get(f"p{n}_role", "").strip()
        if not employee_id:
            if profession or role:
                problems.append(_("Deltaker %(n)s: skriv ansattnummeret.", n=n + 1))
            continue
        if not profession or not role:
            problems.append(_("Deltaker %(n)s (%(id)s): skriv både yrke og rolle i scenarioet.", n=n + 1,
                              id=employee_id))
        participants.append({"employee_id": employee_id, "profession": profession, "role": role, "attended": True,
                             "ratings": _ratings(form, f"p{n}", per_participant, problems,
                                                 _("Deltaker %(n)s", n=n + 1))})
    for line in form.get("participants", "").splitlines():
        parts = [p.strip() for p in line.split(";")]
        if parts and parts[0]:
            participants.append({"employee_id": parts[0], "profession": parts[1] if len(parts) > 1 else "",
                                 "role": parts[2] if len(parts) > 2 else "", "attended": True})
    if not participants:
        problems.append(_("Skriv inn minst én deltaker."))
    team = [s for s in scenario["scales"] if "team" in scales[s].levels]
    team_ratings = _ratings(form, "team", team, problems, _("Teamet"))
    facilitators = [f.strip() for f in form.get("facilitators", "").split(";") if f.strip()] or [me(who)]
    start = form.get("start", "")
    try:  # the form's local time, in the trust's time zone
        start = datetime.fromisoformat(start).replace(
            tzinfo=ZoneInfo(current_app.config["COMPETENCE_TIMEZONE"])).isoformat()
    except ValueError:
        problems.append(_("Skriv inn når økten var (dato og klokkeslett)."))
    minutes = form.get("debrief_minutes", "").strip()
    if minutes and not minutes.isdigit():
        problems.append(_("Varigheten av debriefen er et antall minutter."))
    return {"scenario": scenario["id"], "start": start,
            "place": form.get("place", ""), "location": form.get("location", ""), "facilitators": facilitators,
            "participants": participants, "team_ratings": team_ratings,
            "debrief": {"held": form.get("debrief_held") == "yes",
                        "minutes": int(minutes) if minutes.isdigit() else None,
                        "learning_points": form.get("learning_points", ""),
                        "shareable": form.get("shareable") == "yes"}}, problems


def init_app(app):
    app.register_blueprint(api)
    app.register_blueprint(pages)
