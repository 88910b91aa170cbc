"""Moodle's Web Services over REST: {site}/webservice/rest/server.php with a token, as any Moodle client calls it.

Moodle answers HTTP 200 even when it refuses: the body is then {"exception", "errorcode", "message"[, "debuginfo"]}.
Those become `MoodleRefused` with a message a person can act on. Transient failures (connection errors, 429, 5xx)
are retried with backoff by urllib3; every call waits its turn under a requests-per-second cap, so a sync never
floods a production Moodle. Parameters go in Moodle's PHP-array form: options[0][name]=limitfrom.
The functions the bridge calls are FUNCTIONS: the bridge's external service needs exactly these (docs/moodle.md)."""
import logging
import threading
import time
from collections.abc import Iterator

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)

FUNCTIONS = (
    "core_webservice_get_site_info",
    "core_course_get_courses",
    "core_course_get_courses_by_field",
    "core_course_get_contents",
    "core_enrol_get_enrolled_users",
    "core_completion_get_activities_completion_status",
    "core_completion_get_course_completion_status",
    "gradereport_user_get_grade_items",
)

# What each refusal means for whoever runs the bridge.
_ADVICE = {
    "invalidtoken": "the token is unknown, expired or not for this site: make a new one for the bridge's user "
                    "(Site administration > Server > Web services > Manage tokens)",
    "accessexception": "the token's user or service may not call this function: add it to the bridge's external "
                       "service, allow the bridge's user on the service, and give its role the capabilities "
                       "listed in docs/moodle.md",
    "invalidparameter": "Moodle rejected the parameters (a wrong course or user id, or an older Moodle)",
    "nocriteriaset": "course completion has no criteria in this course",
    "requireloginerror": "the bridge's user cannot enter this course (not enrolled, or the course is hidden)",
    "nopermissions": "the bridge's role lacks a capability this function needs (see docs/moodle.md)",
}
# Refusals that stop a whole sync: nothing else will work either.
FATAL = frozenset({"invalidtoken", "accessexception"})


class MoodleError(Exception):
    """Moodle could not be asked, or said no."""


class MoodleUnreachable(MoodleError):
    pass


class MoodleRefused(MoodleError):
    def __init__(self, function: str, errorcode: str, message: str, debuginfo: str | None = None):
        advice = _ADVICE.get(errorcode)
        text = f"Moodle refused {function}: {message} ({errorcode})"
        if advice:
            text += f"; {advice}"
        if debuginfo:
            text += f" [{debuginfo}]"
        super().__init__(text)
        self.function, self.errorcode, self.message, self.debuginfo = function, errorcode, message, debuginfo

    @property
    def fatal(self) -> bool:
        return self.errorcode in FATAL


def php_array_form(params: dict) -> list[tuple[str, str]]:
    """Nested dicts and lists as Moodle's REST server reads them: {"options": [{"name": "a"}]} ->
    [("options[0][name]", "a")]. Booleans are 1/0, as PHP sends them."""
    out = []

    def add(key, value):
        if isinstance(value, dict):
            for k, v in value.items():
                add(f"{key}[{k}]", v)
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                add(f"{key}[{i}]", v)
        elif isinstance(value, bool):
            out.append((key, "1" if value else "0"))
        elif value is not None:
            out.append((key, str(value)))
    for name, value in params.items():
        add(name, value)
    return out


class Throttle:
    """At most `per_second` calls a second, across threads (0: no cap)."""

    def __init__(self, per_second: float):
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self):
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


class WebService:
    """One Moodle site and one token."""

    def __init__(self, site: str, token: str, *, per_second: float = 5.0, retries: int = 4, backoff: float = 0.5,
                 timeout: float = 30.0, page_size: int = 200):
        self.site = site.rstrip("/")
        self.url = self.site + "/webservice/rest/server.php"
        self._token = token
        self.timeout, self.page_size = timeout, page_size
        self.throttle = Throttle(per_second)
        self.session = requests.Session()
        # Every function the bridge calls only reads, so a POST is as safe to repeat as a GET.
        retry = Retry(total=retries, connect=retries, read=retries, status=retries, backoff_factor=backoff,
                      status_forcelist=(429, 500, 502, 503, 504), allowed_methods=None,
                      respect_retry_after_header=True, raise_on_status=False)
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))

    def call(self, function: str, **params):
        """Moodle's answer to one function, as JSON; MoodleRefused or MoodleUnreachable when there is none."""
        # The token goes in the POST body, not the URL, so it stays out of web server access logs.
        form = [("wstoken", self._token), ("wsfunction", function), ("moodlewsrestformat", "json"),
                *php_array_form(params)]
        self.throttle.wait()
        try:
            response = self.session.post(self.url, data=form, timeout=self.timeout)
        except requests.RequestException as e:
            raise MoodleUnreachable(f"Moodle at {self.site} did not answer {function}: {e}") from e
        if response.status_code == 403:  # Moodle's answer, with an empty body, when either is off
            raise MoodleUnreachable(
                f"Moodle at {self.site} answered {function} with HTTP 403 Forbidden: web services or the REST "
                "protocol is switched off. Enable web services (Site administration > General > Advanced features "
                "> Enable web services) and the REST protocol (Site administration > Server > Web services > "
                "Manage protocols > REST protocol); see docs/moodle.md, steps 1 and 2")
        if response.status_code != 200:
            raise MoodleUnreachable(f"Moodle at {self.site} answered {function} with HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise MoodleUnreachable(f"Moodle at {self.site} answered {function} with something that is not JSON "
                                    f"(is {self.url} the REST server, and REST enabled?): "
                                    f"{response.text[:200]!r}") from None
        if isinstance(answer, dict) and "exception" in answer and "errorcode" in answer:
            raise MoodleRefused(function, answer["errorcode"], answer.get("message", ""), answer.get("debuginfo"))
        if isinstance(answer, dict):
            for warning in answer.get("warnings") or ():
                log.warning("Moodle warned on %s: %s (%s)", function, warning.get("message"),
                            warning.get("warningcode"))
        return answer

    # ------------------------------------------------------------------------------------------- functions

    def site_info(self) -> dict:
        return self.call("core_webservice_get_site_info")

    def courses(self, ids: list[int] | None = None) -> list[dict]:
        """Every course (or these), without the site's front page (format "site"). Without moodle/course:update
        Moodle leaves out a course's enablecompletion and lang here: `details` has them."""
        answer = self.call("core_course_get_courses", options={"ids": ids} if ids else None)
        return [c for c in answer if c.get("format") != "site"]

    def details(self, ids: list[int], chunk: int = 100) -> dict[int, dict]:
        """id -> the course as core_course_get_courses_by_field gives it: with enablecompletion and lang for any
        course the bridge may enter (no moodle/course:update needed)."""
        found = {}
        for i in range(0, len(ids), chunk):
            part = ids[i:i + chunk]
            found.update({c["id"]: c for c in self.courses_by_field("ids", ",".join(map(str, part)))})
        return found

    def courses_by_field(self, field: str, value) -> list[dict]:
        """Courses where `field` (id, ids, shortname, idnumber, category) is `value`."""
        return self.call("core_course_get_courses_by_field", field=field, value=value)["courses"]

    def contents(self, course_id: int) -> list[dict]:
        """The course's sections, each with its modules (cmid as "id", name, modname, instance)."""
        return self.call("core_course_get_contents", courseid=course_id,
                         options=[{"name": "excludecontents", "value": True}])

    def enrolled_users(self, course_id: int) -> Iterator[dict]:
        """Everyone enrolled in the course, a page (limitfrom, limitnumber) at a time."""
        start = 0
        while True:
            page = self.call("core_enrol_get_enrolled_users", courseid=course_id,
                             options=[{"name": "limitfrom", "value": start},
                                      {"name": "limitnumber", "value": self.page_size}])
            yield from page
            if len(page) < self.page_size:
                return
            start += len(page)

    def activities_completion(self, course_id: int, user_id: int) -> list[dict]:
        return self.call("core_completion_get_activities_completion_status", courseid=course_id,
                         userid=user_id)["statuses"]

    def course_completion(self, course_id: int, user_id: int) -> dict:
        return self.call("core_completion_get_course_completion_status", courseid=course_id,
                         userid=user_id)["completionstatus"]

    def grades(self, course_id: int) -> list[dict]:
        """Every enrolled user's grade items in the course (userid 0: all users, one call)."""
        return self.call("gradereport_user_get_grade_items", courseid=course_id, userid=0)["usergrades"]
