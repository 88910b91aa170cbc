"""Moodle's database, read only: the standard log ({prefix}logstore_standard_log) in id order from a checkpoint,
and, for each batch of events, the few rows their translation needs (users, courses, course modules with their
section and instance name, quiz attempts, grade items, SCORM tracks), fetched in a handful of IN queries.

PostgreSQL and MariaDB/MySQL through SQLAlchemy Core; the session is read-only, so the bridge cannot write to
Moodle even by mistake."""
import dataclasses
import json
import re
from collections import defaultdict

import phpserialize
from sqlalchemy import and_, column, create_engine, event, func, select, table, tuple_
from sqlalchemy.exc import DBAPIError, NoSuchTableError, ProgrammingError

MODULE_CONTEXT = 70  # CONTEXT_MODULE: the event's contextinstanceid is a course-module id
CACHE_LIMIT = 200_000  # rows of one kind kept during a run
COMPLETION_EVENT = "\\core\\event\\course_module_completion_updated"


class MoodleUnavailable(Exception):
    pass


@dataclasses.dataclass
class Event:
    id: int
    eventname: str
    objecttable: str | None
    objectid: int | None
    contextlevel: int
    contextinstanceid: int
    userid: int
    courseid: int | None
    relateduserid: int | None
    other: dict
    timecreated: int
    contextid: int = 0


@dataclasses.dataclass
class Module:
    cmid: int
    course: int
    name: str  # the module type: quiz, scorm, h5pactivity …
    instance: int
    instance_name: str | None
    section_id: int
    section_number: int


@dataclasses.dataclass
class Facts:
    """What a batch of events refers to, by id."""
    site: dict
    release: str
    users: dict = dataclasses.field(default_factory=dict)
    courses: dict = dataclasses.field(default_factory=dict)
    modules: dict = dataclasses.field(default_factory=dict)  # cmid -> Module
    module_of: dict = dataclasses.field(default_factory=dict)  # (module name, instance) -> cmid
    quiz_attempts: dict = dataclasses.field(default_factory=dict)  # attempt id -> row (with the quiz's grade, name)
    grade_items: dict = dataclasses.field(default_factory=dict)  # id -> row
    grade_item_of: dict = dataclasses.field(default_factory=dict)  # (module name, instance) -> row
    scorm_tracks: dict = dataclasses.field(default_factory=dict)  # (user, scorm id, attempt no.) -> {element: value}
    course_completions: dict = dataclasses.field(default_factory=dict)  # id -> row (course, userid, timecompleted)
    # (user, cmid) -> [(log id, timecreated, completion state)] of every completion event of that user and module
    completion_history: dict = dataclasses.field(default_factory=dict)


def decode_other(raw) -> dict:
    """The log's `other` column: JSON (Moodle 3.10+ default), PHP-serialized (older sites), or empty."""
    if raw in (None, "", "N;", "null"):
        return {}
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    if raw[:1] in "{[":
        value = json.loads(raw)
    else:
        value = phpserialize.loads(raw.encode("utf-8"), decode_strings=True, object_hook=phpserialize.phpobject)
        value = _plain(value)
    return value if isinstance(value, dict) else {}


def _plain(value):
    """PHP arrays come back as dicts keyed 0, 1 …; nested objects as phpobject."""
    if isinstance(value, phpserialize.phpobject):
        value = value._asdict()
    if isinstance(value, dict):
        items = {k: _plain(v) for k, v in value.items()}
        if items and list(items) == list(range(len(items))):
            return list(items.values())
        return items
    return value


class Moodle:
    def __init__(self, url: str, prefix: str = "mdl_"):
        self.prefix = prefix
        self.engine = create_engine(url, pool_pre_ping=True)
        _read_only(self.engine)
        t = self._table
        self.log = t("logstore_standard_log", "id", "eventname", "objecttable", "objectid", "contextid",
                     "contextlevel", "contextinstanceid", "userid", "courseid", "relateduserid", "other", "timecreated")
        self.user = t("user", "id", "username", "idnumber", "firstname", "lastname", "deleted")
        self.course = t("course", "id", "fullname", "shortname", "idnumber", "lang")
        self.course_modules = t("course_modules", "id", "course", "module", "instance", "section")
        self.modules = t("modules", "id", "name")
        self.course_sections = t("course_sections", "id", "section")
        self.quiz = t("quiz", "id", "name", "sumgrades", "grade")
        self.quiz_attempts = t("quiz_attempts", "id", "quiz", "userid", "attempt", "state", "timestart",
                               "timefinish", "sumgrades")
        self.grade_items = t("grade_items", "id", "courseid", "itemtype", "itemmodule", "iteminstance", "itemnumber",
                             "grademin", "grademax", "gradepass")
        self.scorm_attempt = t("scorm_attempt", "id", "userid", "scormid", "attempt")
        self.scorm_scoes_value = t("scorm_scoes_value", "id", "attemptid", "elementid", "value")
        self.scorm_scoes_track = t("scorm_scoes_track", "id", "userid", "scormid", "attempt", "element", "value")
        self.scorm_element = t("scorm_element", "id", "element")
        self.course_completions = t("course_completions", "id", "userid", "course", "timecompleted")
        self.config = t("config", "name", "value")
        self._site = None
        self._release = None
        self._cache = {}
        self._old_scorm = False  # a site before Moodle 4.3 (SCORM tracks in scorm_scoes_track)

    def _table(self, name, *columns):
        return table(self.prefix + name, *(column(c) for c in columns))

    def _rows(self, query):
        try:
            with self.engine.connect() as conn:
                return conn.execute(query).mappings().all()
        except (ProgrammingError, NoSuchTableError) as e:
            raise MoodleUnavailable(f"Moodle's database does not look like Moodle with table prefix "
                                    f"{self.prefix!r}: {e.orig}") from e
        except DBAPIError as e:
            raise MoodleUnavailable(f"cannot read Moodle's database: {e.orig}") from e

    # ------------------------------------------------------------------------------------------ the log

    def last_log_id(self) -> int:
        return self._rows(select(func.coalesce(func.max(self.log.c.id), 0).label("n")))[0]["n"]

    def count_after(self, after: int, upto: int | None = None) -> int:
        where = self.log.c.id > after
        if upto is not None:
            where = and_(where, self.log.c.id <= upto)
        return self._rows(select(func.count().label("n")).select_from(self.log).where(where))[0]["n"]

    def events_after(self, after: int, limit: int, upto: int | None = None) -> list[Event]:
        where = self.log.c.id > after
        if upto is not None:
            where = and_(where, self.log.c.id <= upto)
        rows = self._rows(select(self.log).where(where).order_by(self.log.c.id).limit(limit))
        return [_event(r) for r in rows]

    # ------------------------------------------------------------------------------ what events refer to

    def facts_for(self, events: list[Event], wanted) -> Facts:
        """wanted(event) -> Wants: which rows the translation of each event needs. Users, courses, modules and
        grade items are kept for the rest of the run (they rarely change, and most batches name the same ones);
        quiz attempts and SCORM tracks are read fresh."""
        facts = Facts(site=self.site(), release=self.release())
        need = Wants()
        for e in events:
            need.add(wanted(e))
        facts.users = self._cached("users", need.users, lambda ids: self._by_id(self.user, ids))
        if need.quiz_attempts:
            qa, q = self.quiz_attempts, self.quiz
            rows = self._rows(select(qa, q.c.name.label("quiz_name"), q.c.sumgrades.label("quiz_sumgrades"),
                                     q.c.grade.label("quiz_grade"))
                              .select_from(qa.join(q, q.c.id == qa.c.quiz))
                              .where(qa.c.id.in_(sorted(need.quiz_attempts))))
            facts.quiz_attempts = {r["id"]: r for r in rows}
            need.grade_item_of |= {("quiz", r["quiz"]) for r in rows}
        facts.grade_items = self._cached("grade_items", need.grade_items,
                                         lambda ids: self._by_id(self.grade_items, ids))
        need.module_of |= {(g["itemmodule"], g["iteminstance"]) for g in map(facts.grade_items.get, need.grade_items)
                           if g and g["itemtype"] == "mod"}
        facts.grade_item_of = self._cached("grade_item_of", need.grade_item_of, self._module_grade_items)
        facts.module_of = self._cached("module_of", need.module_of, self._module_ids)
        need.modules |= {cmid for cmid in map(facts.module_of.get, need.module_of) if cmid}
        facts.modules = self._cached("modules", need.modules, self._modules)
        need.courses |= {m.course for m in map(facts.modules.get, need.modules) if m}
        facts.courses = self._cached("courses", need.courses, lambda ids: self._by_id(self.course, ids))
        scorm = set()
        for user, cmid, attempt in need.scorm_tracks:
            module = facts.modules.get(cmid)
            if module and attempt is not None:
                scorm.add((user, module.instance, attempt))
        if scorm:
            facts.scorm_tracks = self._scorm_tracks(scorm)
        if need.course_completions:
            facts.course_completions = self._by_id(self.course_completions, need.course_completions)
        if need.completion_history:
            facts.completion_history = self._completion_history(need.completion_history)
        return facts

    def _completion_history(self, keys) -> dict:
        """Every completion event of these (context id, user, cmid), in log order: whether a completion was
        recorded before an "incomplete" one, and what follows it. By context id, which the log indexes."""
        log, wanted = self.log, {(user, cmid) for _ctx, user, cmid in keys}
        rows = self._rows(select(log.c.id, log.c.relateduserid, log.c.contextinstanceid, log.c.timecreated,
                                 log.c.other)
                          .where(log.c.eventname == COMPLETION_EVENT,
                                 log.c.contextid.in_(sorted({ctx for ctx, _u, _c in keys})))
                          .order_by(log.c.id))
        history = defaultdict(list)
        for r in rows:
            key = (r["relateduserid"], r["contextinstanceid"])
            if key in wanted:
                try:
                    state = decode_other(r["other"]).get("completionstate")
                except ValueError:
                    continue
                if state is not None:
                    history[key].append((int(r["id"]), int(r["timecreated"]), int(state)))
        return dict(history)

    def _cached(self, name: str, keys: set, fetch) -> dict:
        """The rows for keys, from this run's cache or else fetched (None for rows that are gone)."""
        cache = self._cache.setdefault(name, {})
        missing = keys - cache.keys()
        if missing:
            if len(cache) + len(missing) > CACHE_LIMIT:
                cache.clear()
                missing = set(keys)
            found = fetch(missing)
            for key in missing:
                cache[key] = found.get(key)
        return cache

    def _module_grade_items(self, keys) -> dict:
        """A module's grade is its grade item number 0 (a few modules add more items, e.g. for outcomes)."""
        gi = self.grade_items
        rows = self._rows(select(gi).where(gi.c.itemtype == "mod", gi.c.itemnumber == 0, tuple_(
            gi.c.itemmodule, gi.c.iteminstance).in_(sorted(keys))))
        return {(r["itemmodule"], r["iteminstance"]): r for r in rows}

    def _module_ids(self, keys) -> dict:
        cm, m = self.course_modules, self.modules
        rows = self._rows(select(cm.c.id, m.c.name, cm.c.instance).select_from(cm.join(m, m.c.id == cm.c.module))
                          .where(tuple_(m.c.name, cm.c.instance).in_(sorted(keys))))
        return {(r["name"], r["instance"]): r["id"] for r in rows}

    def site(self) -> dict:
        """The front page course (id 1): the site's name and language."""
        if self._site is None:
            found = self._by_id(self.course, {1})
            self._site = dict(found.get(1) or {"id": 1, "fullname": None, "lang": None})
        return self._site

    def release(self) -> str:
        """Moodle's release ($CFG->release), as logstore_xapi puts it in the info extension."""
        if self._release is None:
            rows = self._rows(select(self.config.c.value).where(self.config.c.name == "release"))
            self._release = rows[0]["value"] if rows else ""
        return self._release

    def _by_id(self, tbl, ids) -> dict:
        return {r["id"]: r for r in self._rows(select(tbl).where(tbl.c.id.in_(sorted(ids))))}

    def _modules(self, cmids) -> dict:
        cm, m, cs = self.course_modules, self.modules, self.course_sections
        rows = self._rows(select(cm.c.id, cm.c.course, cm.c.instance, m.c.name, cs.c.id.label("section_id"),
                                 cs.c.section.label("section_number"))
                          .select_from(cm.join(m, m.c.id == cm.c.module).join(cs, cs.c.id == cm.c.section))
                          .where(cm.c.id.in_(sorted(cmids))))
        names = self._instance_names({(r["name"], r["instance"]) for r in rows})
        return {r["id"]: Module(r["id"], r["course"], r["name"], r["instance"], names.get((r["name"], r["instance"])),
                                r["section_id"], r["section_number"]) for r in rows}

    def _instance_names(self, keys) -> dict:
        """Each module type keeps its instances in a table of its own name (quiz, scorm …), with a `name`."""
        by_type = defaultdict(set)
        for name, instance in keys:
            if re.fullmatch(r"[a-z][a-z0-9_]*", name):
                by_type[name].add(instance)
        names = {}
        for name, instances in by_type.items():
            tbl = self._table(name, "id", "name")
            try:
                rows = self._rows(select(tbl).where(tbl.c.id.in_(sorted(instances))))
            except MoodleUnavailable:  # a module type without a name column or table: its type names it
                continue
            names.update({(name, r["id"]): r["name"] for r in rows})
        return names

    def _scorm_tracks(self, keys) -> dict:
        """SCORM tracks per attempt: Moodle 4.3+ keeps them in scorm_attempt, scorm_scoes_value and
        scorm_element; older sites in one table, scorm_scoes_track."""
        if not self._old_scorm:
            a, v, el = self.scorm_attempt, self.scorm_scoes_value, self.scorm_element
            query = (select(a.c.userid, a.c.scormid, a.c.attempt, el.c.element, v.c.value)
                     .select_from(a.join(v, v.c.attemptid == a.c.id).join(el, el.c.id == v.c.elementid))
                     .where(tuple_(a.c.userid, a.c.scormid, a.c.attempt).in_(sorted(keys)))
                     .order_by(v.c.id))
            try:
                rows = self._rows(query)
            except MoodleUnavailable:
                self._old_scorm = True
        if self._old_scorm:
            tr = self.scorm_scoes_track
            rows = self._rows(select(tr.c.userid, tr.c.scormid, tr.c.attempt, tr.c.element, tr.c.value)
                              .where(tuple_(tr.c.userid, tr.c.scormid, tr.c.attempt).in_(sorted(keys)))
                              .order_by(tr.c.id))
        tracks = defaultdict(dict)
        for r in rows:
            tracks[(r["userid"], r["scormid"], r["attempt"])][r["element"]] = r["value"]
        return dict(tracks)


@dataclasses.dataclass
class Wants:
    users: set = dataclasses.field(default_factory=set)
    courses: set = dataclasses.field(default_factory=set)
    modules: set = dataclasses.field(default_factory=set)
    module_of: set = dataclasses.field(default_factory=set)
    quiz_attempts: set = dataclasses.field(default_factory=set)
    grade_items: set = dataclasses.field(default_factory=set)
    grade_item_of: set = dataclasses.field(default_factory=set)
    scorm_tracks: set = dataclasses.field(default_factory=set)  # (user, course module, attempt number)
    course_completions: set = dataclasses.field(default_factory=set)
    completion_history: set = dataclasses.field(default_factory=set)  # (context id, user, cmid)

    def add(self, other: "Wants | None"):
        if other:
            for f in dataclasses.fields(self):
                getattr(self, f.name).update(getattr(other, f.name))


def _event(r) -> Event:
    try:
        other = decode_other(r["other"])
    except ValueError:  # unreadable `other`: the translation decides whether it needs it
        other = {"_unreadable": True}
    return Event(int(r["id"]), r["eventname"], r["objecttable"], r["objectid"], int(r["contextlevel"]),
                 int(r["contextinstanceid"]), int(r["userid"]), r["courseid"], r["relateduserid"], other,
                 int(r["timecreated"]), int(r["contextid"]))


def _read_only(engine):
    """Every connection is read-only: Moodle's data is only read here."""
    @event.listens_for(engine, "connect")
    def _set(dbapi_conn, _record):
        cursor = dbapi_conn.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        else:
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
        cursor.close()
        if engine.dialect.name == "postgresql":
            dbapi_conn.commit()
