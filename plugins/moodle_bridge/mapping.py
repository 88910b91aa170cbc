"""Course -> competence mapping: "course completed in Moodle" proves competences, without hand-written rules.

The bridge's settings say which Moodle courses (by id, or by idnumber, resolved through web services) prove which
competence codes:

    competence_map:
      HLR-2024: [HLR]          # a course idnumber
      42: [SMITTE, HYGIENE]    # a course id

`apply` turns that into one evidence rule per competence and site, kept in the LRS through its rules API
(PUT /api/competence/rules/<id>, credential scope competence/rules): the course's completed statement proves the
competence, whether the log path, the web-services path or Moodle's own logstore_xapi plugin sent it (they name
the course alike: {site}/course/view.php?id=N). Competences dropped from the map have their rule withdrawn."""
from collections import defaultdict
from urllib.parse import urlsplit

from plugins.moodle_bridge import xapi


class MappingError(Exception):
    pass


def rule_id(site_url: str, code: str) -> str:
    """The rule that holds one competence's Moodle courses of one site: moodle:<host>:<code>."""
    return f"{rule_prefix(site_url)}{code}"


def rule_prefix(site_url: str) -> str:
    return f"moodle:{urlsplit(site_url).netloc}:"


def course_urls(settings, ws=None) -> dict[str, list[str]]:
    """competence code -> the course activity ids that prove it. Keys that are not numbers are idnumbers: they
    need web services (ws) to find their course."""
    by_code = defaultdict(set)
    for key, codes in (settings.competence_map or {}).items():
        if isinstance(codes, str):
            codes = [codes]
        if not isinstance(codes, list) or not codes or not all(isinstance(c, str) and c for c in codes):
            raise MappingError(f"competence_map: {key}: give a list of competence codes, not {codes!r}")
        course_id = _course_id(key, ws)
        for code in codes:
            by_code[code].add(xapi.course_activity(settings.site_url, course_id, None, "en")["id"])
    return {code: sorted(urls) for code, urls in sorted(by_code.items())}


def _course_id(key, ws) -> int:
    if isinstance(key, int) or str(key).isdigit():
        return int(key)
    if ws is None:
        raise MappingError(f"competence_map: {key} is a course idnumber; finding its course needs web services "
                           "(ws_token), or give the course id instead")
    found = ws.courses_by_field("idnumber", str(key))
    if not found:
        raise MappingError(f"competence_map: no Moodle course has the idnumber {key}")
    return found[0]["id"]


def rules_for(site_url: str, by_code: dict[str, list[str]]) -> list[dict]:
    return [{"id": rule_id(site_url, code), "competence": code, "kind": "any",
             "parts": [{"verbs": [xapi.COMPLETED["id"]], "activities": urls}]}
            for code, urls in by_code.items()]


def apply(settings, lrs, ws=None, dry_run: bool = False) -> list[dict]:
    """Put every rule the map gives, and withdraw this site's rules the map no longer gives, through the LRS's rules
    API (an xapi_client.Client). Returns the LRS's answer for each rule touched ({"id", "changed", "version",
    "status_changes", …})."""
    wanted = rules_for(settings.site_url, course_urls(settings, ws))
    answers = [lrs.put_rule(rule, dry_run) for rule in wanted]
    keep = {r["id"] for r in wanted}
    for existing in lrs.rules(rule_prefix(settings.site_url)):
        if existing["id"] not in keep:
            withdrawn = {**lrs.rule(existing["id"]), "active": False}
            answers.append(lrs.put_rule({k: v for k, v in withdrawn.items() if k not in ("version", "created")},
                                        dry_run))
    return answers
