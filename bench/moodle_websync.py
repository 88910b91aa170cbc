"""The Moodle bridge's web-services path (plugins/moodle_bridge/websync.py) against the Moodle-shaped REST server
of the tests (tests/moodle_server.py, on loopback), into an LRS app in this process (SQLite, in a temporary
folder). A first run (everything), a second (nothing new), and a third after a tenth of the participants
completed one more activity. Prints, per run: seconds, web-service calls, statements, and calls/s.

    .venv/bin/python bench/moodle_websync.py [--courses 20] [--users 200] [--activities 5] [--per-second 0]

Numbers only: nothing here passes or fails on time. The REST server, the bridge and the LRS share one process
(and the machine), so the calls/s is the bridge's own overhead plus a loopback round trip, not a real Moodle's."""
import argparse
import logging
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402,F401  (puts the project on the path)

from lrs import create_app  # noqa: E402
from lrs.store import credentials  # noqa: E402
from lrs.store.migrate import upgrade  # noqa: E402
from plugins.moodle_bridge import config, job, lrs, websync  # noqa: E402
from plugins.moodle_bridge.webservice import WebService  # noqa: E402
from tests.moodle_server import TOKEN, Moodle, running  # noqa: E402


def build(courses: int, users: int, activities: int) -> Moodle:
    moodle = Moodle()
    now = int(time.time())
    for u in range(users):
        moodle.add_user(1000 + u, f"user{u}", f"Bruker {u}", f"user{u}@helse.example.no", idnumber=f"E{u}")
    for c in range(courses):
        course = 10 + c
        moodle.add_course(course, f"Kurs {c}", idnumber=f"K-{c}")
        moodle.enrol(course, *range(1000, 1000 + users))
        for a in range(activities):
            cmid = course * 100 + a
            moodle.add_activity(course, cmid, ("quiz", "scorm", "page", "h5pactivity", "assign")[a % 5],
                                f"Aktivitet {a}", graded=a % 5 == 0)
        for u in range(users):
            done = (u * 7 + c) % activities  # people have come different distances
            for a in range(done):
                moodle.activity_done[(course, 1000 + u, course * 100 + a)] = now - 86400 * (a + 1)
            if done == activities - 1:
                moodle.activity_done[(course, 1000 + u, course * 100 + done)] = now - 3600
                moodle.course_done[(course, 1000 + u)] = now - 3600
            if done:
                moodle.grades[(course, 1000 + u, course * 10000)] = (60.0 + u % 40, now - 86400)
    return moodle


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--courses", type=int, default=20)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--activities", type=int, default=5)
    parser.add_argument("--per-second", type=float, default=0)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per call otherwise
    moodle = build(args.courses, args.users, args.activities)
    with tempfile.TemporaryDirectory() as tmp, running(moodle) as site:
        url = f"sqlite:///{tmp}/lrs.db"
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"})
        upgrade(app.extensions["lrs.engine"])
        app.instance_path = tmp
        cred = credentials.create(app.extensions["lrs.engine"], "bench", job.SCOPES)
        send = job._in_process(app, cred["key"], cred["secret"])
        bridge = lrs.LRS(lambda method, path, body, headers: send(method, "/xapi" + path, body, headers))
        settings = config.from_mapping({"lrs_url": "http://lrs.invalid/xapi", "lrs_key": "-", "lrs_secret": "-",
                                        "site_url": site, "source": "webservice", "ws_token": TOKEN,
                                        "ws_per_second": args.per_second, "actor_id": "idnumber"})
        print(f"{args.courses} courses x {args.users} participants, {args.activities} activities each")
        for name in ("first run", "nothing new", "a tenth did one more"):
            if name == "a tenth did one more":
                for c in range(args.courses):
                    for u in range(0, args.users, 10):
                        key = (10 + c, 1000 + u, (10 + c) * 100 + args.activities - 1)
                        moodle.activity_done.setdefault(key, int(time.time()))
            moodle.calls.clear()
            started = time.perf_counter()
            summary = websync.run(settings, WebService(site, TOKEN, per_second=args.per_second), bridge)
            took = time.perf_counter() - started
            calls = len(moodle.calls)
            print(f"{name:>22}: {took:6.1f} s, {calls:6d} calls ({calls / took:5.0f}/s), "
                  f"{summary.statements:6d} statements, {summary.asked} of {summary.enrolments} enrolments asked")
        app.extensions["lrs.engine"].dispose()


if __name__ == "__main__":
    main()
