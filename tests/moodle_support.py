"""A Moodle database to test the bridge on: the tables it reads, with the columns and types of Moodle's
install.xml (lib/db, admin/tool/log/store/standard/db, mod/quiz, mod/scorm (4.3+ and before), mod/h5pactivity),
in a fresh PostgreSQL or MariaDB database, and a small health-trust site in it: the front page, two courses,
users, a quiz, a SCORM package, an H5P activity and a page. Events are logged as Moodle logs them.

Also: the LRS (the Flask app of the `app` fixture) as the bridge's HTTP peer, and reading statements back."""
import json
import os
from contextlib import contextmanager

import phpserialize
import pymysql
import pytest
from sqlalchemy import (BigInteger, Column, Index, MetaData, Numeric, SmallInteger, String, Table, Text, create_engine,
                        insert)
from sqlalchemy.dialects.mysql import LONGTEXT

import xapi_client
from plugins.moodle_bridge import config
from xapi_client import Client as LRS
from tests.conftest import CHECKOUT_TAG, PG_ADMIN, make_credential, pg_admin, require_pg

SITE = "https://moodle.helse-sorost.example.no"
MARIADB = os.environ.get("LRS_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")
T0 = 1_735_700_000  # 2025-01-01, when the logged events start

# ------------------------------------------------------------------------------------- Moodle's tables


def _int(name, length=10, **kw):
    return Column(name, BigInteger if length > 4 else SmallInteger, **kw)


def _char(name, length, **kw):
    return Column(name, String(length), **kw)


def _text(name, **kw):
    return Column(name, Text().with_variant(LONGTEXT(), "mysql"), **kw)


def _number(name, **kw):
    return Column(name, Numeric(10, 5), **kw)


def _id():
    return Column("id", BigInteger, primary_key=True, autoincrement=True)


def moodle_tables(prefix: str = "mdl_") -> MetaData:
    md = MetaData()
    p = prefix
    Table(p + "logstore_standard_log", md, _id(),
          _char("eventname", 255, nullable=False), _char("component", 100, nullable=False),
          _char("action", 100, nullable=False), _char("target", 100, nullable=False), _char("objecttable", 50),
          _int("objectid"), _char("crud", 1, nullable=False), _int("edulevel", 1, nullable=False),
          _int("contextid", nullable=False), _int("contextlevel", nullable=False),
          _int("contextinstanceid", nullable=False), _int("userid", nullable=False), _int("courseid"),
          _int("relateduserid"), _text("other"), _int("timecreated", nullable=False), _char("origin", 10),
          _char("ip", 45), _int("realuserid"),
          Index(p + "logsstanlog_tim_ix", "timecreated"), Index(p + "logsstanlog_conconcrueve_ix", "contextid",
                                                                 "component"),
          Index(p + "logsstanlog_useconconcrueve_ix", "userid", "contextid"),
          Index(p + "logsstanlog_eve_ix", "eventname"))
    Table(p + "user", md, _id(), _char("auth", 20, nullable=False, default="manual"),
          _int("confirmed", 1, nullable=False, default=0), _int("policyagreed", 1, nullable=False, default=0),
          _int("deleted", 1, nullable=False, default=0), _int("suspended", 1, nullable=False, default=0),
          _int("mnethostid", nullable=False, default=1), _char("username", 100, nullable=False),
          _char("password", 255, nullable=False, default=""), _char("idnumber", 255, nullable=False, default=""),
          _char("firstname", 100, nullable=False, default=""), _char("lastname", 100, nullable=False, default=""),
          _char("email", 100, nullable=False, default=""), _char("institution", 255, nullable=False, default=""),
          _char("department", 255, nullable=False, default=""), _char("lang", 30, nullable=False, default="en"),
          _char("timezone", 100, nullable=False, default="99"), _int("firstaccess", nullable=False, default=0),
          _int("lastaccess", nullable=False, default=0), _int("timecreated", nullable=False, default=0),
          _int("timemodified", nullable=False, default=0))
    Table(p + "course", md, _id(), _int("category", nullable=False, default=0),
          _int("sortorder", nullable=False, default=0), _char("fullname", 1333, nullable=False, default=""),
          _char("shortname", 255, nullable=False, default=""), _char("idnumber", 100, nullable=False, default=""),
          _text("summary"), _char("format", 21, nullable=False, default="topics"),
          _int("startdate", nullable=False, default=0), _int("enddate", nullable=False, default=0),
          _char("lang", 30, nullable=False, default=""), _int("visible", 1, nullable=False, default=1),
          _int("enablecompletion", 1, nullable=False, default=0), _int("timecreated", nullable=False, default=0),
          _int("timemodified", nullable=False, default=0))
    Table(p + "modules", md, _id(), _char("name", 20, nullable=False), _int("cron", nullable=False, default=0),
          _int("lastcron", nullable=False, default=0), _char("search", 255, nullable=False, default=""),
          _int("visible", 1, nullable=False, default=1))
    Table(p + "course_sections", md, _id(), _int("course", nullable=False, default=0),
          _int("section", nullable=False, default=0), _char("name", 255), _text("summary"),
          _int("summaryformat", 2, nullable=False, default=0), _text("sequence"),
          _int("visible", 1, nullable=False, default=1), _text("availability"),
          _int("timemodified", nullable=False, default=0))
    Table(p + "course_modules", md, _id(), _int("course", nullable=False, default=0),
          _int("module", nullable=False, default=0), _int("instance", nullable=False, default=0),
          _int("section", nullable=False, default=0), _char("idnumber", 100), _int("added", nullable=False, default=0),
          _int("score", 4, nullable=False, default=0), _int("indent", 4, nullable=False, default=0),
          _int("visible", 1, nullable=False, default=1), _int("visibleoncoursepage", 1, nullable=False, default=1),
          _int("visibleold", 1, nullable=False, default=1), _int("groupmode", 4, nullable=False, default=0),
          _int("groupingid", nullable=False, default=0), _int("completion", 1, nullable=False, default=0),
          _int("completiongradeitemnumber"), _int("completionview", 1, nullable=False, default=0),
          _int("completionexpected", nullable=False, default=0), _int("showdescription", 1, nullable=False, default=0),
          _text("availability"), _int("deletioninprogress", 1, nullable=False, default=0))
    Table(p + "grade_items", md, _id(), _int("courseid"), _int("categoryid"), _char("itemname", 255),
          _char("itemtype", 30, nullable=False, default=""), _char("itemmodule", 30), _int("iteminstance"),
          _int("itemnumber"), _text("iteminfo"), _char("idnumber", 255), _text("calculation"),
          _int("gradetype", 4, nullable=False, default=1), _number("grademax", nullable=False, default=100),
          _number("grademin", nullable=False, default=0), _int("scaleid"), _int("outcomeid"),
          _number("gradepass", nullable=False, default=0), _number("multfactor", nullable=False, default=1),
          _number("plusfactor", nullable=False, default=0), _number("aggregationcoef", nullable=False, default=0),
          _number("aggregationcoef2", nullable=False, default=0), _int("sortorder", nullable=False, default=0),
          _int("display", nullable=False, default=0), _int("decimals", 1), _int("hidden", nullable=False, default=0),
          _int("locked", nullable=False, default=0), _int("locktime", nullable=False, default=0),
          _int("needsupdate", nullable=False, default=0), _int("weightoverride", 1, nullable=False, default=0),
          _int("timecreated"), _int("timemodified"))
    Table(p + "grade_grades", md, _id(), _int("itemid", nullable=False), _int("userid", nullable=False),
          _number("rawgrade"), _number("rawgrademax", nullable=False, default=100),
          _number("rawgrademin", nullable=False, default=0), _int("rawscaleid"), _int("usermodified"),
          _number("finalgrade"), _int("hidden", nullable=False, default=0), _int("locked", nullable=False, default=0),
          _int("locktime", nullable=False, default=0), _int("exported", nullable=False, default=0),
          _int("overridden", nullable=False, default=0), _int("excluded", nullable=False, default=0),
          _text("feedback"), _int("feedbackformat", nullable=False, default=0), _text("information"),
          _int("informationformat", nullable=False, default=0), _int("timecreated"), _int("timemodified"),
          _char("aggregationstatus", 10, nullable=False, default="unknown"), _number("aggregationweight"))
    Table(p + "quiz", md, _id(), _int("course", nullable=False, default=0),
          _char("name", 1333, nullable=False, default=""), _text("intro", nullable=False),
          _int("introformat", 4, nullable=False, default=0), _int("timeopen", nullable=False, default=0),
          _int("timeclose", nullable=False, default=0), _int("timelimit", nullable=False, default=0),
          _char("preferredbehaviour", 32, nullable=False, default="deferredfeedback"),
          _int("attempts", 6, nullable=False, default=0), _int("grademethod", 4, nullable=False, default=1),
          _number("sumgrades", nullable=False, default=0), _number("grade", nullable=False, default=0),
          _int("timecreated", nullable=False, default=0), _int("timemodified", nullable=False, default=0))
    Table(p + "quiz_attempts", md, _id(), _int("quiz", nullable=False, default=0),
          _int("userid", nullable=False, default=0), _int("attempt", 6, nullable=False, default=0),
          _int("uniqueid", nullable=False, default=0), _text("layout", nullable=False),
          _int("currentpage", nullable=False, default=0), _int("preview", 4, nullable=False, default=0),
          _char("state", 16, nullable=False, default="inprogress"), _int("timestart", nullable=False, default=0),
          _int("timefinish", nullable=False, default=0), _int("timemodified", nullable=False, default=0),
          _int("timemodifiedoffline", nullable=False, default=0), _int("timecheckstate"), _number("sumgrades"),
          _int("gradednotificationsenttime"))
    Table(p + "scorm", md, _id(), _int("course", nullable=False, default=0),
          _char("scormtype", 50, nullable=False, default="local"), _char("reference", 255, nullable=False, default=""),
          _char("name", 255, nullable=False, default=""), _text("intro", nullable=False),
          _char("version", 9, nullable=False, default="SCORM_1.2"), _number("maxgrade", nullable=False, default=100),
          _int("grademethod", 4, nullable=False, default=1), _int("maxattempt", nullable=False, default=1),
          _int("timemodified", nullable=False, default=0))
    Table(p + "scorm_attempt", md, _id(), _int("userid", nullable=False), _int("scormid", nullable=False),
          _int("attempt", nullable=False, default=1))
    Table(p + "scorm_element", md, _id(), _char("element", 255, nullable=False))
    Table(p + "scorm_scoes_value", md, _id(), _int("scoid", nullable=False), _int("attemptid", nullable=False),
          _int("elementid", nullable=False), _text("value", nullable=False), _int("timemodified", nullable=False))
    # Before Moodle 4.3, SCORM tracks were rows of one table.
    Table(p + "scorm_scoes_track", md, _id(), _int("userid", nullable=False, default=0),
          _int("scormid", nullable=False, default=0), _int("scoid", nullable=False, default=0),
          _int("attempt", nullable=False, default=1), _char("element", 255, nullable=False, default=""),
          _text("value", nullable=False), _int("timemodified", nullable=False, default=0))
    Table(p + "h5pactivity", md, _id(), _int("course", nullable=False), _char("name", 255, nullable=False),
          _int("timecreated", nullable=False), _int("timemodified", nullable=False), _text("intro"),
          _int("introformat", 4, nullable=False, default=0), _int("grade", default=0),
          _int("displayoptions", 4, nullable=False, default=0), _int("enabletracking", 1, nullable=False, default=1),
          _int("grademethod", 4, nullable=False, default=1), _int("reviewmode", 4, default=1))
    Table(p + "page", md, _id(), _int("course", nullable=False, default=0), _char("name", 255, nullable=False),
          _text("intro"), _text("content"), _int("timemodified", nullable=False, default=0))
    Table(p + "course_completions", md, _id(), _int("userid", nullable=False, default=0),
          _int("course", nullable=False, default=0), _int("timeenrolled", nullable=False, default=0),
          _int("timestarted", nullable=False, default=0), _int("timecompleted"),
          _int("reaggregate", nullable=False, default=0))
    Table(p + "config", md, _id(), _char("name", 255, nullable=False, unique=True), _text("value", nullable=False))
    return md


# ---------------------------------------------------------------------------------------- databases


def mariadb_available() -> bool:
    try:
        pymysql.connect(host="127.0.0.1", port=3306, user="root", connect_timeout=3).close()
        return True
    except pymysql.err.OperationalError:
        if os.environ.get("CI") == "true":
            raise
        return False


def _mariadb_admin(sql: str) -> None:
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    try:
        conn.cursor().execute(sql)
    finally:
        conn.close()


@contextmanager
def moodle_database(kind: str, stem: str):
    """A fresh, empty database for a Moodle site (named moodle_<checkout>_<stem>), dropped afterwards."""
    name = f"moodle_{CHECKOUT_TAG}_{stem}"
    if kind == "postgresql":
        require_pg()
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{name}"')
        try:
            yield PG_ADMIN.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + "/" + name
        finally:
            pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    if not mariadb_available():
        pytest.skip("MariaDB does not answer on 127.0.0.1:3306: MariaDB tests skipped (required under CI=true)")
    _mariadb_admin(f"DROP DATABASE IF EXISTS `{name}`")
    _mariadb_admin(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    try:
        yield MARIADB.rsplit("/", 1)[0] + "/" + name + "?charset=utf8mb4"
    finally:
        _mariadb_admin(f"DROP DATABASE IF EXISTS `{name}`")


# -------------------------------------------------------------------------------------- a Moodle site

EVENT_PARTS = {  # eventname -> (component, action, target, crud, edulevel)
    "\\core\\event\\course_viewed": ("core", "viewed", "course", "r", 2),
    "\\core\\event\\course_completed": ("core", "completed", "course", "u", 2),
    "\\core\\event\\course_module_completion_updated": ("core", "updated", "course_module_completion", "u", 2),
    "\\core\\event\\user_graded": ("core", "graded", "user", "u", 2),
    "\\core\\event\\user_loggedin": ("core", "loggedin", "user", "r", 0),
    "\\core\\event\\course_module_created": ("core", "created", "course_module", "c", 1),
    "\\mod_quiz\\event\\attempt_started": ("mod_quiz", "started", "attempt", "c", 2),
    "\\mod_quiz\\event\\attempt_submitted": ("mod_quiz", "submitted", "attempt", "u", 2),
    "\\mod_quiz\\event\\attempt_graded": ("mod_quiz", "graded", "attempt", "u", 2),
    "\\mod_quiz\\event\\course_module_viewed": ("mod_quiz", "viewed", "course_module", "r", 2),
    "\\mod_page\\event\\course_module_viewed": ("mod_page", "viewed", "course_module", "r", 2),
    "\\mod_scorm\\event\\status_submitted": ("mod_scorm", "submitted", "status", "u", 2),
    "\\mod_scorm\\event\\scoreraw_submitted": ("mod_scorm", "submitted", "scoreraw", "u", 2),
    "\\mod_h5pactivity\\event\\statement_received": ("mod_h5pactivity", "received", "statement", "c", 2),
}


class MoodleSite:
    """A health trust's Moodle in a database: build it, log events into it the way Moodle does."""

    def __init__(self, url: str, prefix: str = "mdl_"):
        self.url, self.prefix = url, prefix
        self.engine = create_engine(url)
        self.md = moodle_tables(prefix)
        self.md.create_all(self.engine)
        self.t = {name[len(prefix):]: tbl for name, tbl in self.md.tables.items()}
        self.now = T0
        self._contexts = {}

    def add(self, table: str, **row) -> int:
        with self.engine.begin() as conn:
            return conn.execute(insert(self.t[table]).values(**row)).inserted_primary_key[0]

    def update(self, table: str, row_id: int, **values) -> None:
        tbl = self.t[table]
        with self.engine.begin() as conn:
            conn.execute(tbl.update().where(tbl.c.id == row_id).values(**values))

    def dispose(self):
        self.engine.dispose()

    # --------------------------------------------------------------------------------------- the site

    def build(self) -> "MoodleSite":
        self.add("config", name="release", value="4.5.1 (Build: 20241209)")
        self.add("course", id=1, fullname="Læringsportalen Helse Sør-Øst", shortname="LP", format="site")
        self.hlr = self.add("course", id=2, category=1, fullname="HLR for helsepersonell", shortname="HLR",
                            idnumber="K-HLR", enablecompletion=1)
        self.smitte = self.add("course", id=3, category=1, fullname="Smittevern", shortname="SMITTE",
                               lang="nb", enablecompletion=1)
        self.admin = self.add("user", username="admin", firstname="Admin", lastname="Bruker", confirmed=1)
        self.kari = self.add("user", username="kari.nordmann", idnumber="E10234", firstname="Kari",
                             lastname="Nordmann", email="kari.nordmann@sykehus.example.no", confirmed=1)
        self.ola = self.add("user", username="ola.hansen", firstname="Ola", lastname="Hansen", confirmed=1)
        self.gone = self.add("user", username="per@example.no.1700000000", firstname="Per", lastname="Slettet",
                             deleted=1)
        modules = {}
        for name in ("assign", "page", "quiz", "scorm", "h5pactivity"):
            modules[name] = self.add("modules", name=name)
        self.sections = {c: self.add("course_sections", course=c, section=1, name="Kurs") for c in (2, 3)}
        self.quiz = self.add("quiz", course=2, name="HLR-test", intro="", sumgrades=10, grade=100)
        self.quiz_cm = self._cm(2, modules["quiz"], self.quiz)
        self.quiz_item = self.add("grade_items", courseid=2, itemname="HLR-test", itemtype="mod", itemmodule="quiz",
                                  iteminstance=self.quiz, itemnumber=0, grademax=100, grademin=0, gradepass=80)
        self.course_item = self.add("grade_items", courseid=2, itemtype="course", iteminstance=2, grademax=100)
        self.scorm = self.add("scorm", course=2, name="HLR e-læring", intro="", reference="hlr.zip")
        self.scorm_cm = self._cm(2, modules["scorm"], self.scorm)
        self.h5p = self.add("h5pactivity", course=3, name="Håndhygiene", timecreated=T0, timemodified=T0)
        self.h5p_cm = self._cm(3, modules["h5pactivity"], self.h5p)
        self.page = self.add("page", course=3, name="Smittevernrutiner", content="<p>…</p>")
        self.page_cm = self._cm(3, modules["page"], self.page)
        return self

    def _cm(self, course: int, module: int, instance: int) -> int:
        return self.add("course_modules", course=course, module=module, instance=instance,
                        section=self.sections[course], added=T0)

    def context_id(self, level: int, instance: int) -> int:
        return self._contexts.setdefault((level, instance), 100 + len(self._contexts))

    def log(self, eventname: str, *, userid: int, courseid: int = 0, cmid: int | None = None,
            relateduserid: int | None = None, objecttable: str | None = None, objectid: int | None = None,
            other=None, php: bool = False, at: int | None = None) -> int:
        """One row of logstore_standard_log as Moodle writes it; `other` JSON (php=True: PHP-serialized)."""
        component, action, target, crud, edulevel = EVENT_PARTS.get(eventname, ("core", "x", "x", "r", 0))
        level, instance = (70, cmid) if cmid else ((50, courseid) if courseid else (10, 0))
        self.now = at if at is not None else self.now + 60
        if other is None:
            encoded = "N;" if php else "null"
        else:
            encoded = phpserialize.dumps(other).decode() if php else json.dumps(other)
        return self.add("logstore_standard_log", eventname=eventname, component=component, action=action,
                        target=target, objecttable=objecttable, objectid=objectid, crud=crud, edulevel=edulevel,
                        contextid=self.context_id(level, instance), contextlevel=level, contextinstanceid=instance,
                        userid=userid, courseid=courseid, relateduserid=relateduserid, other=encoded,
                        timecreated=self.now, origin="web", ip="10.20.30.40")

    def log_many(self, rows: list[dict]) -> None:
        """Rows for logstore_standard_log in one insert (the caller gives every column)."""
        with self.engine.begin() as conn:
            conn.execute(insert(self.t["logstore_standard_log"]), rows)


# ------------------------------------------------------------------------------------------- the LRS

BRIDGE_SCOPES = ("statements/write", "statements/read", "profile")


def in_process_lrs(app, scopes=BRIDGE_SCOPES) -> LRS:
    """The bridge's LRS client, its HTTP requests handed to the app in-process (with a credential of its own)."""
    cred = make_credential(app, scopes, name="moodle bridge")
    return xapi_client.in_process(app, cred["key"], cred["secret"])


def settings(log_db_url: str, **over) -> config.Settings:
    return config.from_mapping({"lrs_url": "http://lrs.invalid/xapi", "lrs_key": "k", "lrs_secret": "s",
                                "site_url": SITE, "log_db_url": log_db_url, **over})


def all_statements(lrs: LRS, **query) -> list[dict]:
    """Every statement a query finds (format=exact: as the bridge sent them), oldest first, following `more`."""
    page = lrs.statements(format="exact", limit=500, ascending="true", **query)
    found = list(page["statements"])
    while page.get("more"):
        page = lrs.more(page["more"])
        found += page["statements"]
    return found
