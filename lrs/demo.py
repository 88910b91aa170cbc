"""`make run`'s first-run setup: a demo credential (shown once, with a curl line) and a little demo data."""
import argparse
import logging
import uuid

import xapi_client
from lrs import create_app
from lrs.store import credentials as creds
from lrs.store.db import write_transaction

DEMO_NAME = "demo"
HOME = "https://kompetanse.helse.example.no"
PEOPLE = [("Kari Nordmann", "kari.nordmann"), ("Ola Hansen", "ola.hansen"), ("Ingrid Berg", "ingrid.berg")]
COURSES = [("hlr-voksne", "HLR voksne", "CPR adults"), ("legemiddelhandtering", "Legemiddelhåndtering",
           "Medication handling"), ("smittevern", "Smittevern", "Infection control")]


def demo_statements() -> list[dict]:
    out = []
    for i, (name, account) in enumerate(PEOPLE):
        for j, (slug, nb, en) in enumerate(COURSES):
            if (i + j) % 3 == 2:
                continue
            out.append({
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo/{account}/{slug}")),
                "actor": {"objectType": "Agent", "name": name, "account": {"homePage": HOME, "name": account}},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"nb-NO": "fullførte", "en-US": "completed"}},
                "object": {"objectType": "Activity", "id": f"{HOME}/kurs/{slug}",
                           "definition": {"name": {"nb-NO": nb, "en-US": en},
                                          "type": "http://adlnet.gov/expapi/activities/course"}},
                "result": {"completion": True, "success": True, "score": {"scaled": 0.8 + 0.05 * j}},
            })
    return out


def load_trust(app, client: xapi_client.Client, port: int = 8080):
    """The demo health trust: units, catalog, ~200 employees and their learning records, then their plans."""
    from lrs.competence import demo, engine, imports
    from lrs.store.types import utcnow

    db, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    with write_transaction(db) as conn:
        imports.import_hr(conn, settings, "units.csv", demo.units_csv())
        imports.import_catalog(conn, settings, "catalog.yaml", demo.CATALOG.read_text())
        imports.import_hr(conn, settings, "employees.csv", demo.employees_csv())
    records = demo.statements(settings.day(utcnow()))
    for i in range(0, len(records), 500):
        client.post_statements(records[i:i + 500])
    engine.process_all_new(db, settings)
    _demo_programmes(app, client)
    _demo_targets(db)
    _demo_users(db, port)
    print(f"Demo trust: {len(demo.UNITS)} units, {demo.employees_csv().count(chr(10)) - 1} employees, "
          f"{len(records)} learning records.")


# Education programmes: a doctor in specialist training (LIS) whose supervisor holds supervision competence, and an
# apprentice whose supervisor does not yet (the leader's overview lists her).
LIS, VEILEDER, LAERLING, LAERLING_VEILEDER = "100021", "100026", "100029", "100003"


def _demo_programmes(app, client: xapi_client.Client):
    from dateutil.relativedelta import relativedelta

    from lrs.competence import demo, engine
    from lrs.programmes import EXAMPLES, service
    from lrs.principal import Principal
    from lrs.store.db import write_transaction
    from lrs.store.types import utcnow

    db, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    today = settings.day(utcnow())
    client.post_statements([{
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "demo/veileder-kurs")),
        "actor": {"objectType": "Agent", "account": {"homePage": demo.HOME, "name": VEILEDER}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"objectType": "Activity", "id": "https://kurs.helse.example.no/veileder"},
        "timestamp": f"{today.year - 2}-09-01T10:00:00Z"}])
    engine.process_all_new(db, settings)
    with write_transaction(db) as conn:
        for path in sorted(EXAMPLES.glob("*.yaml")):
            service.import_programme(conn, path.name, path.read_text(encoding="utf-8"))
        lis = service.enrol(conn, settings, "LIS-IM", LIS, today - relativedelta(months=14), VEILEDER,
                            demo.LEADERS["med"])
        service.enrol(conn, settings, "LAERLING-HELSE", LAERLING, today - relativedelta(months=4), LAERLING_VEILEDER,
                      demo.LEADERS["med"])
        participant = Principal("demo", LIS, frozenset({"employee"}))
        supervisor = Principal("demo-veileder", VEILEDER, frozenset({"employee"}))
        for days, title in ((60, "Veiledningssamtale: mål for våren"), (20, "Veiledningssamtale: akuttvakter")):
            entry = service.log_entry(conn, settings, lis, participant, "IM-001", "supervision", title,
                                      today - relativedelta(days=days))
            if days == 60:
                service.decide_entry(conn, settings, entry, supervisor, True)
        service.log_entry(conn, settings, lis, participant, "IM-002", "procedure", "Pleuratapping, medisinsk post",
                          today - relativedelta(days=5))


def _demo_targets(db):
    """The region's staffing targets (two trusts; the monthly indicators come with the first month-end)."""
    from pathlib import Path

    from lrs.capacity import targets
    from lrs.store.db import write_transaction

    text = (Path(__file__).parent / "capacity" / "demo_targets.yaml").read_text(encoding="utf-8")
    with write_transaction(db) as conn:
        targets.save(conn, targets.read("demo_targets.yaml", text))


def _demo_users(db, port: int):
    """Web sign-ins for the demo: an employee, the medical clinic's leader, an instructor from the simulation centre
(no employee), a course author, an admin, and for the programmes a supervisor and a doctor in specialist training
(passwords shown once)."""
    import secrets

    from lrs.competence import demo
    from lrs.web import accounts

    password = secrets.token_urlsafe(12)
    password_hash = accounts.hash_password(password)
    with write_transaction(db) as conn:
        accounts.create(conn, "kari", "Kari (ansatt)", ["employee"], password_hash, employee_id="100002")
        accounts.create(conn, "leder", "Leder, Medisinsk klinikk", ["employee", "leader"], password_hash,
                        employee_id=demo.LEADERS["med"], led_units=["med"])
        accounts.create(conn, "admin", "Administrator", ["admin", "instructor"], password_hash)
        accounts.create(conn, "instruktor", "Ine Instruktør (simuleringssenteret)", ["instructor"], password_hash)
        accounts.create(conn, "forfatter", "Frida Forfatter (kursutvikler)", ["author"], password_hash)
        accounts.create(conn, "veileder", "Veileder (overlege)", ["employee"], password_hash, employee_id=VEILEDER)
        accounts.create(conn, "lis", "Lege i spesialisering", ["employee"], password_hash, employee_id=LIS)
        accounts.create(conn, "region", "Regionen (lesetilgang)", ["region"], password_hash)
        accounts.create(conn, "foretak", "Administrator, Helse Fjord HF", ["trust_admin"], password_hash,
                        led_units=["hf2"])
    print(f"Web UI: http://127.0.0.1:{port}/  users kari (employee), leder (leader), instruktor (instructor, no "
          f"employee), forfatter (author), admin, veileder (supervisor), lis (in a programme), region (regional, "
          f"/capacity), foretak (trust admin of Helse Fjord); password: {password}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    app = create_app()
    logging.getLogger("lrs.requests").setLevel(logging.WARNING)  # the demo's own requests are not news
    engine = app.extensions["lrs.engine"]
    existing = [c for c in creds.list_all(engine) if c["name"] == DEMO_NAME and not c["revoked_us"]]
    if existing:
        print(f"Demo credential {existing[0]['key']} exists; its secret was shown when it was made.\n"
              f"Make another with: .venv/bin/lrs credentials create --name me --scope all")
        return
    cred = creds.create(engine, DEMO_NAME, ("all",))
    client = xapi_client.in_process(app, cred["key"], cred["secret"])  # through the xAPI API, as any client
    client.post_statements(demo_statements())
    load_trust(app, client, args.port)
    print(f"""
Demo credential (shown once; keep it):
  key:    {cred['key']}
  secret: {cred['secret']}
Try it:
  curl -u {cred['key']}:{cred['secret']} -H 'X-Experience-API-Version: 1.0.3' http://127.0.0.1:{args.port}/xapi/statements
""")


if __name__ == "__main__":
    main()
