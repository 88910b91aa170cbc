"""Backfill of a Moodle site's log into the LRS through the Moodle bridge (plugins/moodle_bridge, log-store path).

Fills a fresh Moodle database (PostgreSQL by default, MariaDB with --mariadb; Moodle's own table shapes from
tests/moodle_support.py) with a health trust's site and --events realistic log rows (bulk: COPY on PostgreSQL,
multi-row INSERTs on MariaDB), starts a real LRS server (`lrs run` on PostgreSQL), and runs one backfill in this
process. Prints events/s (read, translated and sent), statements/s, and where the time went.

    .venv/bin/python bench/moodle_backfill.py [--events 1000000] [--mariadb] [--batch 500] [--workers 2]

Numbers only: nothing here passes or fails on time. Bridge, LRS server and both databases share the machine."""
import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

from tests.moodle_support import SITE, T0, MoodleSite  # noqa: E402

MOODLE_DB = "moodle_bench_backfill"
LRS_DB = "lrs_bench_moodle"
MARIADB_ADMIN = os.environ.get("LRS_BENCH_MARIADB", "mysql+pymysql://root@127.0.0.1:3306")
N_USERS = 4000
N_COURSES = 60
MODULE_TYPES = ("quiz", "scorm", "h5pactivity", "page")

# (eventname, share): views dominate a real log; results are rarer; a tenth is noise the bridge skips.
MIX = [("\\core\\event\\course_viewed", 28), ("module_viewed", 34),
       ("\\core\\event\\course_module_completion_updated", 9), ("\\mod_quiz\\event\\attempt_submitted", 4),
       ("\\core\\event\\user_graded", 4),
       ("\\mod_scorm\\event\\status_submitted", 2), ("\\mod_scorm\\event\\scoreraw_submitted", 2),
       ("\\mod_h5pactivity\\event\\statement_received", 4), ("\\core\\event\\course_completed", 1),
       ("\\core\\event\\user_loggedin", 8), ("\\core\\event\\dashboard_viewed", 4)]
LOG_COLUMNS = ("eventname", "component", "action", "target", "objecttable", "objectid", "crud", "edulevel",
               "contextid", "contextlevel", "contextinstanceid", "userid", "courseid", "relateduserid", "other",
               "timecreated", "origin", "ip", "realuserid")


def moodle_url(mariadb: bool) -> str:
    if mariadb:
        import pymysql
        conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{MOODLE_DB}`")
        conn.cursor().execute(f"CREATE DATABASE `{MOODLE_DB}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        conn.close()
        return f"{MARIADB_ADMIN}/{MOODLE_DB}?charset=utf8mb4"
    return c.pg_recreate(MOODLE_DB).replace("postgresql://", "postgresql+psycopg://")


class Population:
    """The site: users, courses with a quiz, a SCORM package, an H5P activity and a page each."""

    def __init__(self, site: MoodleSite):
        self.site = site
        md = site.t
        site.add("config", name="release", value="4.5.1 (Build: 20241209)")
        site.add("course", id=1, fullname="Læringsportalen Helse Sør-Øst", shortname="LP", format="site")
        with site.engine.begin() as conn:
            conn.execute(md["user"].insert(), [
                {"id": u, "username": f"ansatt{u:05d}", "idnumber": f"E{u:05d}", "firstname": "Ansatt",
                 "lastname": f"{u:05d}", "confirmed": 1} for u in range(2, N_USERS + 2)])
            conn.execute(md["modules"].insert(), [{"id": i + 1, "name": n} for i, n in enumerate(MODULE_TYPES)])
            courses, sections, cms, items, instances = [], [], [], [], {n: [] for n in MODULE_TYPES}
            for k in range(N_COURSES):
                cid = k + 2
                courses.append({"id": cid, "category": 1, "fullname": f"Kurs {k:02d}", "shortname": f"K{k:02d}",
                                "enablecompletion": 1, "lang": "nb" if k % 3 == 0 else ""})
                sections.append({"id": cid, "course": cid, "section": 1, "name": "Innhold"})
                for m, name in enumerate(MODULE_TYPES):
                    inst = cid * 10 + m
                    row = {"id": inst, "course": cid, "name": f"{name} {k:02d}"}
                    if name == "quiz":
                        row.update(intro="", sumgrades=10, grade=100)
                        items.append({"id": inst, "courseid": cid, "itemtype": "mod", "itemmodule": "quiz",
                                      "iteminstance": inst, "itemnumber": 0, "grademax": 100, "gradepass": 80})
                    elif name == "scorm":
                        row.update(intro="", reference="pakke.zip")
                    elif name == "h5pactivity":
                        row.update(timecreated=T0, timemodified=T0)
                    instances[name].append(row)
                    cms.append({"id": inst, "course": cid, "module": m + 1, "instance": inst, "section": cid,
                                "added": T0})
            conn.execute(md["course"].insert(), courses)
            conn.execute(md["course_sections"].insert(), sections)
            conn.execute(md["course_modules"].insert(), cms)
            conn.execute(md["grade_items"].insert(), items)
            for name, rows in instances.items():
                conn.execute(md[name].insert(), rows)
        self.cms = [(cm["id"], cm["course"], MODULE_TYPES[cm["module"] - 1]) for cm in cms]

    def rows(self, n: int, seed: int = 7):
        """n log rows (dicts of LOG_COLUMNS) and the quiz attempts the submitted events name."""
        rng = random.Random(seed)
        names = [e for e, _ in MIX]
        cum = [sum(w for _, w in MIX[:i + 1]) for i in range(len(MIX))]
        attempts, t = [], T0
        by_type = {name: [cm for cm in self.cms if cm[2] == name] for name in MODULE_TYPES}
        for i in range(n):
            t += rng.choice((0, 1, 1, 2, 5))
            user = 2 + int(rng.paretovariate(1.2)) % N_USERS
            kind = rng.choices(names, cum_weights=cum)[0]
            cmid, course, mod = rng.choice(self.cms)
            row = dict.fromkeys(LOG_COLUMNS)
            row.update(userid=user, courseid=course, contextlevel=70, contextinstanceid=cmid, contextid=1000 + cmid,
                       timecreated=t, origin="web", ip="10.%d.%d.%d" % (user % 250, i % 250, course), crud="r",
                       edulevel=2, other="null")
            other = None
            if kind == "\\core\\event\\course_viewed":
                row.update(contextlevel=50, contextinstanceid=course, contextid=500 + course)
            elif kind == "module_viewed":
                kind = f"\\mod_{mod}\\event\\course_module_viewed"
                row.update(objecttable=mod, objectid=cmid)
            elif kind == "\\core\\event\\course_module_completion_updated":
                row.update(relateduserid=user, objecttable="course_modules_completion", objectid=i, crud="u")
                other = {"relateduserid": user, "overrideby": None, "completionstate": rng.choice((1, 1, 2, 3))}
            elif kind == "\\mod_quiz\\event\\attempt_submitted":
                cmid, course, _ = rng.choice(by_type["quiz"])
                attempts.append({"id": len(attempts) + 1, "quiz": cmid, "userid": user, "attempt": 1,
                                 "uniqueid": len(attempts) + 1, "layout": "1,2,3,0", "state": "finished",
                                 "timestart": t - 600, "timefinish": t, "sumgrades": rng.randint(40, 100) / 10})
                row.update(courseid=course, contextinstanceid=cmid, contextid=1000 + cmid, relateduserid=user,
                           objecttable="quiz_attempts", objectid=len(attempts), crud="u")
                other = {"submitterid": user, "quizid": cmid}
            elif kind == "\\core\\event\\user_graded":
                cmid, course, _ = rng.choice(by_type["quiz"])
                row.update(courseid=course, contextlevel=50, contextinstanceid=course, contextid=500 + course,
                           relateduserid=user, objecttable="grade_grades", objectid=i, crud="u")
                other = {"itemid": cmid, "overridden": False, "finalgrade": float(rng.randint(40, 100))}
            elif kind.startswith("\\mod_scorm"):
                cmid, course, _ = rng.choice(by_type["scorm"])
                row.update(courseid=course, contextinstanceid=cmid, contextid=1000 + cmid, crud="u",
                           objecttable="scorm_scoes_value", objectid=i)
                other = ({"attemptid": 1, "cmielement": "cmi.core.lesson_status",
                          "cmivalue": rng.choice(("passed", "failed", "completed", "incomplete"))}
                         if kind.endswith("status_submitted") else
                         {"attemptid": 1, "cmielement": "cmi.core.score.raw", "cmivalue": str(rng.randint(0, 100))})
            elif kind == "\\mod_h5pactivity\\event\\statement_received":
                cmid, course, _ = rng.choice(by_type["h5pactivity"])
                row.update(courseid=course, contextinstanceid=cmid, contextid=1000 + cmid, crud="c",
                           objecttable="h5pactivity", objectid=cmid)
                raw = rng.randint(0, 10)
                other = {"verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
                         "object": {"id": f"{SITE}/xapi/activity/{1000 + cmid}", "objectType": "Activity"},
                         "result": {"score": {"min": 0, "max": 10, "raw": raw, "scaled": raw / 10},
                                    "completion": True, "success": raw >= 8, "duration": f"PT{rng.randint(30, 900)}S"}}
            elif kind == "\\core\\event\\course_completed":
                row.update(contextlevel=50, contextinstanceid=course, contextid=500 + course, relateduserid=user,
                           objecttable="course_completions", objectid=i, crud="u")
                other = {"relateduserid": user}
            else:  # noise the bridge skips
                row.update(courseid=0, contextlevel=10, contextinstanceid=0, contextid=1)
                if kind.endswith("user_loggedin"):
                    other = {"username": f"ansatt{user:05d}"}
            component = kind.split("\\")[1]
            target_action = kind.rsplit("\\", 1)[1].rsplit("_", 1)
            row.update(eventname=kind, component=component, target=target_action[0], action=target_action[-1],
                       other=json.dumps(other) if other is not None else "null")
            yield row, attempts


def fill(site: MoodleSite, population: Population, n: int) -> float:
    """Bulk-load n log rows (and the quiz attempts they name); returns seconds taken."""
    started = time.monotonic()
    rows = population.rows(n)
    attempts = []
    if site.engine.dialect.name == "postgresql":
        raw = site.engine.raw_connection()
        try:
            with raw.cursor() as cur:
                with cur.copy(f"COPY {site.prefix}logstore_standard_log ({', '.join(LOG_COLUMNS)}) FROM STDIN") as cp:
                    for row, attempts in rows:
                        cp.write_row([row[k] for k in LOG_COLUMNS])
            raw.commit()
        finally:
            raw.close()
    else:
        table = site.t["logstore_standard_log"]
        chunk = []
        with site.engine.begin() as conn:
            for row, attempts in rows:
                chunk.append(row)
                if len(chunk) == 5000:
                    conn.execute(table.insert(), chunk)
                    chunk = []
            if chunk:
                conn.execute(table.insert(), chunk)
    with site.engine.begin() as conn:
        for i in range(0, len(attempts), 5000):
            conn.execute(site.t["quiz_attempts"].insert(), attempts[i:i + 5000])
    return time.monotonic() - started


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000, help="log rows to fill and backfill (default 1,000,000)")
    ap.add_argument("--mariadb", action="store_true", help="Moodle on MariaDB (127.0.0.1:3306) instead of PostgreSQL")
    ap.add_argument("--batch", type=int, default=500, help="the bridge's batch_size (default 500)")
    ap.add_argument("--workers", type=int, default=2, help="LRS server workers (default 2)")
    ap.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    args = ap.parse_args(argv)
    why = c.pg_available()
    if why:
        sys.exit(f"PostgreSQL does not answer on 127.0.0.1:5432 (the LRS's database): {why}")

    from tests.server_support import Server
    from plugins.moodle_bridge import config, sync
    from plugins.moodle_bridge.logstore import Moodle
    from plugins.moodle_bridge.lrs import remote

    url = moodle_url(args.mariadb)
    site = MoodleSite(url)
    population = Population(site)
    print(f"filling {args.events:,} log rows into Moodle on {'MariaDB' if args.mariadb else 'PostgreSQL'} ...",
          file=sys.stderr, flush=True)
    filled = fill(site, population, args.events)
    print(f"  {filled:.0f} s ({args.events / filled:,.0f} rows/s)", file=sys.stderr, flush=True)
    site.dispose()

    lrs_url = c.pg_recreate(LRS_DB)
    with Server(lrs_url, workers=args.workers, threads=args.threads) as server:
        key, secret = server.credential("statements/write", "statements/read", "profile")
        settings = config.from_mapping({"lrs_url": server.url + "/xapi", "lrs_key": key, "lrs_secret": secret,
                                        "site_url": SITE, "log_db_url": url, "batch_size": args.batch})
        reader = Moodle(settings.log_db_url, settings.table_prefix)
        lrs = remote(settings.lrs_url, key, secret)
        meter = c.CpuMeter(server.process.pid, LRS_DB).start()
        cpu0 = time.process_time()
        started = time.monotonic()
        done = [0, started]

        def progress(n):
            done[0] += n
            if time.monotonic() - done[1] > 15:
                done[1] = time.monotonic()
                rate = done[0] / (done[1] - started)
                print(f"  {done[0]:,} events, {rate:,.0f}/s", file=sys.stderr, flush=True)
        summary = sync.run(settings, reader, lrs, on_batch=progress)
        wall = time.monotonic() - started
        bridge_cpu = time.process_time() - cpu0
        cpu = meter.stop()
        stored = c.count_statements(lrs_url)
        reader.engine.dispose()

    print()
    print(f"Moodle backfill: {summary.events:,} log events ({'MariaDB' if args.mariadb else 'PostgreSQL'}) -> "
          f"LRS server on PostgreSQL ({args.workers} workers x {args.threads} threads), batch {args.batch}, "
          f"{os.cpu_count()} CPUs shared by all")
    print(f"  {wall:.1f} s: {summary.events / wall:,.0f} events/s read, translated and sent; "
          f"{summary.statements / wall:,.0f} statements/s ({summary.statements:,} statements, "
          f"{sum(summary.skipped.values()):,} events skipped); {stored:,} statements stored")
    print("  bridge wall time: " + ", ".join(f"{k} {v:.1f} s ({v / wall:.0%})" for k, v in summary.seconds.items()))
    print(f"  CPU seconds: bridge {bridge_cpu:.0f}, LRS server {cpu['server']:.0f}, LRS PostgreSQL "
          f"{cpu['postgres']:.0f}, whole machine {cpu['machine']:.0f} of {wall * (os.cpu_count() or 1):.0f}")
    for reason, n in summary.skipped.most_common(5):
        print(f"  skipped {n:,}: {reason}")


if __name__ == "__main__":
    main()
