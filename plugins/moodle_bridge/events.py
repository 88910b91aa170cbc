"""Moodle log events as xAPI statements, the way logstore_xapi translates them (src/transformer/events).

Each translation says which rows it needs (wants) and turns one event into statements (translate). Events of
other kinds, and events whose user, course or module is gone, are skipped with a reason that is counted."""
from plugins.moodle_bridge import xapi
from plugins.moodle_bridge.logstore import MODULE_CONTEXT, Event, Facts, Wants


class Skip(Exception):
    """This event makes no statement; the message is the reason (counted in the sync's summary)."""


class Translator:
    def __init__(self, settings):
        self.settings = settings
        self.site_url = settings.site_url

    # ------------------------------------------------------------------------------------------- entry

    def wants(self, e: Event) -> Wants | None:
        kind = KINDS.get(e.eventname)
        return kind[0](e) if kind else None

    def translate(self, e: Event, facts: Facts) -> list[dict]:
        kind = KINDS.get(e.eventname)
        if kind is None:
            raise Skip("not translated: " + e.eventname)
        if e.other.get("_unreadable") and kind[1] in READS_OTHER:
            raise Skip("unreadable 'other' column")
        statements = kind[1](self, e, facts)
        # Completions carry the id of the Moodle fact (the same from web services); the rest that of the log row.
        return [s if s["id"] else {**s, "id": xapi.statement_id(self.site_url, "log", e.id, n)}
                for n, s in enumerate(statements)]

    # ------------------------------------------------------------------------------------------- parts

    def _actor(self, facts: Facts, user_id) -> dict:
        user = facts.users.get(user_id)
        if user is None or user["deleted"]:
            raise Skip("user deleted or unknown")
        name = user[self.settings.actor_id]
        if not name:
            raise Skip(f"user without {self.settings.actor_id}")
        full = f"{user['firstname'] or ''} {user['lastname'] or ''}".strip() if self.settings.send_name else None
        return xapi.actor(self.settings.actor_home_page or self.site_url, name, full)

    def _lang(self, course) -> str:
        return xapi.course_lang(course["lang"], self.settings.lang)

    def _site(self, facts: Facts) -> dict:
        site = facts.site
        return xapi.site_activity(self.site_url, site["fullname"], xapi.course_lang(site["lang"], self.settings.lang))

    def _course(self, facts: Facts, course_id):
        course = facts.courses.get(course_id)
        if course is None:
            raise Skip("course deleted or unknown")
        return course, xapi.course_activity(self.site_url, course["id"], course["fullname"], self._lang(course))

    def _module(self, facts: Facts, cmid):
        module = facts.modules.get(cmid)
        if module is None:
            raise Skip("course module deleted or unknown")
        course, course_activity = self._course(facts, module.course)
        lang = self._lang(course)
        activity = xapi.module_activity(self.site_url, module.name, cmid, module.instance_name, lang)
        section = xapi.section_activity(self.site_url, module.section_id, module.section_number, course["fullname"],
                                        lang)
        return module, course, activity, [section, course_activity]

    def _context(self, e: Event, facts: Facts, course, function: str, parents=None, instructor=None) -> dict:
        return xapi.context(self._lang(course), e.eventname, function, self._site(facts), parents, facts.release,
                            instructor)

    def _statement(self, e, who, verb, obj, ctx, result=None):
        return xapi.statement("", who, verb, obj, ctx, xapi.timestamp(e.timecreated), result)

    # ---------------------------------------------------------------------------------------- the events

    def course_viewed(self, e: Event, facts: Facts):
        course, activity = self._course(facts, e.courseid)
        return [self._statement(e, self._actor(facts, e.userid), xapi.VIEWED, activity,
                                self._context(e, facts, course, "core\\course_viewed"))]

    def course_module_viewed(self, e: Event, facts: Facts):
        _m, course, activity, parents = self._module(facts, e.contextinstanceid)
        return [self._statement(e, self._actor(facts, e.userid), xapi.VIEWED, activity,
                                self._context(e, facts, course, "all\\course_module_viewed", parents))]

    def course_completed(self, e: Event, facts: Facts):
        course, activity = self._course(facts, e.courseid)
        # The completion's own time (course_completions.timecompleted, what web services give too), not the time
        # the event was logged (a cron run later); the event's time when the row is gone (completion reset).
        row = facts.course_completions.get(e.objectid) if e.objecttable == "course_completions" else None
        when = e.timecreated
        if row and row["timecompleted"] and (row["userid"], row["course"]) == (e.relateduserid, e.courseid):
            when = int(row["timecompleted"])
        return [xapi.course_completion(self.site_url, e.relateduserid, self._actor(facts, e.relateduserid),
                                       course["id"], activity, self._lang(course), self._site(facts), facts.release,
                                       when)]

    def module_completion(self, e: Event, facts: Facts):
        state = e.other.get("completionstate")
        if state is None:
            raise Skip("completion event without completionstate")
        _m, course, activity, parents = self._module(facts, e.contextinstanceid)
        # 1 complete, 2 complete and passed, 3 complete and failed; 0 incomplete (completion taken back).
        state = int(state)
        if state == 0 and not _takes_back(e, facts):
            raise Skip("completion state 0 that takes back no recorded completion")
        return [xapi.module_completion(self.site_url, e.relateduserid, self._actor(facts, e.relateduserid),
                                       e.contextinstanceid, activity, parents, self._lang(course), self._site(facts),
                                       facts.release, e.timecreated, state)]

    def quiz_attempt_submitted(self, e: Event, facts: Facts):
        return self._quiz_attempt(e, facts, xapi.COMPLETED, "mod_quiz\\attempt_submitted\\handler")

    def quiz_attempt_graded(self, e: Event, facts: Facts):
        return self._quiz_attempt(e, facts, xapi.SCORED, "mod_quiz\\attempt_graded")

    def _quiz_attempt(self, e: Event, facts: Facts, verb, function):
        attempt = facts.quiz_attempts.get(e.objectid)
        if attempt is None:
            raise Skip("quiz attempt deleted or unknown")
        module, course, module_activity, parents = self._module(facts, e.contextinstanceid)
        lang = self._lang(course)
        result = {}
        item = facts.grade_item_of.get(("quiz", attempt["quiz"]))
        # The attempt's own grade (not the user's best-of grade that logstore_xapi reads at send time), so a
        # backfill of old attempts gives each attempt its score; none until a teacher has graded what needs it.
        if attempt["sumgrades"] is not None and item is not None and attempt["quiz_sumgrades"]:
            raw = float(attempt["sumgrades"]) / float(attempt["quiz_sumgrades"]) * float(attempt["quiz_grade"])
            low, high = float(item["grademin"] or 0), float(item["grademax"] or 0)
            result["score"] = xapi.score(raw, low, high)
            result["success"] = raw >= float(item["gradepass"] or 0)
        result["completion"] = attempt["state"] == "finished"
        spent = xapi.duration((attempt["timefinish"] or 0) - (attempt["timestart"] or 0))
        if spent:
            result["duration"] = spent
        obj = xapi.quiz_attempt_activity(self.site_url, attempt["id"], module.cmid, attempt["quiz_name"], lang)
        return [self._statement(e, self._actor(facts, e.relateduserid), verb, obj,
                                self._context(e, facts, course, function, [module_activity, *parents]), result)]

    def user_graded(self, e: Event, facts: Facts):
        item = facts.grade_items.get(int(e.other.get("itemid") or 0))
        if item is None:
            raise Skip("grade item deleted or unknown")
        if item["itemtype"] != "mod":
            raise Skip("grade of a course total or a manual item")
        cmid = facts.module_of.get((item["itemmodule"], item["iteminstance"]))
        if cmid is None:
            raise Skip("course module deleted or unknown")
        final = e.other.get("finalgrade")
        if final is None:
            raise Skip("grade removed")
        _m, course, activity, parents = self._module(facts, cmid)
        student = self._actor(facts, e.relateduserid)
        grader = None
        if e.userid and e.userid != e.relateduserid and facts.users.get(e.userid):
            try:
                grader = self._actor(facts, e.userid)
            except Skip:
                pass
        low, high = float(item["grademin"] or 0), float(item["grademax"] or 0)
        # The grade in the event itself: what it was when given, whatever it is now.
        raw = float(final)
        result = {"score": xapi.score(raw, low, high), "success": raw >= float(item["gradepass"] or 0)}
        return [self._statement(e, student, xapi.SCORED, activity,
                                self._context(e, facts, course, "core\\user_graded", parents, grader), result)]

    def scorm_status(self, e: Event, facts: Facts):
        module, course, module_activity, parents = self._module(facts, e.contextinstanceid)
        value = str(e.other.get("cmivalue", "")).lower()
        verb = {"passed": xapi.PASSED, "failed": xapi.FAILED}.get(value, xapi.COMPLETED)
        if value not in ("passed", "failed", "completed"):
            raise Skip("SCORM status that is no result: " + (value or "empty"))
        obj = xapi.sco_activity(self.site_url, module.cmid, module.instance_name, self._lang(course))
        return [self._statement(e, self._actor(facts, e.userid), verb, obj,
                                self._context(e, facts, course, "mod_scorm\\status_submitted",
                                              [module_activity, *parents]))]

    def scorm_score(self, e: Event, facts: Facts):
        module, course, module_activity, parents = self._module(facts, e.contextinstanceid)
        try:
            raw = float(e.other.get("cmivalue"))
        except (TypeError, ValueError):
            raise Skip("SCORM raw score that is no number")
        tracks = facts.scorm_tracks.get((e.userid, module.instance, _int(e.other.get("attemptid"))), {})
        status = tracks.get("cmi.core.lesson_status") or tracks.get("cmi.success_status")
        verb = {"passed": xapi.PASSED, "failed": xapi.FAILED}.get(status, xapi.COMPLETED)
        low = _float(tracks.get("cmi.core.score.min", tracks.get("cmi.score.min")))
        high = _float(tracks.get("cmi.core.score.max", tracks.get("cmi.score.max")))
        if low is not None and high is not None:
            score = {"raw": raw, "min": low, "max": high, "scaled": round(xapi.scaled_score(raw, low, high), 6)}
        else:
            score = {"raw": raw, **({"min": low} if low is not None else {}),
                     **({"max": high} if high is not None else {})}
        obj = xapi.sco_activity(self.site_url, module.cmid, module.instance_name, self._lang(course))
        return [self._statement(e, self._actor(facts, e.userid), verb, obj,
                                self._context(e, facts, course, "mod_scorm\\scoreraw_submitted",
                                              [module_activity, *parents]), {"score": score})]

    def h5p_result(self, e: Event, facts: Facts):
        """mod_h5pactivity's statement_received: `other` is the H5P content's own statement (minified). Its main
        statement (not one about a sub-question) with a result is the attempt's result."""
        if "subContentId" in str((e.other.get("object") or {}).get("id", "")):
            raise Skip("H5P statement about a part of the content")
        given = e.other.get("result")
        if not isinstance(given, dict) or not given:
            raise Skip("H5P statement without a result")
        _m, course, activity, parents = self._module(facts, e.contextinstanceid)
        result = {k: given[k] for k in ("completion", "success", "duration") if k in given}
        s = given.get("score") or {}
        if "raw" in s and "max" in s:
            result["score"] = xapi.score(float(s["raw"]), float(s.get("min", 0)), float(s["max"]))
        verb = {True: xapi.PASSED, False: xapi.FAILED}.get(result.get("success"), xapi.COMPLETED)
        return [self._statement(e, self._actor(facts, e.userid), verb, activity,
                                self._context(e, facts, course, "mod_h5pactivity\\statement_received", parents),
                                result)]


def _takes_back(e: Event, facts: Facts) -> bool:
    """Whether an "incomplete" event takes back a completion really recorded: the same user's and module's last
    completion event before it was a completion, and it is not the first of Moodle 5.1's pair (state 0, then state
    1 at the same time, logged whenever an activity completes on view)."""
    history = facts.completion_history.get((e.relateduserid, e.contextinstanceid), [])
    before = [state for log_id, _t, state in history if log_id < e.id]
    after = [(t, state) for log_id, t, state in history if log_id > e.id]
    if not before or not before[-1]:
        return False
    return not (after and after[0][0] == e.timecreated and after[0][1])


def _int(x):
    try:
        return int(x)
    except (TypeError, ValueError):
        return None


def _float(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


# -------------------------------------------------------------------------------- what each kind needs

def _user(e):
    return Wants(users={e.userid})


def _related(e):
    return Wants(users={e.relateduserid} - {None})


def _in_course(who):
    return lambda e: _plus(who(e), Wants(courses={e.courseid} - {None}))


def _course_completed(e):
    completion = {e.objectid} if e.objecttable == "course_completions" and e.objectid else set()
    return _plus(_in_course(_related)(e), Wants(course_completions=completion))


def _in_module(who):
    return lambda e: _plus(who(e), Wants(modules={e.contextinstanceid} if e.contextlevel == MODULE_CONTEXT else set()))


def _quiz(e):
    return _plus(_in_module(_related)(e), Wants(quiz_attempts={e.objectid} - {None}))


def _graded(e):
    return Wants(users={e.relateduserid, e.userid} - {None}, grade_items={_int(e.other.get("itemid"))} - {None})


def _scorm(e):
    # Tracks by course module here; the reader turns that into the SCORM instance once it knows the module.
    return _plus(_in_module(_user)(e), Wants(scorm_tracks={(e.userid, e.contextinstanceid,
                                                            _int(e.other.get("attemptid")))}))


def _completion(e):
    """A module completion; one that says "incomplete" also needs that user's and module's completion history."""
    wants = _in_module(_related)(e)
    if _int(e.other.get("completionstate")) == 0 and e.contextlevel == MODULE_CONTEXT:
        wants.completion_history.add((e.contextid, e.relateduserid, e.contextinstanceid))
    return wants


def _plus(a: Wants, b: Wants) -> Wants:
    a.add(b)
    return a


# eventname -> (wants, translate). Module views: every module type's course_module_viewed, as in logstore_xapi.
KINDS = {
    "\\core\\event\\course_viewed": (_in_course(_user), Translator.course_viewed),
    "\\core\\event\\course_completed": (_course_completed, Translator.course_completed),
    "\\core\\event\\course_module_completion_updated": (_completion, Translator.module_completion),
    "\\mod_quiz\\event\\attempt_submitted": (_quiz, Translator.quiz_attempt_submitted),
    "\\mod_quiz\\event\\attempt_graded": (_quiz, Translator.quiz_attempt_graded),
    "\\core\\event\\user_graded": (_graded, Translator.user_graded),
    "\\mod_scorm\\event\\status_submitted": (_scorm, Translator.scorm_status),
    "\\mod_scorm\\event\\scoreraw_submitted": (_scorm, Translator.scorm_score),
    "\\mod_h5pactivity\\event\\statement_received": (_in_module(_user), Translator.h5p_result),
    "\\core_h5p\\event\\h5p_viewed": (_in_module(_user), Translator.course_module_viewed),
}
# Translations that read the event's `other` column (the rest do without it, readable or not).
READS_OTHER = {Translator.module_completion, Translator.user_graded, Translator.scorm_status, Translator.scorm_score,
               Translator.h5p_result}
for _module_type in xapi.MODULE_TYPES:
    KINDS[f"\\mod_{_module_type}\\event\\course_module_viewed"] = (_in_module(_user), Translator.course_module_viewed)
