"""The job `lti.grades`: a module launched from a Moodle line item sends its result to the gradebook (LTI Assignment
and Grade Services) once the learner has passed it; it also purges expired flow values."""
import logging
from datetime import datetime, timezone

from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException
from pylti1p3.grade import Grade
from requests import RequestException

from lrs.cmi5.lms import progress
from lrs.lti import service, tool
from lrs.store.db import transaction

log = logging.getLogger(__name__)


def result_of(prog: dict) -> tuple[bool, float | None]:
    """(done, score 0..100) of a cmi5 registration: done when the course is satisfied (its moveOn met); the score is
    the mean of the AUs' scaled scores, or 100 for a course done without scores."""
    scores = [a["score"] for a in prog["aus"] if a["score"] is not None]
    done = prog["satisfied"]
    if not done:
        return False, None
    return True, round(100 * sum(scores) / len(scores), 2) if scores else 100.0


def post_grades(app) -> None:
    grace = float(app.config["LTI_KEY_GRACE_HOURS"])
    with transaction(write=True) as conn:
        service.purge_values(conn)
        pending = service.pending_grades(conn)
    for row in pending:
        with transaction() as conn:
            done, score = result_of(progress(conn, row["registration"]))
            if not done:
                continue
            p = service.platform(conn, row["platform_id"])
            connector = tool.connector(conn, p, grace) if p else None
        if connector is None:
            continue
        grade = (Grade().set_score_given(score).set_score_maximum(100).set_user_id(row["platform_user"])
                 .set_activity_progress("Completed").set_grading_progress("FullyGraded")
                 .set_timestamp(datetime.now(timezone.utc).isoformat(timespec="milliseconds")))
        ags = AssignmentsGradesService(connector, {"scope": row["scope"].split(), "lineitem": row["lineitem"]})
        try:
            ags.put_grade(grade)
        except (LtiException, RequestException, ValueError) as e:
            log.warning("LTI grade %s not posted: %s", row["seq"], e)
            with transaction(write=True) as conn:
                service.grade_failed(conn, row["seq"], str(e))
            continue
        with transaction(write=True) as conn:
            service.grade_sent(conn, row["seq"], score)
