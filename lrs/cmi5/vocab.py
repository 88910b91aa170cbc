"""cmi5 identifiers (cmi5 9.3, 9.5.5, 9.6)."""
from lrs.model import verbs

ADL = verbs.ADL
VOIDED = verbs.VOIDED
W3ID = "https://w3id.org/xapi/adl/verbs/"
LAUNCHED, INITIALIZED, COMPLETED, PASSED, FAILED, TERMINATED = (
    ADL + v for v in ("launched", "initialized", "completed", "passed", "failed", "terminated"))
ABANDONED, WAIVED, SATISFIED = (W3ID + v for v in ("abandoned", "waived", "satisfied"))
AU_VERBS = {INITIALIZED, COMPLETED, PASSED, FAILED, TERMINATED}
LMS_VERBS = {LAUNCHED, ABANDONED, WAIVED, SATISFIED}

CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
MOVEON_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/moveon"
EXT = "https://w3id.org/xapi/cmi5/context/extensions/"
SESSION_ID, MASTERY_SCORE, LAUNCH_MODE, LAUNCH_URL, MOVE_ON, LAUNCH_PARAMETERS = (
    EXT + e for e in ("sessionid", "masteryscore", "launchmode", "launchurl", "moveon", "launchparameters"))
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"
REASON = "https://w3id.org/xapi/cmi5/result/extensions/reason"
BLOCK_TYPE = "https://w3id.org/xapi/cmi5/activitytype/block"
COURSE_TYPE = "https://w3id.org/xapi/cmi5/activitytype/course"

MOVE_ON_VALUES = ("NotApplicable", "Passed", "Completed", "CompletedAndPassed", "CompletedOrPassed")
LAUNCH_MODES = ("Normal", "Browse", "Review")
WAIVE_REASONS = ("Tested Out", "Equivalent AU", "Equivalent Outside Activity", "Administrative")


def name(verb_id: str) -> str:
    return verb_id.rsplit("/", 1)[-1]


def move_on_met(move_on: str, status: dict) -> bool:
    """Whether an AU's moveOn criterion is met (cmi5 10.2.5); a waived AU has met it (9.3.9)."""
    if status.get("waived") or move_on == "NotApplicable":
        return True
    completed, passed = bool(status.get("completed")), bool(status.get("passed"))
    return {"Passed": passed, "Completed": completed, "CompletedAndPassed": completed and passed,
            "CompletedOrPassed": completed or passed}[move_on]
