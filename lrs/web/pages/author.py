"""Course authors: the published modules, their versions and competences, and how learners fare."""
from flask import render_template

from lrs.cmi5.lms import list_courses
from lrs.cmi5.stats import course_numbers
from lrs.store.db import engine
from lrs.web.guard import login_required
from lrs.web.pages.base import bp


@bp.get("/author")
@login_required("author", "admin")
def author():
    courses = list_courses(engine())
    numbers = {c["id"]: course_numbers(engine(), c["id"], hardest=3) for c in courses}
    return render_template("author.html", courses=courses, numbers=numbers)
