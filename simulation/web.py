"""The instructor's ways in on the web: a JSON API (/api/simulation/…) and pages (/sim): a form to log a session
fast on a tablet, and my sessions with per-scenario summaries and rating distributions."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from lrs import principal
from lrs.csrf import cookie_api
from simulation import catalog, service
from simulation.lrs import Refused, Unreachable
from simulation.sessions import Invalid

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
    return jsonify(service.mine(_app(), who.employee_id) if who.employee_id else [])


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


@pages.get("/")
def overview():
    who = _instructor()
    docs = service.mine(_app(), who.employee_id) if who.employee_id else []
    return render_template("sim_overview.html", sessions=docs, summaries=service.summaries(docs),
                           scenarios=catalog.scenarios())


@pages.route("/new", methods=["GET", "POST"])
def new_session():
    who = _instructor()
    scenario_id = request.values.get("scenario") or next(iter(catalog.scenarios()))
    scenario = catalog.scenarios().get(scenario_id)
    if scenario is None:
        abort(404)
    form = FlaskForm()
    if request.method == "POST" and form.validate_on_submit():
        raw = _from_form(request.form, scenario, who)
        try:
            done = service.log(_app(), raw)
        except (Invalid, Refused, Unreachable) as e:
            flash(str(e), "error")
        else:
            flash(f"Økten er logget: {done['statements']} utsagn sendt.", "ok")
            return redirect(url_for("simulation.overview"))
    elif request.method == "POST":
        abort(400)
    return render_template("sim_new.html", form=form, scenario=scenario, scenarios=catalog.scenarios(),
                           scales=[catalog.scales()[s] for s in scenario["scales"]
                                   if "team" in catalog.scales()[s].levels],
                           values=request.values, now=datetime.now().strftime("%Y-%m-%dT%H:%M"))


def _from_form(form, scenario, who) -> dict:
    """Participants are lines "employee id; profession; role" (fast to type or paste on a tablet)."""
    participants = []
    for line in form.get("participants", "").splitlines():
        parts = [p.strip() for p in line.split(";")]
        if parts and parts[0]:
            participants.append({"employee_id": parts[0], "profession": parts[1] if len(parts) > 1 else "",
                                 "role": parts[2] if len(parts) > 2 else "", "attended": True})
    team_ratings = {}
    for scale_id in scenario["scales"]:
        for item_id in catalog.scales()[scale_id].items:
            value = form.get(f"team:{scale_id}:{item_id}", "").strip()
            if value:
                team_ratings.setdefault(scale_id, {})[item_id] = int(value) if value.lstrip("-").isdigit() else value
    facilitators = [f.strip() for f in form.get("facilitators", "").split(";") if f.strip()] or [who.employee_id]
    start = form.get("start", "")
    try:  # the form's local time, in the trust's time zone
        start = datetime.fromisoformat(start).replace(
            tzinfo=ZoneInfo(current_app.config["COMPETENCE_TIMEZONE"])).isoformat()
    except ValueError:
        pass  # the session check says what is wrong with it
    return {"scenario": scenario["id"], "start": start,
            "place": form.get("place", ""), "location": form.get("location", ""), "facilitators": facilitators,
            "participants": participants, "team_ratings": team_ratings,
            "debrief": {"held": form.get("debrief_held") == "yes",
                        "minutes": int(form["debrief_minutes"]) if form.get("debrief_minutes", "").isdigit() else None,
                        "learning_points": form.get("learning_points", ""),
                        "shareable": form.get("shareable") == "yes"}}


def init_app(app):
    app.register_blueprint(api)
    app.register_blueprint(pages)
