"""Validation of xAPI Statements: every MUST of the Data part of xAPI 1.0.3 and of the statement data sections
of xAPI 2.0 (IEEE 9274.1.1), for the LRS to reject what it must reject with 400 Bad Request.

The entry points are validate_statement() and the small validators the resources use for their parameters.
Everything raises StatementError, whose message names the property path and the rule broken:

    statement[3].actor.mbox: must be a 'mailto:' IRI of an email address, e.g. 'mailto:kari@example.no', not 'kari'

Design, for speed (the LRS takes >= 10,000 statements a second): one small function per object type, field
dispatch tables instead of schemas, regexes compiled once, key sets checked with frozenset.issuperset (no
allocation), and no exceptions on the happy path. Property paths are built as the walk goes down.

Why one file of ~800 lines: it is one walk over one data model, its small functions call each other by the shape
of a statement, and the spec's rules are easiest to check against it read top to bottom; split, each part would
import most of the others.

What is checked, in short (xAPI 1.0.3 Data 2.2, 2.4, 4; IEEE 9274.1.1 4.2.1, 4.2.2, 4.2.4.2, 4.2.5, 4.2.7):
- only the properties the spec defines, with the JSON type it gives them (no null except inside extensions,
  booleans are not numbers, strings are not numbers or booleans), enumerated values in their exact case;
- formats: IRIs/IRLs (scheme ':' non-empty rest, no white space), UUIDs, mailto IRIs, SHA-1 and SHA-2 hex,
  RFC 5646 language tags, ISO 8601 timestamps and durations, Internet media types, 'version';
- Agents with exactly one inverse functional identifier, Groups (anonymous ones with members, no nested Groups),
  'authority' an Agent or an anonymous Group of two Agents, team a Group, the objectType rules of objects,
  StatementRefs, SubStatements (no id/stored/version/authority, no nesting), interaction activities,
  score ranges, context revision/platform only with an Activity object, voiding statements with a StatementRef;
- 2.0 only: contextAgents and contextGroups (rejected under 1.0.x) and timestamps with a time zone.
"""
import re
from datetime import datetime, timezone

from lrs.model.verbs import VOIDED

__all__ = ["StatementError", "validate_statement", "validate_agent", "validate_activity_id",
           "validate_uuid", "validate_timestamp", "validate_language_map"]


class StatementError(ValueError):
    """Raised for a statement that breaks a MUST of the spec. str(e) is a person-readable message naming the
    property path and the rule, e.g. "statement[3].actor.mbox: must be a 'mailto:' IRI"."""


# ------------------------------------------------------------------------------------------------ public API

def validate_statement(stmt, version: str, path: str = "statement") -> None:
    """Check one statement as sent to the LRS. version is the request's X-Experience-API-Version, normalised to
    '1.0.3' (any 1.0.x) or '2.0.0'. Raises StatementError. stmt is the parsed JSON (dict, or anything else ->
    error)."""
    v2 = _is_v2(version)
    kind = _statement(stmt, path, v2, False)
    # Data 2.3.2 / 9274.1.1 4.2.5: a voiding statement's object is the StatementRef of the voided statement.
    if stmt["verb"]["id"] == VOIDED and kind != "StatementRef":
        _fail(path + ".object", f"a voiding Statement (verb {VOIDED}) must have a StatementRef as its object, "
                                f"not {_an(kind)}")


def validate_agent(obj, path: str, version: str = "2.0.0") -> None:
    """An Agent, or an identified Group, as given in the `agent` parameter of the statement query and of the
    document resources. An anonymous Group identifies nobody, so it is rejected here."""
    if _agent_or_group(obj, path, "an Agent object (or an identified Group)") == "Group" and not _has_ifi(obj):
        _fail(path, "an anonymous Group identifies no one; give an Agent or an identified Group "
                    "(one with mbox, mbox_sha1sum, openid or account)")


def validate_activity_id(value, path) -> None:
    """An Activity id: an absolute IRI."""
    _iri(value, path)


def validate_uuid(value, path) -> None:
    """A UUID in the standard string form (8-4-4-4-12 hex digits, any case, any variant)."""
    if not isinstance(value, str):
        _type_error(path, "a UUID string", value)
    if _UUID(value) is None:
        _fail(path, f"must be a UUID such as 'a6cae5b5-3a96-4c47-8b3c-b8d0e3ec8e9a', not {_show(value)}")


def validate_timestamp(value, path, version) -> None:
    """An ISO 8601 date and time (RFC 3339 is the expected profile). Under 2.0 it must have a time zone (Z or an
    offset); the negative zero offsets -00, -0000 and -00:00 ('local time unknown') are rejected in both."""
    _timestamp(value, path, _is_v2(version))


def validate_language_map(value, path) -> None:
    """A language map: an object whose keys are RFC 5646 language tags and whose values are strings."""
    _language_map(value, path)


# ------------------------------------------------------------------------------------------------ errors

def _fail(path, rule):
    raise StatementError(f"{path}: {rule}")


_JSON_KIND = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number",
              bool: "a boolean", type(None): "null"}


def _kind(value) -> str:
    return _JSON_KIND.get(type(value)) or f"a {type(value).__name__}"


def _type_error(path, expected, value):
    if value is None:
        _fail(path, f"must be {expected}, not null (null is only allowed inside extensions)")
    _fail(path, f"must be {expected}, not {_kind(value)}")


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _an(word) -> str:
    if not isinstance(word, str):
        return _show(word)
    return ("an " if word[:1] in "AEIOU" else "a ") + word


def _bad_object_type(path, value, allowed):
    options = " or ".join(repr(a) for a in allowed) if len(allowed) < 3 else \
        "one of " + ", ".join(repr(a) for a in allowed)
    if not isinstance(value, str):
        _type_error(path + ".objectType", f"the string {options}", value)
    _fail(path + ".objectType", f"must be {options} (exactly, case matters), not {_show(value)}")


def _unknown(obj, allowed, path, what, hints=None):
    """Report the properties of obj that are not in allowed (the caller knows there is at least one)."""
    extra = [k for k in obj if k not in allowed]
    if hints:
        for key in extra:
            if key in hints:
                _fail(f"{path}.{key}", hints[key])
    names = ", ".join(_show(k) for k in extra)
    verb = "is not a property" if len(extra) == 1 else "are not properties"
    _fail(path, f"{names} {verb} of {what} (it can have {', '.join(sorted(allowed))})")


def _object_with(obj, keys, path, what, expected=None):
    """obj must be a JSON object with no property outside keys; expected names what a non-object should have been
    (default: what + ' object')."""
    if not isinstance(obj, dict):
        _type_error(path, expected or f"{what} object", obj)
    if not keys.issuperset(obj):
        _unknown(obj, keys, path, what)


def _fields(obj, fields, path, what, hints=None):
    """Check each property of obj with its checker in fields (a dispatch table); any other is an error."""
    for key, value in obj.items():
        check = fields.get(key)
        if check is None:
            _unknown(obj, fields, path, what, hints)
        check(value, f"{path}.{key}")


def _one_type(obj, path, object_type, check, default=None, group_rule=None):
    """An object where only one objectType may be; default is the objectType it has when it gives none (None:
    it must give it). group_rule is the message for a Group given instead. check then checks the rest."""
    if not isinstance(obj, dict):
        _type_error(path, f"{_an(object_type)} object", obj)
    given = obj.get("objectType", default)
    if given != object_type:
        if "objectType" not in obj:
            _fail(path, f"must be {_an(object_type)}, with \"objectType\": \"{object_type}\"")
        if group_rule and given == "Group":
            _fail(path, group_rule)
        _bad_object_type(path, given, (object_type,))
    check(obj, path)


# ------------------------------------------------------------------------------------------------ formats

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z").match
# IRI (RFC 3987), pragmatically: a scheme, ':', and a non-empty rest without white space or control characters.
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f-\x9f]+\Z").match
_MBOX = re.compile(r"mailto:[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)*\Z").match
_SHA1 = re.compile(r"[0-9a-fA-F]{40}\Z").match
_HEX = re.compile(r"[0-9a-fA-F]+\Z").match
_SHA2_LENGTHS = frozenset((56, 64, 96, 128))  # SHA-224, SHA-256, SHA-384, SHA-512 (and SHA-512/224, /256)
# Internet media type (RFC 6838 names), parameters after ';' taken as they come.
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+\-]+/[A-Za-z0-9!#$&^_.+\-]+(?:[ \t]*;[^\r\n]*)?\Z").match
_VERSION_1 = re.compile(r"1\.0(?:\.[0-9]+)?\Z").match
_VERSION_2 = re.compile(r"[12]\.0(?:\.[0-9]+)?\Z").match

# RFC 5646 Language-Tag: langtag / privateuse / grandfathered, case-insensitive.
_LANGUAGE_TAG = re.compile(r"""
    (?: (?: [a-z]{2,3} (?:-[a-z]{3}){0,3}       # language, with up to three extlang subtags
          | [a-z]{4,8} )
        (?:-[a-z]{4})?                          # script
        (?:-(?:[a-z]{2}|[0-9]{3}))?             # region
        (?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*  # variants
        (?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*     # extensions
        (?:-x(?:-[a-z0-9]{1,8})+)?              # private use
      | x(?:-[a-z0-9]{1,8})+                    # private use only
      | en-GB-oed | i-ami | i-bnn | i-default | i-enochian | i-hak | i-klingon | i-lux | i-mingo
      | i-navajo | i-pwn | i-tao | i-tay | i-tsu | sgn-BE-FR | sgn-BE-NL | sgn-CH-DE
      | art-lojban | cel-gaulish | no-bok | no-nyn | zh-guoyu | zh-hakka | zh-min | zh-min-nan | zh-xiang
    )\Z""", re.VERBOSE | re.IGNORECASE | re.ASCII).match
# Values already found valid. Statements repeat the same few verbs, activities, extension keys and language tags
# over and over: a set lookup is several times cheaper than the regex. Bounded: cleared when full.
_KNOWN_IRIS: set = set()
_KNOWN_TAGS: set = set()
_KNOWN_MBOXES: set = set()
_KNOWN_MAX = 8192

# ISO 8601 combined date and time, extended format (RFC 3339 is a profile of it) or basic format; seconds and time
# zone optional (a zone is required in 2.0). Groups: year, month, day, zone.
_TIMESTAMP = re.compile(r"""
    ([0-9]{4}) - (0[1-9]|1[0-2]) - (0[1-9]|[12][0-9]|3[01])
    T (?:[01][0-9]|2[0-3]) : [0-5][0-9] (?: : [0-5][0-9] (?:[.,][0-9]+)? )?
    ( Z | [+-] (?:[01][0-9]|2[0-3]) (?: :?[0-5][0-9] )? )?
    \Z""", re.VERBOSE | re.ASCII).match
_TIMESTAMP_BASIC = re.compile(r"""
    ([0-9]{4}) (0[1-9]|1[0-2]) (0[1-9]|[12][0-9]|3[01])
    T (?:[01][0-9]|2[0-3]) [0-5][0-9] (?: [0-5][0-9] (?:[.,][0-9]+)? )?
    ( Z | [+-] (?:[01][0-9]|2[0-3]) (?: [0-5][0-9] )? )?
    \Z""", re.VERBOSE | re.ASCII).match
_DAYS_IN_MONTH = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

# ISO 8601:2004 4.4.3.2 duration: PnYnMnDTnHnMnS (each part optional, at least one) or PnW; a decimal fraction
# only on the last part (the lookahead). The alternative format (4.4.3.3, P0003-01-02T...) is rejected.
_N = r"[0-9]+(?:[.,][0-9]+(?=[A-Z]\Z))?"
_DURATION = re.compile(rf"""
    P (?: {_N}W
        | (?=[0-9]|T[0-9]) (?:{_N}Y)? (?:{_N}M)? (?:{_N}D)? (?: T(?=[0-9]) (?:{_N}H)? (?:{_N}M)? (?:{_N}S)? )?
      )\Z""", re.VERBOSE | re.ASCII).match

_INTERACTION_TYPES = frozenset(("true-false", "choice", "fill-in", "long-fill-in", "matching", "performance",
                                "sequencing", "likert", "numeric", "other"))


def _is_v2(version) -> bool:
    return isinstance(version, str) and version[:2] == "2."


def _string(value, path, *_):
    if not isinstance(value, str):
        _type_error(path, "a string", value)


def _matching(match, expected, rule):
    """The checker of a string format: expected names the type a non-string should have been, rule (with {} for
    the value) says what the format is."""
    def check(value, path, *_):
        if not isinstance(value, str):
            _type_error(path, expected, value)
        if match(value) is None:
            _fail(path, rule.format(_show(value)))
    return check


def _boolean(value, path, *_):
    if value is not True and value is not False:
        _type_error(path, "a boolean (true or false)", value)


def _number(value, path):
    if isinstance(value, float):
        if value - value != 0:  # inf or nan
            _fail(path, f"must be a finite number, not {value}")
    elif not isinstance(value, int) or isinstance(value, bool):
        _type_error(path, "a number", value)


def _iri(value, path, *_):
    if not isinstance(value, str):
        _type_error(path, "an IRI string", value)
    if value not in _KNOWN_IRIS:
        if _IRI(value) is None:
            _fail(path, f"must be an absolute IRI with a scheme, e.g. 'https://example.com/x', not {_show(value)}")
        _remember(_KNOWN_IRIS, value)


def _remember(known: set, value: str):
    if len(known) >= _KNOWN_MAX:
        known.clear()
    known.add(value)


def _uuid(value, path, *_):
    validate_uuid(value, path)


def _language_tag(tag, path):
    if tag in _KNOWN_TAGS:
        return
    if not isinstance(tag, str) or _LANGUAGE_TAG(tag) is None:
        _fail(path, f"{_show(tag)} is not an RFC 5646 language tag (such as 'en', 'nb-NO' or 'zh-Hant-TW')")
    _remember(_KNOWN_TAGS, tag)


def _language_map(value, path, *_):
    if not isinstance(value, dict):
        _type_error(path, "a language map (an object like {\"en-US\": \"text\"})", value)
    for tag, text in value.items():
        if tag not in _KNOWN_TAGS:
            _language_tag(tag, path)
        if not isinstance(text, str):
            _type_error(f"{path}[{tag!r}]", "a string", text)


def _language(value, path, *_):
    if not isinstance(value, str):
        _type_error(path, "an RFC 5646 language tag string", value)
    _language_tag(value, path)


def _extensions(value, path, *_):
    if not isinstance(value, dict):
        _type_error(path, "an extensions object (IRI keys, any JSON values)", value)
    for key in value:
        if key not in _KNOWN_IRIS:
            if not isinstance(key, str) or _IRI(key) is None:
                _fail(path, f"extension key {_show(key)} is not an IRI (extension keys must be absolute IRIs)")
            _remember(_KNOWN_IRIS, key)


def _timestamp(value, path, v2, *_):
    if not isinstance(value, str):
        _type_error(path, "an ISO 8601 timestamp string", value)
    m = _TIMESTAMP(value) or _TIMESTAMP_BASIC(value)
    if m is None:
        _fail(path, f"must be an ISO 8601 date and time such as '2026-11-24T12:30:00.000Z', not {_show(value)}")
    year, month, day, zone = m.groups()
    if year == "0000" or (year == "0001" or year == "9999") and zone and zone != "Z" and _outside_utc_range(m):
        _fail(path, f"{_show(value)} is out of range (years 0001 to 9999, in UTC too)")
    if day > "28" and int(day) > _DAYS_IN_MONTH[int(month)] or (
            month == "02" and day == "29" and not _leap(int(year))):
        _fail(path, f"{_show(value)} is not a date that exists")
    if zone is None:
        if v2:
            _fail(path, f"must include a time zone ('Z' or an offset such as '+01:00') under xAPI 2.0, "
                        f"not {_show(value)}")
    elif zone[0] == "-" and not zone.strip("-0:"):
        _fail(path, f"the offset {zone} (an unknown local offset) is not allowed; use 'Z' or '+00:00' for UTC")


def _outside_utc_range(match) -> bool:
    """A time in year 1 or 9999 whose offset takes it out of those years in UTC (rare: checked the slow way)."""
    try:
        datetime.fromisoformat(match.group(0)).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return True
    return False


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


_duration = _matching(_DURATION, "an ISO 8601 duration string",
                      "must be an ISO 8601 duration such as 'PT1H30M5.25S' or 'P3D' (a decimal fraction only in "
                      "the last part), not {}")


# ------------------------------------------------------------------------------------------------ actors

_AGENT_KEYS = frozenset(("objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"))
_GROUP_KEYS = _AGENT_KEYS | {"member"}
_ACCOUNT_KEYS = frozenset(("homePage", "name"))
_IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")
_AGENT_HINTS = {"member": "only a Group has members (a Group needs \"objectType\": \"Group\")"}


def _mbox(value, path):
    if not isinstance(value, str):
        _type_error(path, "a 'mailto:' IRI string", value)
    if value not in _KNOWN_MBOXES:
        if _MBOX(value) is None:
            _fail(path, f"must be a 'mailto:' IRI of an email address, e.g. 'mailto:kari@example.no', "
                        f"not {_show(value)}")
        _remember(_KNOWN_MBOXES, value)


_mbox_sha1sum = _matching(_SHA1, "a string of 40 hexadecimal digits",
                          "must be the SHA-1 of a mailto IRI in hexadecimal (40 digits), not {}")


def _account(value, path):
    _object_with(value, _ACCOUNT_KEYS, path, "an account", "an account object with homePage and name")
    if "homePage" not in value:
        _fail(path, "an account must have homePage (the IRL of the system the account is on)")
    if "name" not in value:
        _fail(path, "an account must have name (the account's id or login name)")
    _iri(value["homePage"], path + ".homePage")
    _string(value["name"], path + ".name")


def _ifis(actor, path) -> int:
    """Check the inverse functional identifiers an Agent or Group has; return how many there are."""
    n = 0
    for key, check in _IFI_CHECKS:
        if key in actor:
            n += 1
            check(actor[key], f"{path}.{key}")
    return n


_IFI_CHECKS = (("mbox", _mbox), ("mbox_sha1sum", _mbox_sha1sum), ("openid", _iri), ("account", _account))


def _has_ifi(actor) -> bool:
    return "mbox" in actor or "mbox_sha1sum" in actor or "openid" in actor or "account" in actor


def _agent(agent, path, *_):
    """An Agent: a dict whose objectType, if there is one, the caller has found to be 'Agent'."""
    if not _AGENT_KEYS.issuperset(agent):
        _unknown(agent, _AGENT_KEYS, path, "an Agent", _AGENT_HINTS)
    if _ifis(agent, path) != 1:
        _fail(path, "an Agent must have exactly one inverse functional identifier: mbox, mbox_sha1sum, openid "
                    f"or account (it has {_ifi_list(agent)})")
    if "name" in agent:
        _string(agent["name"], path + ".name")


def _ifi_list(actor) -> str:
    present = [k for k in _IFI_KEYS if k in actor]
    return " and ".join(present) if present else "none"


def _group(group, path, *_):
    """A Group: a dict whose objectType the caller has found to be 'Group'."""
    if not _GROUP_KEYS.issuperset(group):
        _unknown(group, _GROUP_KEYS, path, "a Group")
    n = _ifis(group, path)
    if n > 1:
        _fail(path, f"an identified Group must have exactly one inverse functional identifier (it has "
                    f"{_ifi_list(group)})")
    if "member" in group:
        _members(group["member"], path + ".member", n == 0)
    elif n == 0:
        _fail(path, "an anonymous Group (one without mbox, mbox_sha1sum, openid or account) must list its "
                    "Agents in member")
    if "name" in group:
        _string(group["name"], path + ".name")


def _members(members, path, anonymous):
    if not isinstance(members, list):
        _type_error(path, "an array of Agent objects", members)
    if anonymous and not members:
        _fail(path, "an anonymous Group must list at least one Agent")
    for i, member in enumerate(members):
        _one_type(member, f"{path}[{i}]", "Agent", _agent, "Agent",
                  "a Group cannot be a member of a Group: members must be Agents")


def _agent_or_group(actor, path, what) -> str:
    """An Agent or a Group, what naming it in the error for a non-object; returns its objectType."""
    if not isinstance(actor, dict):
        _type_error(path, what, actor)
    object_type = actor.get("objectType", "Agent")
    if object_type == "Agent":
        _agent(actor, path)
    elif object_type == "Group":
        _group(actor, path)
    else:
        _bad_object_type(path, object_type, ("Agent", "Group"))
    return object_type


def _actor(actor, path, *_):
    """An Agent or a Group (the statement's actor, a context instructor)."""
    _agent_or_group(actor, path, "an Agent or Group object")


def _group_object(group, path, *_):
    """A Group where only a Group may be (context team, a contextGroup's group): objectType is required."""
    _one_type(group, path, "Group", _group)


def _authority(authority, path, *_):
    """An Agent, or (3-legged OAuth) an anonymous Group of exactly two Agents: application and user."""
    if _agent_or_group(authority, path, "an Agent object (or an anonymous Group of two Agents)") == "Group" and (
            _has_ifi(authority) or len(authority["member"]) != 2):
        _fail(path, "an authority that is a Group must be an anonymous Group of exactly two Agents "
                    "(the OAuth application and the user)")


# ------------------------------------------------------------------------------------------------ verb, objects

_VERB_KEYS = frozenset(("id", "display"))


def _verb(verb, path):
    _object_with(verb, _VERB_KEYS, path, "a Verb")
    if "id" not in verb:
        _fail(path, "a Verb must have an id (an IRI)")
    _iri(verb["id"], path + ".id")
    if "display" in verb:
        _language_map(verb["display"], path + ".display")


_ACTIVITY_KEYS = frozenset(("objectType", "id", "definition"))
_ACTIVITY_HINTS = dict.fromkeys(
    ("mbox", "mbox_sha1sum", "openid", "account", "member", "actor", "verb", "object"),
    "not a property of an Activity (an object without objectType is taken as an Activity: an Agent, Group "
    "or SubStatement object must give its objectType)")
_STATEMENT_REF_KEYS = frozenset(("objectType", "id"))


def _activity(activity, path, *_):
    """An Activity: a dict whose objectType, if there is one, the caller has found to be 'Activity'."""
    if not _ACTIVITY_KEYS.issuperset(activity):
        _unknown(activity, _ACTIVITY_KEYS, path, "an Activity", _ACTIVITY_HINTS)
    if "id" not in activity:
        _fail(path, "an Activity must have an id (an IRI)")
    _iri(activity["id"], path + ".id")
    if "definition" in activity:
        _definition(activity["definition"], path + ".definition")


def _object_agent(agent, path, *_):
    _agent(agent, path)


def _statement_ref(ref, path, *_):
    if not _STATEMENT_REF_KEYS.issuperset(ref):
        _unknown(ref, _STATEMENT_REF_KEYS, path, "a StatementRef")
    if "id" not in ref:
        _fail(path, "a StatementRef must have the id (a UUID) of the statement it refers to")
    validate_uuid(ref["id"], path + ".id")


def _sub_statement(sub, path, v2, in_sub):
    if in_sub:
        _fail(path, "a SubStatement cannot contain a SubStatement")
    _statement(sub, path, v2, True)


_OBJECTS = {"Activity": _activity, "Agent": _object_agent, "Group": _group, "StatementRef": _statement_ref,
            "SubStatement": _sub_statement}


def _object(obj, path, v2, in_sub) -> str:
    """A statement's object; returns its objectType."""
    if not isinstance(obj, dict):
        _type_error(path, "an object (Activity, Agent, Group, StatementRef or SubStatement)", obj)
    object_type = obj.get("objectType", "Activity")
    check = _OBJECTS.get(object_type) if isinstance(object_type, str) else None
    if check is None:
        _bad_object_type(path, object_type, tuple(_OBJECTS))
    check(obj, path, v2, in_sub)
    return object_type


# ------------------------------------------------------------------------------------------------ activity definitions

def _interaction_type(value, path):
    if not isinstance(value, str):
        _type_error(path, "an interaction type string", value)
    if value not in _INTERACTION_TYPES:
        _fail(path, f"must be one of {', '.join(sorted(_INTERACTION_TYPES))} (exactly, case matters), "
                    f"not {_show(value)}")


def _response_patterns(value, path):
    if not isinstance(value, list):
        _type_error(path, "an array of strings", value)
    for i, pattern in enumerate(value):
        if not isinstance(pattern, str):
            _type_error(f"{path}[{i}]", "a string", pattern)


_COMPONENT_KEYS = frozenset(("id", "description"))


def _components(value, path):
    """An interaction component list (choices, scale, source, target or steps)."""
    if not isinstance(value, list):
        _type_error(path, "an array of interaction components ({\"id\": ..., \"description\": {...}})", value)
    seen = set()
    for i, component in enumerate(value):
        where = f"{path}[{i}]"
        _object_with(component, _COMPONENT_KEYS, where, "an interaction component")
        if "id" not in component:
            _fail(where, "an interaction component must have an id")
        component_id = component["id"]
        _string(component_id, where + ".id")
        if component_id in seen:
            _fail(where + ".id", f"{_show(component_id)} is used twice: the ids in an interaction component list "
                                 "must be distinct")
        seen.add(component_id)
        if "description" in component:
            _language_map(component["description"], where + ".description")


_DEFINITION_FIELDS = {
    "name": _language_map, "description": _language_map, "type": _iri, "moreInfo": _iri,
    "extensions": _extensions, "interactionType": _interaction_type,
    "correctResponsesPattern": _response_patterns, "choices": _components, "scale": _components,
    "source": _components, "target": _components, "steps": _components,
}
_INTERACTION_PROPERTIES = frozenset(("correctResponsesPattern", "choices", "scale", "source", "target", "steps"))


def _definition(definition, path):
    if not isinstance(definition, dict):
        _type_error(path, "an Activity Definition object", definition)
    _fields(definition, _DEFINITION_FIELDS, path, "an Activity Definition")
    if "interactionType" not in definition and not _INTERACTION_PROPERTIES.isdisjoint(definition):
        used = ", ".join(k for k in definition if k in _INTERACTION_PROPERTIES)
        _fail(path, f"{used} can only be used in an interaction Activity, which must have an interactionType")


# ------------------------------------------------------------------------------------------------ result

_SCORE_KEYS = frozenset(("scaled", "raw", "min", "max"))


def _score(score, path):
    _object_with(score, _SCORE_KEYS, path, "a score")
    for key, value in score.items():
        kind = type(value)
        if kind is not int and (kind is not float or value - value != 0):  # else: the full check, with its errors
            _number(value, f"{path}.{key}")
    scaled, raw, low, high = score.get("scaled"), score.get("raw"), score.get("min"), score.get("max")
    if scaled is not None and not -1 <= scaled <= 1:
        _fail(path + ".scaled", f"must be between -1 and 1 inclusive, not {scaled}")
    if low is not None and high is not None and low > high:
        _fail(path + ".min", f"must not be greater than max ({low} > {high})")
    if raw is not None:
        if low is not None and raw < low:
            _fail(path + ".raw", f"must not be less than min ({raw} < {low})")
        if high is not None and raw > high:
            _fail(path + ".raw", f"must not be greater than max ({raw} > {high})")


_RESULT_FIELDS = {"score": _score, "success": _boolean, "completion": _boolean, "response": _string,
                  "duration": _duration, "extensions": _extensions}


def _result(result, path, *_):
    if not isinstance(result, dict):
        _type_error(path, "a Result object", result)
    _fields(result, _RESULT_FIELDS, path, "a Result")


# ------------------------------------------------------------------------------------------------ context

_CONTEXT_ACTIVITY_KEYS = frozenset(("parent", "grouping", "category", "other"))


def _context_activity(activity, path):
    _one_type(activity, path, "Activity", _activity, "Activity")


def _context_activities(value, path):
    _object_with(value, _CONTEXT_ACTIVITY_KEYS, path, "contextActivities",
                 "a contextActivities object (parent, grouping, category, other)")
    for key, activities in value.items():
        where = f"{path}.{key}"
        if isinstance(activities, list):
            for i, activity in enumerate(activities):
                _context_activity(activity, f"{where}[{i}]")
        else:  # a single Activity is allowed (for 0.95 statements); the LRS returns it as an array
            _context_activity(activities, where)


def _relevant_types(value, path):
    if not isinstance(value, list):
        _type_error(path, "a non-empty array of IRIs", value)
    if not value:
        _fail(path, "must list at least one relevant type IRI (leave relevantTypes out instead)")
    for i, iri in enumerate(value):
        _iri(iri, f"{path}[{i}]")


_CONTEXT_AGENT_KEYS = frozenset(("objectType", "agent", "relevantTypes"))
_CONTEXT_GROUP_KEYS = frozenset(("objectType", "group", "relevantTypes"))


def _context_items(value, path, kind, keys, role, role_rule, check_role):
    """contextAgents or contextGroups: an array of objects {"objectType": kind, role: ..., "relevantTypes": [...]}."""
    if not isinstance(value, list):
        _type_error(path, f"an array of {kind} objects", value)
    for i, item in enumerate(value):
        where = f"{path}[{i}]"
        _object_with(item, keys, where, f"a {kind}")
        if item.get("objectType") != kind:
            if "objectType" not in item:
                _fail(where, f"a {kind} must have \"objectType\": \"{kind}\"")
            _bad_object_type(where, item["objectType"], (kind,))
        if role not in item:
            _fail(where, role_rule)
        check_role(item[role], f"{where}.{role}")
        if "relevantTypes" in item:
            _relevant_types(item["relevantTypes"], where + ".relevantTypes")


def _context_agent(agent, path):
    _one_type(agent, path, "Agent", _agent, "Agent", "must be an Agent; Groups go in contextGroups")


def _context_agents(value, path):
    _context_items(value, path, "contextAgent", _CONTEXT_AGENT_KEYS, "agent", "a contextAgent must have an agent",
                   _context_agent)


def _context_groups(value, path):  # the group may be identified or anonymous
    _context_items(value, path, "contextGroup", _CONTEXT_GROUP_KEYS, "group", "a contextGroup must have a group",
                   _group_object)


def _statement_ref_field(ref, path):
    """context.statement: a StatementRef, objectType included."""
    _one_type(ref, path, "StatementRef", _statement_ref)


_CONTEXT_FIELDS_1 = {
    "registration": _uuid, "instructor": _actor, "team": _group_object, "contextActivities": _context_activities,
    "revision": _string, "platform": _string, "language": _language, "statement": _statement_ref_field,
    "extensions": _extensions,
}
_CONTEXT_FIELDS_2 = {**_CONTEXT_FIELDS_1, "contextAgents": _context_agents, "contextGroups": _context_groups}
_CONTEXT_HINTS_1 = {
    "contextAgents": "contextAgents is an xAPI 2.0 property; send X-Experience-API-Version: 2.0.0 to use it",
    "contextGroups": "contextGroups is an xAPI 2.0 property; send X-Experience-API-Version: 2.0.0 to use it",
}


def _context(context, path, v2, object_type):
    if not isinstance(context, dict):
        _type_error(path, "a Context object", context)
    if v2:
        _fields(context, _CONTEXT_FIELDS_2, path, "a Context")
    else:
        _fields(context, _CONTEXT_FIELDS_1, path, "a Context", _CONTEXT_HINTS_1)
    if object_type != "Activity" and ("revision" in context or "platform" in context):
        key = "revision" if "revision" in context else "platform"
        _fail(f"{path}.{key}", f"can only be used when the statement's object is an Activity, not "
                               f"{_an(object_type)}")


# ------------------------------------------------------------------------------------------------ attachments

_media_type = _matching(_MEDIA_TYPE, "an Internet media type string",
                        "must be an Internet media type such as 'application/pdf', not {}")


def _length(value, path):
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        _type_error(path, "an integer (the size of the attachment in octets)", value)
    if value < 0:
        _fail(path, f"must not be negative, not {value}")


def _sha2(value, path):
    if not isinstance(value, str):
        _type_error(path, "a SHA-2 hash in hexadecimal", value)
    if len(value) not in _SHA2_LENGTHS or _HEX(value) is None:
        _fail(path, f"must be a SHA-2 hash in hexadecimal (56, 64, 96 or 128 digits), not {_show(value)}")


_ATTACHMENT_FIELDS = {"usageType": _iri, "display": _language_map, "description": _language_map,
                      "contentType": _media_type, "length": _length, "sha2": _sha2, "fileUrl": _iri}
_ATTACHMENT_REQUIRED = ("usageType", "display", "contentType", "length", "sha2")


def _attachments(value, path, *_):
    if not isinstance(value, list):
        _type_error(path, "an array of Attachment objects", value)
    for i, attachment in enumerate(value):
        where = f"{path}[{i}]"
        if not isinstance(attachment, dict):
            _type_error(where, "an Attachment object", attachment)
        _fields(attachment, _ATTACHMENT_FIELDS, where, "an Attachment")
        for key in _ATTACHMENT_REQUIRED:
            if key not in attachment:
                _fail(where, f"an Attachment must have {key}")


# ------------------------------------------------------------------------------------------------ statement

def _statement_id(value, path, *_):
    validate_uuid(value, path)


def _version(value, path, v2, *_):
    if not isinstance(value, str):
        _type_error(path, "a version string such as '1.0.0' or '2.0.0'", value)
    if v2:
        if _VERSION_2(value) is None:
            _fail(path, f"must be a 1.0.x or 2.0.x version such as '2.0.0', not {_show(value)}")
    elif _VERSION_1(value) is None:
        _fail(path, f"must be a 1.0.x version such as '1.0.0' under xAPI 1.0, not {_show(value)}")


_STATEMENT_KEYS = frozenset(("id", "actor", "verb", "object", "result", "context", "timestamp", "stored",
                             "authority", "version", "attachments"))
_SUB_STATEMENT_KEYS = frozenset(("objectType", "actor", "verb", "object", "result", "context", "timestamp",
                                 "attachments"))
_SUB_STATEMENT_HINTS = {k: f"a SubStatement must not have {k}" for k in ("id", "stored", "version", "authority")}
_STATEMENT_HINTS = {"objectType": "a Statement has no objectType (only a SubStatement object has one)"}
# The optional properties, each checked as check(value, path, v2, object_type); actor, verb and object are
# checked first, as everything else may depend on them.
_STATEMENT_FIELDS = {"id": _statement_id, "result": _result, "context": _context, "timestamp": _timestamp,
                     "stored": _timestamp, "authority": _authority, "version": _version,
                     "attachments": _attachments}


def _statement(stmt, path, v2, in_sub) -> str:
    """A Statement or (in_sub) a SubStatement; returns the objectType of its object."""
    if not isinstance(stmt, dict):
        _type_error(path, "a Statement object", stmt)
    if in_sub:
        if not _SUB_STATEMENT_KEYS.issuperset(stmt):
            _unknown(stmt, _SUB_STATEMENT_KEYS, path, "a SubStatement", _SUB_STATEMENT_HINTS)
    elif not _STATEMENT_KEYS.issuperset(stmt):
        _unknown(stmt, _STATEMENT_KEYS, path, "a Statement", _STATEMENT_HINTS)
    if "actor" not in stmt or "verb" not in stmt or "object" not in stmt:
        missing = ", ".join(k for k in ("actor", "verb", "object") if k not in stmt)
        _fail(path, f"a {'SubStatement' if in_sub else 'Statement'} must have actor, verb and object "
                    f"(missing: {missing})")
    _actor(stmt["actor"], path + ".actor")
    _verb(stmt["verb"], path + ".verb")
    object_type = _object(stmt["object"], path + ".object", v2, in_sub)
    if len(stmt) > 3:
        fields = _STATEMENT_FIELDS
        for key, value in stmt.items():
            check = fields.get(key)
            if check is not None:
                check(value, f"{path}.{key}", v2, object_type)
    return object_type
