"""A demo trust for `make run`: ~200 employees in clinics and departments (units.yaml), the demo catalog
(catalog.yaml, ~30 competences), and learning records spread over the last years, so every status shows up.
Made up, deterministic."""
import csv
import io
import random
import uuid
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import yaml

CATALOG = Path(__file__).with_name("catalog.yaml")
ADL = "http://adlnet.gov/expapi/verbs/"
SIM_TYPE = "https://kompetanse.helse.example.no/xapi/activities/simulation-session"

UNITS = [tuple(u) for u in yaml.safe_load(  # id, parent, name, kind
    CATALOG.with_name("units.yaml").read_text(encoding="utf-8"))]
STAFF = {  # unit -> [(role, how many)]
    "akutt": [("sykepleier", 14), ("spesialsykepleier", 6), ("lis", 5), ("overlege", 3), ("helsefagarbeider", 3)],
    "hjerte": [("sykepleier", 12), ("spesialsykepleier", 4), ("lis", 4), ("overlege", 3), ("helsefagarbeider", 3)],
    "lunge": [("sykepleier", 10), ("lis", 3), ("overlege", 2), ("helsefagarbeider", 4)],
    "orto": [("sykepleier", 12), ("lis", 4), ("overlege", 3), ("helsefagarbeider", 4)],
    "barn": [("sykepleier", 6), ("spesialsykepleier", 3), ("overlege", 1)],
    "fode": [("jordmor", 12), ("sykepleier", 4), ("lis", 3), ("overlege", 2)],
    "psyk": [("sykepleier", 10), ("helsefagarbeider", 6), ("lis", 3), ("overlege", 2)],
    "drift": [("portor", 10), ("kontor", 6)],
    "rad": [("radiograf", 8), ("overlege", 2), ("kontor", 2)],
    # Helse Fjord HF (after the first trust's people, so their numbers and records stay as they were)
    "fjord-int": [("spesialsykepleier", 10), ("sykepleier", 6), ("overlege", 2)],
    "fjord-akutt": [("sykepleier", 10), ("lis", 3), ("helsefagarbeider", 3)],
}
FIRST = ["Kari", "Ola", "Ingrid", "Per", "Anne", "Lars", "Marit", "Jon", "Silje", "Erik", "Hanne", "Knut", "Nora",
         "Emil", "Ida", "Sindre", "Maja", "Jonas", "Sara", "Ahmed", "Fatima", "Piotr", "Aisha", "Mohammed", "Linnea",
         "Tor", "Astrid", "Even", "Thea", "Magnus", "Sofie", "Henrik", "Vilde", "Amir", "Hege", "Bjørn"]
LAST = ["Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
        "Jensen", "Karlsen", "Berg", "Haugen", "Hagen", "Eriksen", "Bakke", "Lie", "Dahl", "Moen", "Ali", "Nowak",
        "Solberg", "Strand", "Lund", "Aas", "Holm", "Næss", "Vik", "Sæther", "Khan"]
HOME = "https://id.helse.example.no"


def units_csv() -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["unit_id", "parent_id", "name", "kind", "leader_id"])
    for unit_id, parent, name, kind in UNITS:
        w.writerow([unit_id, parent or "", name, kind, LEADERS.get(unit_id, "")])
    return out.getvalue()


def _people():
    rng = random.Random(7)
    number = 100001
    for unit, staff in STAFF.items():
        for role, count in staff:
            for _ in range(count):
                first, last = rng.choice(FIRST), rng.choice(LAST)
                started = date(2026, 11, 1) - timedelta(days=int(rng.expovariate(1 / 1500)))
                yield str(number), f"{first} {last}", unit, role, started
                number += 1


# The first employee of a clinic's first department leads the clinic (gets its weekly digest).
LEADERS = {"med": "100001", "kir": "100080", "kvinne": "100113"}


def employees_csv() -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["employee_id", "name", "email", "unit_id", "roles", "started_on", "left_on", "planned_leaving_on",
                "leaving_reason"])
    leaving = random.Random(21)  # known leavers and retirements, for the capacity forecast
    for employee_id, name, unit, role, started in _people():
        email = name.lower().replace(" ", ".").replace("ø", "o").replace("æ", "ae").replace("å", "a")
        planned, reason = "", ""
        if leaving.random() < 0.06:
            planned = (date(2026, 12, 1) + timedelta(days=leaving.randrange(20, 900))).isoformat()
            reason = leaving.choice(["retirement", "retirement", "resignation"])
        w.writerow([employee_id, name, f"{email}.{employee_id}@helse.example.no", unit, role, started.isoformat(),
                    "", planned, reason])
    return out.getvalue()


def statements(today: date) -> list[dict]:
    """Learning records for the demo people: most did most of what their role needs, some long ago."""
    catalog = yaml.safe_load(CATALOG.read_text())
    required = {}
    for req in catalog["requirements"]:
        required.setdefault(req["role"], []).append(req["competence"])
    rules = {r["competence"]: r for r in catalog["rules"]}
    rng = random.Random(11)
    out = []
    for employee_id, _name, unit, role, _started in _people():
        actor = {"objectType": "Agent", "account": {"homePage": HOME, "name": employee_id}}
        for code in required.get(role, []):
            if rng.random() < 0.15:
                continue  # never done: missing (or not yet due)
            rule = rules[code]
            when = today - timedelta(days=int(rng.triangular(5, 900, 200)))
            for i, part in enumerate(rule["parts"] * (rule.get("count") or 1)):
                day = when - timedelta(days=40 * i)
                moment = datetime.combine(day, time(9 + i % 8, 30), tzinfo=timezone.utc)
                if part.get("activities"):
                    obj = {"objectType": "Activity", "id": part["activities"][0],
                           "definition": {"type": "http://adlnet.gov/expapi/activities/course"}}
                else:
                    obj = {"objectType": "Activity", "id": f"https://sim.helse.example.no/okt/{unit}/{day}",
                           "definition": {"type": SIM_TYPE}}
                verb = part["verbs"][0]
                result = {"completion": True, "success": True, "score": {"scaled": round(rng.uniform(0.82, 1), 2)}}
                out.append({"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo/{employee_id}/{code}/{i}")),
                            "actor": actor, "verb": {"id": verb}, "object": obj, "result": result,
                            "timestamp": moment.isoformat()})
    return out
