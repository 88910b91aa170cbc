"""A day of sessions from a CSV file: one row per participant; the session columns repeat (or are left empty
after the first row of a session).

    session,scenario,start,place,location,facilitators,employee_id,profession,role,attended,team:team:global,...
    1,sepsis-akutt,2026-11-24T09:00+01:00,in_situ,Akuttmottaket,L1,E1,sykepleier,teamleder,yes,7
    1,,,,,,E2,lis,lege,yes,

Rating columns: `team:<scale>:<item>` (the team's, on a session's first row) and `rating:<scale>:<item>` (the
participant's). Facilitators are employee ids separated by ";"."""
import csv
import io

SESSION_COLUMNS = ("scenario", "start", "place", "location", "facilitators")


def read(text: str) -> list[dict]:
    """The sessions of the file, in the shape simulation.sessions.load takes (checked there)."""
    found: dict[str, dict] = {}
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        key = row.get("session") or f"line {line}"
        session = found.get(key)
        if session is None:
            session = found[key] = {"scenario": row.get("scenario", ""), "start": row.get("start", ""),
                                    "place": row.get("place", ""), "location": row.get("location", ""),
                                    "facilitators": [f for f in row.get("facilitators", "").split(";") if f],
                                    "participants": [], "team_ratings": {}, "_line": line}
        ratings: dict = {}
        for column, value in row.items():
            if not value or ":" not in column:
                continue
            kind, scale, item = (column.split(":") + ["", ""])[:3]
            target = session["team_ratings"] if kind == "team" else ratings if kind == "rating" else None
            if target is not None:
                target.setdefault(scale, {})[item] = int(value) if value.lstrip("-").isdigit() else value
        session["participants"].append({
            "employee_id": row.get("employee_id", ""), "profession": row.get("profession", ""),
            "role": row.get("role", ""), "attended": row.get("attended", "yes").lower() in ("yes", "ja", "1", "true"),
            "ratings": ratings})
    return list(found.values())
