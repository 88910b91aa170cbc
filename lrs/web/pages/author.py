"""Course authors: the published modules, their versions and competences, and how learners fare."""
from flask import render_template

from lrs.cmi5.lms import list_courses
from lrs.cmi5.stats import course_numbers
from lrs.store.db import transaction
from lrs.web.guard import login_required
from lrs.web.pages.base import bp


@bp.get("/author")
@login_required("author", "admin")
def author():
    with transaction() as conn:
        courses = list_courses(conn)
        numbers = {c["id"]: course_numbers(conn, c["id"], hardest=3) for c in courses}
    return render_template("author.html", courses=courses, numbers=numbers)
