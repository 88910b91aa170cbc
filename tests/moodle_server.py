"""A Moodle-shaped Web Services REST server on loopback, for the bridge's tests.

It answers {site}/webservice/rest/server.php the way Moodle does: the token and function in the request, parameters
in PHP-array form (options[0][name]=limitfrom), JSON answers, and refusals as HTTP 200 with
{"exception", "errorcode", "message"}. What it knows is an in-memory Moodle (courses, users, enrolments, activity
and course completions, grades) that a test fills and changes between syncs.

    moodle = Moodle()
    moodle.add_course(2, "HLR for voksne", idnumber="HLR-1")
    with running(moodle) as site: ...

The token's user has the role docs/moodle.md lists (`capabilities`), and the server leaves out what Moodle 5.1
leaves out without a capability: a course's manager fields (idnumber, enablecompletion, lang …) in
core_course_get_courses without moodle/course:update, and every module of a type whose mod/<type>:view the role
lacks (from the course contents, the completion statuses and the grade report; a course completion criterion still
names it). With web services or REST switched off it answers 403 with an empty body, as Moodle does.
"""
import json
import pathlib
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from plugins.moodle_bridge.webservice import FUNCTIONS

TOKEN = "0123456789abcdef0123456789abcdef"
# The parameters each function takes (Moodle refuses any other).
PARAMETERS = {
    "core_webservice_get_site_info": {"serviceshortnames"},
    "core_course_get_courses": {"options"},
    "core_course_get_courses_by_field": {"field", "value"},
    "core_course_get_contents": {"courseid", "options"},
    "core_enrol_get_enrolled_users": {"courseid", "options"},
    "core_completion_get_activities_completion_status": {"courseid", "userid"},
    "core_completion_get_course_completion_status": {"courseid", "userid"},
    "gradereport_user_get_grade_items": {"courseid", "userid", "groupid"},
    "core_user_get_users": {"criteria"},  # one the bridge's service lacks
}
STUDENT = {"roleid": 5, "name": "", "shortname": "student", "sortorder": 0}
# core_course_get_courses gives these only to a role with moodle/course:update (course/externallib.php).
MANAGER_FIELDS = ("categorysortorder", "idnumber", "showgrades", "showreports", "newsitems", "visible", "maxbytes",
                  "groupmode", "groupmodeforce", "defaultgroupingid", "lang", "timecreated", "timemodified",
                  "forcetheme", "enablecompletion", "completionnotify", "courseformatoptions")


def role_in_docs() -> set[str]:
    """The capabilities docs/moodle.md tells an administrator to give the bridge's role: every `a/b:c` in the
    rows of its tables."""
    text = (pathlib.Path(__file__).parent.parent / "docs" / "moodle.md").read_text()
    return {cap for line in text.splitlines() if line.lstrip().startswith("|")
            for cap in re.findall(r"`([a-z]+/[a-z0-9_]+:[a-z0-9_]+)`", line)}


class Refusal(Exception):
    def __init__(self, exception: str, errorcode: str, message: str, debuginfo: str | None = None):
        super().__init__(message)
        self.body = {"exception": exception, "errorcode": errorcode, "message": message}
        if debuginfo is not None:
            self.body["debuginfo"] = debuginfo


def invalid(debuginfo: str) -> Refusal:
    return Refusal("invalid_parameter_exception", "invalidparameter", "Invalid parameter value detected", debuginfo)


@dataclass
class Moodle:
    site: str = ""  # set by running()
    tokens: dict = field(default_factory=lambda: {TOKEN: set(FUNCTIONS)})  # token -> functions its service has
    courses: dict = field(default_factory=dict)  # id -> course
    users: dict = field(default_factory=dict)  # id -> user
    enrolments: dict = field(default_factory=dict)  # course id -> [user ids]
    activities: dict = field(default_factory=dict)  # course id -> [{"cmid", "modname", "instance", "name"}]
    activity_done: dict = field(default_factory=dict)  # (course, user, cmid) -> timecompleted
    course_done: dict = field(default_factory=dict)  # (course, user) -> timecompleted
    grade_items: dict = field(default_factory=dict)  # course id -> [{"id", "itemname", "itemmodule", "cmid", …}]
    grades: dict = field(default_factory=dict)  # (course, user, item id) -> (graderaw, gradedategraded)
    calls: list = field(default_factory=list)  # (monotonic time, function, parameters) of every answered call
    fail_next: list = field(default_factory=list)  # HTTP statuses to answer the next requests with (transient)
    forbidden: set = field(default_factory=set)  # course ids the token's user may not enter
    capabilities: set = field(default_factory=role_in_docs)  # the token's user's role
    web_services: bool = True  # Enable web services (Site administration > General > Advanced features)
    rest: bool = True  # REST protocol enabled (Site administration > Server > Web services > Manage protocols)
    sitename: str = "Helse Test Moodle"
    site_lang: str = ""  # the front page's forced language
    release: str = "4.4 (Build: 20240422)"
    sections: dict = field(default_factory=dict)  # course id -> (id, number) of the section its activities are in

    # ------------------------------------------------------------------------------------------ filling it

    def add_course(self, course_id: int, fullname: str, shortname: str | None = None, idnumber: str = "",
                   enablecompletion: bool = True):
        self.courses[course_id] = {
            "id": course_id, "shortname": shortname or f"C{course_id}", "categoryid": 1, "categorysortorder": 1,
            "fullname": fullname, "displayname": fullname, "idnumber": idnumber, "summary": "", "summaryformat": 1,
            "format": "topics", "showgrades": 1, "newsitems": 5, "startdate": 1700000000, "enddate": 0,
            "numsections": 4, "maxbytes": 0, "showreports": 0, "visible": 1, "groupmode": 0, "groupmodeforce": 0,
            "defaultgroupingid": 0, "timecreated": 1700000000, "timemodified": 1700000000,
            "enablecompletion": int(enablecompletion), "completionnotify": 0, "lang": "", "forcetheme": "",
            "courseformatoptions": [{"name": "hiddensections", "value": 0}]}
        self.enrolments.setdefault(course_id, [])
        self.activities.setdefault(course_id, [])
        self.grade_items.setdefault(course_id, [])

    def add_user(self, user_id: int, username: str, fullname: str, email: str, idnumber: str = ""):
        first, _, last = fullname.partition(" ")
        self.users[user_id] = {"id": user_id, "username": username, "firstname": first, "lastname": last,
                               "fullname": fullname, "email": email, "idnumber": idnumber, "firstaccess": 0,
                               "lastaccess": 0, "lastcourseaccess": 0, "description": "", "descriptionformat": 1,
                               "profileimageurlsmall": "", "profileimageurl": ""}

    def enrol(self, course_id: int, *user_ids: int):
        self.enrolments[course_id].extend(user_ids)

    def add_activity(self, course_id: int, cmid: int, modname: str, name: str, graded: bool = False):
        self.activities[course_id].append({"cmid": cmid, "modname": modname, "instance": cmid * 10, "name": name})
        if graded:
            self.grade_items[course_id].append({
                "id": cmid * 100, "itemname": name, "itemtype": "mod", "itemmodule": modname,
                "iteminstance": cmid * 10, "itemnumber": 0, "idnumber": "", "categoryid": 1, "outcomeid": None,
                "scaleid": None, "locked": False, "cmid": cmid, "grademin": 0, "grademax": 100})

    # ------------------------------------------------------------------------------------------ answering

    def answer(self, token: str | None, function: str | None, params: dict):
        if not token or token not in self.tokens:
            raise Refusal("moodle_exception", "invalidtoken", "Invalid token - token not found")
        if function not in PARAMETERS:
            raise Refusal("dml_missing_record_exception", "invalidrecord",
                          "Can't find data record in database table external_functions.")
        if function not in self.tokens[token]:
            raise Refusal("webservice_access_exception", "accessexception", "Access control exception")
        unexpected = set(params) - PARAMETERS[function]
        if unexpected:
            raise invalid(f"Unexpected keys ({', '.join(sorted(unexpected))}) detected in parameter array.")
        handler = getattr(self, "_" + function)
        answer = handler(params)
        self.calls.append((time.monotonic(), function, params))
        return answer

    def _core_webservice_get_site_info(self, params):
        return {"sitename": self.sitename, "username": "lrsbridge", "firstname": "LRS", "lastname": "Bridge",
                "fullname": "LRS Bridge", "lang": "nb", "userid": 2, "siteurl": self.site, "userpictureurl": "",
                "functions": [{"name": f, "version": "2024042200"} for f in sorted(self.tokens[TOKEN])],
                "downloadfiles": 0, "uploadfiles": 0, "release": self.release, "version": "2024042200",
                "mobilecssurl": "", "advancedfeatures": [{"name": "enablecompletion", "value": 1}],
                "usercanmanageownfiles": False, "userquota": 0, "usermaxuploadfilesize": -1, "userhomepage": 1,
                "siteid": 1, "sitecalendartype": "gregorian", "usercalendartype": "gregorian", "theme": "boost"}

    def _front(self) -> dict:
        return {"id": 1, "shortname": "helse", "fullname": self.sitename, "displayname": self.sitename,
                "format": "site", "idnumber": "", "categoryid": 0, "enablecompletion": 0, "lang": self.site_lang,
                "timemodified": 1700000000}

    def _core_course_get_courses(self, params):
        ids = [_int(i, "options.ids") for i in (params.get("options") or {}).get("ids", [])]
        courses = [self._front(), *self.courses.values()]
        if "moodle/course:update" not in self.capabilities:
            courses = [{k: v for k, v in c.items() if k not in MANAGER_FIELDS} for c in courses]
        return [c for c in courses if not ids or c["id"] in ids]

    def _core_course_get_courses_by_field(self, params):
        name, value = params.get("field", ""), params.get("value", "")
        if name and name not in ("id", "ids", "shortname", "idnumber", "category"):
            raise invalid("Invalid field name")
        if name and value == "":
            raise invalid("When using a field you must also provide a value")
        found = [self._front(), *self.courses.values()] if name in ("id", "ids") else list(self.courses.values())
        if "moodle/course:update" not in self.capabilities:  # enablecompletion and lang stay for who may enter
            found = [{k: v for k, v in c.items() if k != "idnumber"} for c in found]
        # A course the user may not enter: its public information only.
        found = [{k: v for k, v in c.items() if k not in ("enablecompletion", "lang")} if c["id"] in self.forbidden
                 else c for c in found]
        if name == "id":
            found = [c for c in found if c["id"] == _int(value, "value")]
        elif name == "ids":
            wanted = {_int(v, "value") for v in value.split(",")}
            found = [c for c in found if c["id"] in wanted]
        elif name in ("shortname", "idnumber"):
            found = [c for c in found if self.courses[c["id"]][name] == value]
        elif name == "category":
            found = [c for c in found if c["categoryid"] == _int(value, "value")]
        return {"courses": found, "warnings": []}

    def _visible(self, modname: str) -> bool:
        """cm_info::is_user_access_restricted_by_capability: a module type's mod/<type>:view (where it has one)."""
        return modname in NO_VIEW_CAPABILITY or f"mod/{modname}:view" in self.capabilities

    def _core_course_get_contents(self, params):
        course = self._course(params)
        modules = [{"id": a["cmid"], "name": a["name"], "modname": a["modname"], "instance": a["instance"],
                    "url": f"{self.site}/mod/{a['modname']}/view.php?id={a['cmid']}", "visible": 1,
                    "uservisible": True, "completion": 2} for a in self.activities[course["id"]]
                   if self._visible(a["modname"])]
        general = {"id": course["id"] * 100, "name": "General", "section": 0, "visible": 1, "summary": "",
                   "summaryformat": 1, "modules": []}
        section_id, number = self.sections.get(course["id"], (course["id"] * 100 + 1, 1))
        topic = {"id": section_id, "name": "Topic 1", "section": number, "visible": 1, "summary": "",
                 "summaryformat": 1, "modules": modules}
        return [general, topic]

    def _core_enrol_get_enrolled_users(self, params):
        course = self._course(params)
        options = {o.get("name"): o.get("value") for o in params.get("options") or []}
        unknown = set(options) - {"withcapability", "groupid", "onlyactive", "onlysuspended", "userfields",
                                  "limitfrom", "limitnumber", "sortby", "sortdirection"}
        if unknown:
            raise invalid(f"Invalid option name(s): {', '.join(sorted(unknown))}")
        start, number = _int(options.get("limitfrom", 0), "limitfrom"), _int(options.get("limitnumber", 0),
                                                                              "limitnumber")
        ids = sorted(self.enrolments[course["id"]])
        ids = ids[start:start + number] if number else ids[start:]
        hidden = {f for f, cap in (("username", "moodle/user:viewalldetails"),
                                   ("idnumber", "moodle/site:viewuseridentity")) if cap not in self.capabilities}
        return [{**{k: v for k, v in self.users[u].items() if k not in hidden}, "roles": [STUDENT],
                 "enrolledcourses": [{"id": course["id"], "fullname": course["fullname"],
                                      "shortname": course["shortname"]}]} for u in ids]

    def _core_completion_get_activities_completion_status(self, params):
        course, user = self._course(params), self._user(params)
        if not course["enablecompletion"]:
            raise Refusal("moodle_exception", "completionnotenabled", "Completion is not enabled")
        statuses = []
        for act in self.activities[course["id"]]:
            if not self._visible(act["modname"]):
                continue
            done = self.activity_done.get((course["id"], user, act["cmid"]))
            statuses.append({"cmid": act["cmid"], "modname": act["modname"], "instance": act["instance"],
                             "state": 1 if done else 0, "timecompleted": done or 0, "tracking": 2,
                             "overrideby": None, "valueused": False, "hascompletion": True, "isautomatic": True,
                             "istrackeduser": True, "uservisible": True, "details": []})
        return {"statuses": statuses, "warnings": []}

    def _core_completion_get_course_completion_status(self, params):
        course, user = self._course(params), self._user(params)
        if not course["enablecompletion"] or not self.activities[course["id"]]:
            raise Refusal("moodle_exception", "nocriteriaset", "No criteria set for this course")
        if user not in self.enrolments[course["id"]]:
            raise Refusal("moodle_exception", "nottracked",
                          "You are currently not being tracked by completion in this course")
        completed = (course["id"], user) in self.course_done
        criteria = []
        for act in self.activities[course["id"]]:
            done = self.activity_done.get((course["id"], user, act["cmid"]))
            criteria.append({"type": 4, "title": f"Activity completion: {act['name']}",
                             "status": "Yes" if done else "No", "complete": bool(done),
                             "timecompleted": done or None,
                             "details": {"type": "Activity completion",
                                         "criteria": f'<a href="{self.site}/mod/{act["modname"]}/view.php?id='
                                                     f'{act["cmid"]}">{act["name"]}</a>',
                                         "requirement": "Marking yourself complete", "status": ""}})
        if completed:  # the criteria times are what Moodle takes the completion time from
            for c in criteria:
                c["timecompleted"] = c["timecompleted"] or self.course_done[(course["id"], user)]
                c["complete"], c["status"] = True, "Yes"
        return {"completionstatus": {"completed": completed, "aggregation": 1, "completions": criteria},
                "warnings": []}

    def _gradereport_user_get_grade_items(self, params):
        course = self._course(params)
        user = _int(params.get("userid", 0), "userid")
        users = [user] if user else sorted(self.enrolments[course["id"]])
        out = []
        for u in users:
            items = []
            for item in self.grade_items[course["id"]]:
                if not self._visible(item["itemmodule"]):
                    continue
                raw, when = self.grades.get((course["id"], u, item["id"]), (None, None))
                items.append({**item, "graderaw": raw, "gradedatesubmitted": when, "gradedategraded": when,
                              "gradehiddenbydate": False, "gradeneedsupdate": False, "gradeishidden": False,
                              "gradeislocked": False, "gradeisoverridden": False,
                              "gradeformatted": "" if raw is None else f"{raw:.2f}",
                              "rangeformatted": f"{item['grademin']}&ndash;{item['grademax']}",
                              "percentageformatted": "-" if raw is None else f"{raw:.2f} %",
                              "feedback": "", "feedbackformat": 0})
            out.append({"courseid": course["id"], "courseidnumber": course["idnumber"], "userid": u,
                        "userfullname": self.users[u]["fullname"], "useridnumber": self.users[u]["idnumber"],
                        "maxdepth": 2, "gradeitems": items})
        return {"usergrades": out, "warnings": []}

    def _course(self, params) -> dict:
        if "courseid" not in params:
            raise invalid("Missing required key in single structure: courseid")
        course_id = _int(params["courseid"], "courseid")
        if course_id not in self.courses:
            raise Refusal("dml_missing_record_exception", "invalidrecord",
                          "Can't find data record in database table course.")
        if course_id in self.forbidden:
            raise Refusal("require_login_exception", "requireloginerror",
                          "Course or activity not accessible. (Not enrolled)")
        return self.courses[course_id]

    def _user(self, params) -> int:
        if "userid" not in params:
            raise invalid("Missing required key in single structure: userid")
        user_id = _int(params["userid"], "userid")
        if user_id not in self.users:
            raise Refusal("dml_missing_record_exception", "invaliduser", "Invalid user")
        return user_id


# Module types without a mod/<type>:view capability (forum, SCORM and book have other ones): nothing restricts them.
NO_VIEW_CAPABILITY = {"forum", "scorm", "book"}


def _int(value, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid(f"{name} => Invalid parameter value detected: Invalid external api parameter: "
                      f"the value is \"{value}\", the server was expecting \"int\" type") from None


_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def parse_php_form(pairs) -> dict:
    """options[0][name]=a -> {"options": [{"name": "a"}]}: how PHP reads a form; lists where keys are 0..n-1."""
    root: dict = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if not match:
            continue
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value

    def listify(node):
        if not isinstance(node, dict):
            return node
        node = {k: listify(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node) and sorted(map(int, node)) == list(range(len(node))):
            return [node[str(i)] for i in range(len(node))]
        return node
    return listify(root)


def wsgi_app(moodle: Moodle):
    lock = threading.Lock()

    @Request.application
    def application(request: Request):
        if request.path != "/webservice/rest/server.php":
            return Response("<html><body>Not found</body></html>", 404, content_type="text/html")
        if not (moodle.web_services and moodle.rest):  # webservice/rest/server.php: 403, nothing more
            return Response(b"", 403)
        with lock:  # one change or answer at a time, as a database would see it
            if moodle.fail_next:
                return Response("<html><body>Service unavailable</body></html>", moodle.fail_next.pop(0),
                                content_type="text/html")
            params = parse_php_form([*request.args.items(multi=True), *request.form.items(multi=True)])
            token, function = params.pop("wstoken", None), params.pop("wsfunction", None)
            if params.pop("moodlewsrestformat", "xml") != "json":  # Moodle's default is XML
                return Response('<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE></RESPONSE>\n',
                                content_type="application/xml")
            try:
                body = moodle.answer(token, function, params)
            except Refusal as r:
                body = r.body
        return Response(json.dumps(body), 200, content_type="application/json")
    return application


@contextmanager
def running(moodle: Moodle):
    """The Moodle served on a free loopback port, in a thread; yields its site URL."""
    server = make_server("127.0.0.1", 0, wsgi_app(moodle), threaded=True)
    moodle.site = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield moodle.site
    finally:
        server.shutdown()
        thread.join(5)
