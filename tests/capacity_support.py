"""A small region of two trusts for the capacity tests: units, catalog, employees (with leavers and a
retirement), learning records and staffing targets, set up on 15 January 2027 (the clock stands still there).
docs/capacity.md and tests/test_capacity.py work out by hand what its forecast and indicators must be."""
from datetime import date, datetime, timezone

import time_machine

from lrs.capacity import targets
from lrs.competence import imports
from lrs.store.db import write_transaction
from tests.competence_support import COMPLETED, PASSED, process, send, statement

NOW = datetime(2027, 1, 15, 10, 0, tzinfo=timezone.utc)
TODAY = date(2027, 1, 15)
HLR = "https://kurs.helse.example.no/hlr"
INT = "https://kurs.helse.example.no/intensiv"

UNITS = """unit_id,parent_id,name,kind,leader_id
nord,,Helse Nord HF,trust,
nord-icu,nord,Intensiv Nord,department,N1
nord-akutt,nord,Akutt Nord,department,
sor,,Helse Sør HF,trust,
sor-icu,sor,Intensiv Sør,department,
"""

CATALOG = """
job_roles:
  - {code: spl, nb: Sykepleier, en: Nurse}
  - {code: lege, nb: Lege, en: Physician}
competences:
  - {code: HLR, name_nb: Hjerte-lunge-redning, name_en: CPR, area: Akutt, validity_months: 12, renewal_days: 60}
  - {code: INT, name_nb: Intensivsykepleie, name_en: Intensive care nursing, area: Intensiv, validity_months: 36,
     renewal_days: 90}
requirements:
  - {role: spl, competence: HLR, mandatory: true, new_employee_days: 30, in_force_from: 2020-01-01}
  - {role: lege, competence: HLR, mandatory: true, new_employee_days: 30, in_force_from: 2020-01-01}
  - {role: spl, competence: INT, unit: nord-icu, mandatory: true, new_employee_days: 180, in_force_from: 2020-01-01}
  - {role: spl, competence: INT, unit: sor-icu, mandatory: true, new_employee_days: 180, in_force_from: 2020-01-01}
rules:
  - id: hlr
    competence: HLR
    parts: [{verbs: [http://adlnet.gov/expapi/verbs/passed], activities: [https://kurs.helse.example.no/hlr]}]
  - id: int
    competence: INT
    parts: [{verbs: [http://adlnet.gov/expapi/verbs/completed], activities: [https://kurs.helse.example.no/intensiv]}]
"""

EMPLOYEES = """employee_id,name,email,unit_id,roles,started_on,left_on,planned_leaving_on,leaving_reason
N1,Nina En,n1@nord.example.no,nord-icu,spl,2020-01-01,,,
N2,Nils To,,nord-icu,spl,2010-01-01,,2027-09-30,retirement
N3,Nora Tre,,nord-icu,spl,2021-01-01,2027-04-30,,resignation
N4,Noah Fire,,nord-icu,spl,2026-12-01,,,
N5,Nanna Fem,,nord-icu,lege,2019-01-01,,,
A1,Anne En,,nord-akutt,spl,2018-01-01,,,
A2,Arne To,,nord-akutt,spl,2018-01-01,,,
S1,Siri En,,sor-icu,spl,2017-01-01,,,
S2,Sven To,,sor-icu,spl,2017-01-01,,,
"""

LEARNING = [("N1", PASSED, HLR, "2026-03-10"), ("N1", COMPLETED, INT, "2025-06-01"),
            ("N2", PASSED, HLR, "2026-06-20"), ("N2", COMPLETED, INT, "2024-02-01"),
            ("N3", PASSED, HLR, "2026-11-05"), ("N3", COMPLETED, INT, "2026-01-10"),
            ("N5", PASSED, HLR, "2026-08-01"),
            ("A1", PASSED, HLR, "2025-12-01"), ("A2", PASSED, HLR, "2026-12-20"),
            ("S1", PASSED, HLR, "2026-05-05"), ("S1", COMPLETED, INT, "2025-01-20")]

TARGETS = """
targets:
  - {id: T1, unit: nord-icu, competence: INT, minimum: 3}
  - {id: T2, unit: nord-icu, competence: HLR, role: spl, per: shift, minimum: 1, groups: 3}
  - {id: T3, unit: nord, competence: HLR, minimum: 4}
  - {id: T4, unit: sor-icu, competence: INT, minimum: 2}
  - {id: T5, unit: nord-akutt, competence: HLR, minimum: 1}
"""


def load_region(app, xapi):
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    with time_machine.travel(NOW, tick=False):
        with write_transaction(engine) as conn:
            imports.import_hr(conn, settings, "units.csv", UNITS)
            imports.import_catalog(conn, settings, "catalog.yaml", CATALOG)
            imports.import_hr(conn, settings, "employees.csv", EMPLOYEES)
        send(xapi, *(statement(who, verb, activity, datetime.fromisoformat(day + "T09:00:00+00:00"))
                     for who, verb, activity, day in LEARNING))
        process(app)
        with write_transaction(engine) as conn:
            targets.save(conn, targets.read("targets.yaml", TARGETS))


def create_capacity_people(engine):
    """Web accounts: Regine (the regional role), Tor (trust admin of Helse Nord), Nina (employee N1, leader of
    nord-icu) and an admin; all with tests.helpers.PASSWORD."""
    from lrs.web import accounts
    from tests.helpers import password_hash
    with write_transaction(engine) as conn:
        accounts.create(conn, "regine", "Regine Region", ["region"], password_hash())
        accounts.create(conn, "tor", "Tor Trust", ["trust_admin"], password_hash(), led_units=["nord"])
        accounts.create(conn, "nina", "Nina En", ["employee", "leader"], password_hash(), employee_id="N1",
                        led_units=["nord-icu"])
        accounts.create(conn, "admin", "Admin Istrator", ["admin"], password_hash())
