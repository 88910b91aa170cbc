"""Course authors: the published modules, their versions and competences, and how learners fare; publishing a
module package (refused when its `competences` name codes the catalog does not have)."""
from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from lrs import principal
from lrs.cmi5 import package
from lrs.cmi5.lms import get_course, import_package, list_courses
from lrs.cmi5.stats import course_numbers
from lrs.competence.service import competence_names
from lrs.store.db import engine, transaction
from lrs.web.guard import audit, login_required
from lrs.web.pages.base import bp
from lrs.web.pages.forms import PublishForm


def _page(form, problem=None, status=200):
    with transaction() as conn:
        courses = list_courses(conn)
        numbers = {c["id"]: course_numbers(conn, c["id"], hardest=3) for c in courses}
        known = competence_names(conn)
    return render_template("author.html", courses=courses, numbers=numbers, form=form, known=known,
                           problem=problem), status


@bp.get("/author")
@login_required("author", "admin")
def author():
    return _page(PublishForm())


@bp.post("/author/publish")
@login_required("author", "admin")
def author_publish():
    """Upload a module package and publish it as the next version of its course; refused, saying why, when it is
    not a valid cmi5 package or names competence codes the catalog does not have."""
    form = PublishForm()
    if not form.validate_on_submit():
        problems = [str(e) for errors in form.errors.values() for e in errors]
        return _page(form, {"text": " ".join(problems)}, 400)
    data = form.package.data.read()
    try:
        course = package.read(data)
    except package.PackageError as e:
        return _page(form, {"text": _("Pakken kan ikke publiseres: %(reason)s", reason=str(e))}, 400)
    with transaction() as conn:
        known = competence_names(conn)
    unknown = [c for c in course.competences if c not in known]
    if unknown or not course.competences:
        what = (_("Modulen nevner kompetansekoder som ikke finnes i katalogen: %(codes)s.", codes=", ".join(unknown))
                if unknown else _("Modulen nevner ingen kompetansekode."))
        text = " ".join((what, _("Den ville ikke telle for noen plan."),
                         _("Rett «competences» i module.yaml og bygg pakken på nytt.")))
        return _page(form, {"text": text, "known": known}, 400)
    who = principal.current()
    made = import_package(engine(), data, who.username or who.user_id, current_app.config["CMI5_ID_BASE"])
    with transaction() as conn:
        published = get_course(conn, made["id"])
    title = published["title"].get("nb") or next(iter(published["title"].values()), "") \
        if isinstance(published["title"], dict) else published["title"]
    if made["created"]:
        audit("module-published", f"{published['publisher_id']} v{published['version']}")
        flash(_("«%(title)s» er publisert som versjon %(version)s og teller for %(codes)s.", title=title,
                version=published["version"], codes=", ".join(published["competences"])), "ok")
    else:
        flash(_("«%(title)s» er publisert fra før med akkurat dette innholdet (versjon %(version)s).", title=title,
                version=published["version"]), "ok")
    return redirect(url_for("web.author"))
