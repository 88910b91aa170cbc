"""Hypothesis strategies for xAPI statements.

valid_statements(version)    statements an LRS must accept under X-Experience-API-Version `version`
                             ('1.0.3' or '2.0.0'): every kind of actor and object, Activity definitions with and
                             without interactions, SubStatements, StatementRefs, results, contexts, attachment
                             metadata (with fileUrl, so no attachment parts are needed), extensions, language maps.
invalid_statements(version)  (label, statement): a valid statement with exactly one rule broken, the label saying
                             which, so a failing example reads as e.g. "mbox without mailto: (at authority)".

The values survive a JSON round trip unchanged (no NaN, no integers past 2**53, no control characters in text,
no surrogates), so an LRS that stores statements faithfully returns them equal. contextActivities values are
arrays unless single_context_activities=True (an LRS returns single Activities as arrays).
"""
import copy
import string
from datetime import datetime

from hypothesis import strategies as st

V1, V2 = "1.0.3", "2.0.0"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"

# ------------------------------------------------------------------------------------------------ scalars

text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=24)
short_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12)
_slug = st.text(string.ascii_lowercase + string.digits + "-_", min_size=1, max_size=10)
_unicode_slug = st.text(st.characters(whitelist_categories=("Ll", "Lu", "Lo", "Nd")), min_size=1, max_size=8)

LANGUAGE_TAGS = ["en", "en-US", "en-GB", "nb-NO", "nn-NO", "nb", "se", "sv-SE", "de-CH-1901", "zh-Hant-TW",
                 "sr-Latn-RS", "es-419", "ar-afb", "tlh", "x-klingon", "i-klingon", "en-US-x-twain",
                 "sgn-BE-FR", "zh-min-nan", "EN-us", "fr-CA-u-ca-gregory", "hy-Latn-IT-arevela"]
language_tags = st.sampled_from(LANGUAGE_TAGS)
language_maps = st.dictionaries(language_tags, text, min_size=1, max_size=3)

_HOSTS = ["example.com", "kurs.helse.example.no", "xn--bcher-kva.example", "lrs.example.org:8443", "10.0.0.1"]


@st.composite
def iris(draw):
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return "urn:uuid:" + draw(uuids)
    if kind == 1:
        return f"tag:example.com,2026:{draw(_slug)}"
    scheme = draw(st.sampled_from(["http", "https", "https", "HTTP", "ftp"]))
    path = "/".join(draw(st.lists(st.one_of(_slug, _unicode_slug), min_size=0, max_size=3)))
    tail = draw(st.sampled_from(["", "#frag", "?q=1&r=2", "/"]))
    return f"{scheme}://{draw(st.sampled_from(_HOSTS))}/{path}{tail}"


irls = iris()  # IRLs are IRIs that can be looked up: the same form here
uuids = st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper())
_hex = "0123456789abcdef"
sha1s = st.text(_hex, min_size=40, max_size=40) | st.text(_hex.upper(), min_size=40, max_size=40)
sha2s = st.sampled_from([56, 64, 96, 128]).flatmap(lambda n: st.text(_hex, min_size=n, max_size=n))
mboxes = st.builds(lambda local, domain, tld: f"mailto:{local}@{domain}.{tld}",
                   st.text(string.ascii_lowercase + string.digits + "._+-", min_size=1, max_size=10),
                   st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=10),
                   st.sampled_from(["no", "com", "org", "helse.no"]))
safe_ints = st.integers(-(2 ** 53), 2 ** 53)
safe_floats = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15)
json_values = st.recursive(
    st.none() | st.booleans() | safe_ints | safe_floats | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(short_text, inner, max_size=3),
    max_leaves=8)
extensions = st.dictionaries(iris(), json_values, max_size=3)


@st.composite
def timestamps(draw, version):
    t = draw(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 12, 31)))
    digits = draw(st.sampled_from([None, 1, 3, 3, 6, 9]))
    out = t.strftime("%Y-%m-%dT%H:%M:%S")
    if digits is not None:
        out += "." + f"{t.microsecond:06d}{draw(st.integers(0, 999)):03d}"[:digits]
    zones = ["Z", "Z", "+00:00", "+01:00", "-05:00", "+05:30", "+0200", "-08"]
    if version == V1:
        zones.append("")  # a time zone is only a SHOULD in 1.0.x
    return out + draw(st.sampled_from(zones))


@st.composite
def durations(draw):
    if draw(st.integers(0, 9)) == 0:
        return f"P{draw(st.integers(0, 60))}W"
    parts = draw(st.lists(st.sampled_from("YMDHmS"), min_size=1, max_size=6, unique=True))
    order = "YMDHmS"
    parts.sort(key=order.index)
    out = "P"
    for i, part in enumerate(parts):
        if part in "HmS" and "T" not in out:
            out += "T"
        number = str(draw(st.integers(0, 100000)))
        if i == len(parts) - 1 and draw(st.booleans()):
            number += "." + str(draw(st.integers(0, 99999)))
        out += number + part.upper()
    return out


# ------------------------------------------------------------------------------------------------ actors

@st.composite
def accounts(draw):
    return {"homePage": draw(irls), "name": draw(short_text)}


@st.composite
def ifis(draw):
    key = draw(st.sampled_from(["mbox", "mbox_sha1sum", "openid", "account"]))
    value = draw({"mbox": mboxes, "mbox_sha1sum": sha1s, "openid": irls, "account": accounts()}[key])
    return {key: value}


@st.composite
def agents(draw, object_type="optional"):
    """object_type: 'optional' (actor, instructor, member) or 'required' (an Agent as a statement's object)."""
    agent = draw(ifis())
    if object_type == "required" or draw(st.booleans()):
        agent["objectType"] = "Agent"
    if draw(st.booleans()):
        agent["name"] = draw(text)
    return agent


@st.composite
def groups(draw, identified=None, members=None):
    if identified is None:
        identified = draw(st.booleans())
    group = {"objectType": "Group"}
    if identified:
        group.update(draw(ifis()))
        if draw(st.booleans()):
            group["member"] = draw(st.lists(agents(), max_size=3))
    else:
        group["member"] = draw(st.lists(agents(), min_size=1, max_size=3)) if members is None else members
    if draw(st.booleans()):
        group["name"] = draw(text)
    return group


actors = st.one_of(agents(), groups())


@st.composite
def authorities(draw):
    if draw(st.integers(0, 3)):
        return draw(agents())
    app = {"objectType": "Agent", "account": draw(accounts())}
    return draw(groups(identified=False, members=[app, draw(agents())]))


# ------------------------------------------------------------------------------------------------ activities

_COMPONENT_LISTS = {"choice": ["choices"], "sequencing": ["choices"], "likert": ["scale"],
                    "matching": ["source", "target"], "performance": ["steps"]}


@st.composite
def components(draw):
    ids = draw(st.lists(st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=8),
                        min_size=1, max_size=4, unique=True))
    out = []
    for component_id in ids:
        component = {"id": component_id}
        if draw(st.booleans()):
            component["description"] = draw(language_maps)
        out.append(component)
    return out


@st.composite
def definitions(draw):
    definition = {}
    if draw(st.booleans()):
        definition["name"] = draw(language_maps)
    if draw(st.booleans()):
        definition["description"] = draw(language_maps)
    if draw(st.booleans()):
        definition["type"] = draw(iris())
    if draw(st.integers(0, 3)) == 0:
        definition["moreInfo"] = draw(irls)
    if draw(st.integers(0, 3)) == 0:
        definition["extensions"] = draw(extensions)
    if draw(st.integers(0, 2)) == 0:
        interaction_type = draw(st.sampled_from(sorted(
            ["true-false", "choice", "fill-in", "long-fill-in", "matching", "performance", "sequencing", "likert",
             "numeric", "other"])))
        definition["interactionType"] = interaction_type
        if draw(st.booleans()):
            definition["correctResponsesPattern"] = draw(st.lists(text, max_size=3))
        for name in _COMPONENT_LISTS.get(interaction_type, []):
            if draw(st.integers(0, 3)):
                definition[name] = draw(components())
    return definition


@st.composite
def activities(draw, object_type="optional"):
    activity = {"id": draw(iris())}
    if object_type == "required" or draw(st.booleans()):
        activity["objectType"] = "Activity"
    if draw(st.booleans()):
        activity["definition"] = draw(definitions())
    return activity


statement_refs = st.builds(lambda i: {"objectType": "StatementRef", "id": i}, uuids)


# ------------------------------------------------------------------------------------------------ result, context

@st.composite
def scores(draw):
    score = {}
    if draw(st.booleans()):
        score["scaled"] = draw(st.floats(-1, 1) | st.sampled_from([-1, 0, 1]))
    low = draw(st.none() | safe_ints | safe_floats)
    high = draw(st.none() | safe_ints | safe_floats)
    if low is not None and high is not None and low > high:
        low, high = high, low
    if low is not None:
        score["min"] = low
    if high is not None:
        score["max"] = high
    if draw(st.booleans()):
        if low is not None and high is not None:
            raw = draw(st.sampled_from([low, high]) | st.floats(low, high))
        elif low is not None:
            raw = low + draw(st.integers(0, 1000))
        elif high is not None:
            raw = high - draw(st.integers(0, 1000))
        else:
            raw = draw(safe_ints | safe_floats)
        score["raw"] = raw
    return score


@st.composite
def results(draw):
    result = {}
    if draw(st.booleans()):
        result["score"] = draw(scores())
    if draw(st.booleans()):
        result["success"] = draw(st.booleans())
    if draw(st.booleans()):
        result["completion"] = draw(st.booleans())
    if draw(st.booleans()):
        result["response"] = draw(text)
    if draw(st.booleans()):
        result["duration"] = draw(durations())
    if draw(st.integers(0, 3)) == 0:
        result["extensions"] = draw(extensions)
    return result


@st.composite
def context_activities(draw, single=False):
    out = {}
    for key in draw(st.lists(st.sampled_from(["parent", "grouping", "category", "other"]), min_size=1,
                             unique=True)):
        if single and draw(st.booleans()):
            out[key] = draw(activities())
        else:
            out[key] = draw(st.lists(activities(), max_size=2))
    return out


@st.composite
def contexts(draw, version, object_type, single_context_activities=False):
    context = {}
    if draw(st.booleans()):
        context["registration"] = draw(uuids)
    if draw(st.integers(0, 3)) == 0:
        context["instructor"] = draw(actors)
    if draw(st.integers(0, 3)) == 0:
        context["team"] = draw(groups())
    if draw(st.booleans()):
        context["contextActivities"] = draw(context_activities(single_context_activities))
    if object_type == "Activity":
        if draw(st.integers(0, 3)) == 0:
            context["revision"] = draw(text)
        if draw(st.integers(0, 3)) == 0:
            context["platform"] = draw(text)
    if draw(st.integers(0, 3)) == 0:
        context["language"] = draw(language_tags)
    if draw(st.integers(0, 3)) == 0:
        context["statement"] = draw(statement_refs)
    if draw(st.integers(0, 3)) == 0:
        context["extensions"] = draw(extensions)
    if version == V2:
        if draw(st.integers(0, 2)) == 0:
            context["contextAgents"] = draw(st.lists(context_agents(), max_size=2))
        if draw(st.integers(0, 2)) == 0:
            context["contextGroups"] = draw(st.lists(context_groups(), max_size=2))
    return context


@st.composite
def context_agents(draw):
    item = {"objectType": "contextAgent", "agent": draw(agents())}
    if draw(st.booleans()):
        item["relevantTypes"] = draw(st.lists(iris(), min_size=1, max_size=3))
    return item


@st.composite
def context_groups(draw):
    item = {"objectType": "contextGroup", "group": draw(groups())}
    if draw(st.booleans()):
        item["relevantTypes"] = draw(st.lists(iris(), min_size=1, max_size=3))
    return item


@st.composite
def attachments(draw):
    attachment = {"usageType": draw(iris()), "display": draw(language_maps),
                  "contentType": draw(st.sampled_from(["application/pdf", "text/plain; charset=ascii", "image/png",
                                                       "application/vnd.openxmlformats-officedocument.wordprocessingml"
                                                       ".document", "video/mp4"])),
                  "length": draw(st.integers(0, 2 ** 40)), "sha2": draw(sha2s), "fileUrl": draw(irls)}
    if draw(st.booleans()):
        attachment["description"] = draw(language_maps)
    return attachment


# ------------------------------------------------------------------------------------------------ statements

_VERBS = ["http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/attempted",
          "https://w3id.org/xapi/adl/verbs/satisfied", "http://id.tincanapi.com/verb/viewed"]


@st.composite
def verbs(draw):
    verb = {"id": draw(st.sampled_from(_VERBS) | iris())}
    if draw(st.booleans()):
        verb["display"] = draw(language_maps)
    return verb


@st.composite
def _statement_body(draw, version, sub, single_context_activities, voiding):
    """actor, verb, object, result, context, timestamp, attachments: what Statements and SubStatements share."""
    kinds = ["Activity", "Activity", "Activity", "Agent", "Group", "StatementRef"] + ([] if sub else ["SubStatement"])
    kind = draw(st.sampled_from(kinds))
    if kind == "Activity":
        obj = draw(activities())
    elif kind == "Agent":
        obj = draw(agents(object_type="required"))
    elif kind == "Group":
        obj = draw(groups())
    elif kind == "StatementRef":
        obj = draw(statement_refs)
    else:
        obj = {"objectType": "SubStatement", **draw(_statement_body(version, True, single_context_activities, False))}
    verb = draw(verbs())
    if voiding and kind == "StatementRef" and draw(st.integers(0, 5)) == 0:
        verb["id"] = VOIDED
    stmt = {"actor": draw(actors), "verb": verb, "object": obj}
    if draw(st.booleans()):
        stmt["result"] = draw(results())
    if draw(st.booleans()):
        stmt["context"] = draw(contexts(version, kind, single_context_activities))
    if draw(st.booleans()):
        stmt["timestamp"] = draw(timestamps(version))
    if draw(st.integers(0, 4)) == 0:
        stmt["attachments"] = draw(st.lists(attachments(), min_size=1, max_size=2))
    return stmt


@st.composite
def valid_statements(draw, version, single_context_activities=False, voiding=True):
    """A statement the LRS must accept under this X-Experience-API-Version ('1.0.3' or '2.0.0')."""
    stmt = draw(_statement_body(version, False, single_context_activities, voiding))
    if draw(st.booleans()):
        stmt["id"] = draw(uuids)
    if draw(st.integers(0, 3)) == 0:
        stmt["version"] = draw(st.sampled_from(["1.0.0", "1.0", "1.0.3"] if version == V1
                                               else ["2.0.0", "2.0", "1.0.0", "1.0.3"]))
    if draw(st.integers(0, 4)) == 0:
        stmt["authority"] = draw(authorities())
    if draw(st.integers(0, 5)) == 0:
        stmt["stored"] = draw(timestamps(V2))
    return stmt


# ------------------------------------------------------------------------------------------------ invalid statements

def _ctx(stmt):
    return stmt.setdefault("context", {})


def _activity_object(stmt):
    if stmt["object"].get("objectType", "Activity") != "Activity":
        stmt["object"] = {"objectType": "Activity", "id": "https://example.com/activity"}
        stmt.get("context", {}).pop("revision", None)
        stmt.get("context", {}).pop("platform", None)
    return stmt["object"]


def _with_activity(mutate):
    """The mutation, on the statement with an Activity as its object."""
    def with_activity(stmt):
        _activity_object(stmt)
        return mutate(stmt)
    return with_activity


def _definition(stmt):
    return _activity_object(stmt).setdefault("definition", {})


def _set(path, value):
    """A mutation that sets stmt[path[0]]...[path[-1]] = value, creating objects on the way."""
    def mutate(stmt):
        target = stmt
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = copy.deepcopy(value)
        return stmt
    return mutate


def _delete(key):
    def mutate(stmt):
        del stmt[key]
        return stmt
    return mutate


GOOD_AGENT = {"objectType": "Agent", "mbox": "mailto:kari@example.no"}
OTHER_AGENT = {"account": {"homePage": "https://kompetanse.example.no", "name": "ola"}}

# Bad Agents and Groups: each breaks one rule, wherever an Agent or a Group may stand.
BAD_ACTORS = [
    ("mbox without mailto:", {"mbox": "kari@example.no"}),
    ("mbox not an email address", {"mbox": "mailto:should.fail.com"}),
    ("mbox with another scheme", {"mbox": "http://should.fail.com"}),
    ("mbox not a string", {"mbox": ["mailto:kari@example.no"]}),
    ("mbox_sha1sum not hex", {"mbox_sha1sum": "z" * 40}),
    ("mbox_sha1sum too short", {"mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e36497"}),
    ("openid not an IRI", {"openid": "ab=c://should.fail.com"}),
    ("openid empty", {"openid": ""}),
    ("two IFIs", {"mbox": "mailto:kari@example.no", "openid": "http://openid.example.org/kari"}),
    ("no IFI", {"objectType": "Agent", "name": "Kari"}),
    ("account without homePage", {"account": {"name": "kari"}}),
    ("account without name", {"account": {"homePage": "https://example.com"}}),
    ("account homePage not an IRI", {"account": {"homePage": "example.com", "name": "kari"}}),
    ("account name not a string", {"account": {"homePage": "https://example.com", "name": 42}}),
    ("account with an extra property", {"account": {"homePage": "https://example.com", "name": "k", "id": 1}}),
    ("account not an object", {"account": "kari"}),
    ("objectType 'agent' (case)", {"objectType": "agent", "mbox": "mailto:kari@example.no"}),
    ("objectType numeric", {"objectType": 123, "mbox": "mailto:kari@example.no"}),
    ("objectType null", {"objectType": None, "mbox": "mailto:kari@example.no"}),
    ("name numeric", {"mbox": "mailto:kari@example.no", "name": 123}),
    ("name null", {"mbox": "mailto:kari@example.no", "name": None}),
    ("unknown property", {"mbox": "mailto:kari@example.no", "email": "kari@example.no"}),
    ("Agent with members", {"mbox": "mailto:kari@example.no", "member": [GOOD_AGENT]}),
    ("anonymous Group without member", {"objectType": "Group", "name": "Team"}),
    ("anonymous Group with no members", {"objectType": "Group", "member": []}),
    ("Group member not an array", {"objectType": "Group", "member": GOOD_AGENT}),
    ("Group with a Group member", {"objectType": "Group", "member": [
        GOOD_AGENT, {"objectType": "Group", "mbox": "mailto:team@example.no"}]}),
    ("Group member without IFI", {"objectType": "Group", "mbox": "mailto:team@example.no",
                                  "member": [{"name": "Kari"}]}),
    ("identified Group with two IFIs", {"objectType": "Group", "mbox": "mailto:team@example.no",
                                        "mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"}),
    ("objectType 'group' (case)", {"objectType": "group", "member": [GOOD_AGENT]}),
    ("a string", "kari@example.no"),
    ("null", None),
]


def _place_actor(where, bad):
    def mutate(stmt):
        if where == "actor":
            stmt["actor"] = bad
        elif where == "authority":
            stmt["authority"] = bad
        elif where == "context.instructor":
            _ctx(stmt)["instructor"] = bad
        elif where == "Group member":
            stmt["actor"] = {"objectType": "Group", "member": [GOOD_AGENT, bad]}
        elif where == "SubStatement actor":
            stmt["object"] = {"objectType": "SubStatement", "actor": bad, "verb": {"id": "https://example.com/v"},
                              "object": {"id": "https://example.com/a"}}
            stmt.get("context", {}).pop("revision", None)
            stmt.get("context", {}).pop("platform", None)
        return stmt
    return mutate


_ACTOR_PLACES = ["actor", "authority", "context.instructor", "Group member", "SubStatement actor"]

_VALID_CONTEXT_AGENTS = [{"objectType": "contextAgent", "agent": GOOD_AGENT,
                          "relevantTypes": ["https://example.com/types/instructor"]}]
_ATTACHMENT = {"usageType": "http://id.tincanapi.com/attachment/certificate", "display": {"en-US": "Certificate"},
               "contentType": "application/pdf", "length": 1024,
               "sha2": "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a",
               "fileUrl": "https://files.example.com/certificate.pdf"}


def _attachment(**change):
    out = dict(_ATTACHMENT)
    for key, value in change.items():
        if value is _DROP:
            del out[key]
        else:
            out[key] = value
    return _set(("attachments",), [out])


_DROP = object()


def _object_with_revision(obj, key="revision"):
    def mutate(stmt):
        stmt["object"] = copy.deepcopy(obj)
        _ctx(stmt)[key] = "1.2"
        return stmt
    return mutate


def _in_definition(key, value):
    def mutate(stmt):
        _definition(stmt)[key] = copy.deepcopy(value)
        return stmt
    return mutate


def _with_definition(definition):
    def mutate(stmt):
        _activity_object(stmt)["definition"] = copy.deepcopy(definition)
        return stmt
    return mutate


def _sub_statement(**extra):
    def mutate(stmt):
        sub = {"objectType": "SubStatement", "actor": GOOD_AGENT, "verb": {"id": "https://example.com/v"},
               "object": {"id": "https://example.com/a"}}
        for key, value in extra.items():
            if value is _DROP:
                del sub[key]
            else:
                sub[key] = copy.deepcopy(value)
        stmt["object"] = sub
        stmt.get("context", {}).pop("revision", None)
        stmt.get("context", {}).pop("platform", None)
        return stmt
    return mutate


def _context_activities(value):
    def mutate(stmt):
        _ctx(stmt)["contextActivities"] = copy.deepcopy(value)
        return stmt
    return mutate


_ACT = {"id": "https://example.com/course"}
_CHOICE = {"interactionType": "choice", "choices": [{"id": "a"}, {"id": "b"}]}

# (label, versions it applies to, mutation(stmt) -> stmt)
MUTATIONS = [
    # statement
    ("statement is an array", (V1, V2), lambda s: [s]),
    ("statement is a string", (V1, V2), lambda s: "statement"),
    ("missing actor", (V1, V2), _delete("actor")),
    ("missing verb", (V1, V2), _delete("verb")),
    ("missing object", (V1, V2), _delete("object")),
    ("unknown top-level property", (V1, V2), _set(("foo",), "bar")),
    ("top-level property in the wrong case", (V1, V2), _set(("Result",), {})),
    ("top-level objectType", (V1, V2), _set(("objectType",), "Statement")),
    ("id not a UUID", (V1, V2), _set(("id",), "not-a-uuid")),
    ("id with too many digits", (V1, V2), _set(("id",), "AA97B177-9383-4934-8543-0F91A7A028368")),
    ("id with a non-hex letter", (V1, V2), _set(("id",), "MA97B177-9383-4934-8543-0F91A7A02836")),
    ("id numeric", (V1, V2), _set(("id",), 12345)),
    ("result null", (V1, V2), _set(("result",), None)),
    ("context null", (V1, V2), _set(("context",), None)),
    # verb
    ("verb without id", (V1, V2), _set(("verb",), {"display": {"en-US": "did"}})),
    ("verb id not an IRI", (V1, V2), _set(("verb",), {"id": "ab=c://should.fail.com"})),
    ("verb id without a scheme", (V1, V2), _set(("verb",), {"id": "example.com/verbs/did"})),
    ("verb id empty", (V1, V2), _set(("verb",), {"id": ""})),
    ("verb id with a space", (V1, V2), _set(("verb",), {"id": "http://example.com/verbs/did it"})),
    ("verb display a string", (V1, V2), _set(("verb", "display"), "did")),
    ("verb display with a bad language tag", (V1, V2), _set(("verb", "display"), {"a12345678": "did"})),
    ("verb display with an empty language tag", (V1, V2), _set(("verb", "display"), {"": "did"})),
    ("verb display value not a string", (V1, V2), _set(("verb", "display"), {"en-US": 1})),
    ("verb display value null", (V1, V2), _set(("verb", "display"), {"en-US": None})),
    ("verb with an unknown property", (V1, V2), _set(("verb", "name"), {"en-US": "did"})),
    ("verb a string", (V1, V2), _set(("verb",), "http://adlnet.gov/expapi/verbs/completed")),
    ("voiding statement with an Activity object", (V1, V2), _with_activity(_set(("verb",), {"id": VOIDED}))),
    # objects
    ("object objectType 'activity' (case)", (V1, V2), _set(("object",), {"objectType": "activity", **_ACT})),
    ("object objectType unknown", (V1, V2), _set(("object",), {"objectType": "Thing", **_ACT})),
    ("object a string", (V1, V2), _set(("object",), "https://example.com/course")),
    ("Activity without id", (V1, V2), _set(("object",), {"objectType": "Activity"})),
    ("Activity id not an IRI", (V1, V2), _set(("object",), {"id": "should error"})),
    ("Activity id numeric", (V1, V2), _set(("object",), {"id": 12345})),
    ("Activity with an unknown property", (V1, V2), _set(("object",), {**_ACT, "name": "Course"})),
    ("Agent object without objectType", (V1, V2), _set(("object",), {"mbox": "mailto:kari@example.no"})),
    ("Group object with a bad member", (V1, V2), _set(("object",), {"objectType": "Group", "member": [{}]})),
    ("definition a string", (V1, V2), _with_definition("should error")),
    ("definition name a string", (V1, V2), _in_definition("name", "Course")),
    ("definition name numeric", (V1, V2), _in_definition("name", 12345)),
    ("definition description with a bad language tag", (V1, V2), _in_definition("description", {"something": "x"})),
    ("definition type not an IRI", (V1, V2), _in_definition("type", "should error")),
    ("definition moreInfo not an IRL", (V1, V2), _in_definition("moreInfo", "should error")),
    ("definition with an unknown property", (V1, V2), _in_definition("title", {"en": "x"})),
    ("definition extensions a string", (V1, V2), _in_definition("extensions", "should error")),
    ("definition extension key not an IRI", (V1, V2), _in_definition("extensions", {"id": "valid"})),
    ("interactionType not in the vocabulary", (V1, V2), _with_definition({"interactionType": "Choice"})),
    ("interactionType numeric", (V1, V2), _with_definition({"interactionType": 1})),
    ("correctResponsesPattern without interactionType", (V1, V2),
     _with_definition({"correctResponsesPattern": ["a"]})),
    ("choices without interactionType", (V1, V2), _with_definition({"choices": [{"id": "a"}]})),
    ("correctResponsesPattern a string", (V1, V2),
     _with_definition({"interactionType": "fill-in", "correctResponsesPattern": "a"})),
    ("correctResponsesPattern with a number", (V1, V2),
     _with_definition({"interactionType": "numeric", "correctResponsesPattern": [4]})),
    ("interaction components with the same id", (V1, V2),
     _with_definition({**_CHOICE, "choices": [{"id": "a"}, {"id": "a"}]})),
    ("interaction component without id", (V1, V2),
     _with_definition({**_CHOICE, "choices": [{"description": {"en": "A"}}]})),
    ("interaction component id numeric", (V1, V2), _with_definition({**_CHOICE, "choices": [{"id": 1}]})),
    ("interaction component with an unknown property", (V1, V2),
     _with_definition({**_CHOICE, "choices": [{"id": "a", "text": "A"}]})),
    ("interaction component list not an array", (V1, V2), _with_definition({**_CHOICE, "choices": {"id": "a"}})),
    ("StatementRef without id", (V1, V2), _set(("object",), {"objectType": "StatementRef"})),
    ("StatementRef id not a UUID", (V1, V2), _set(("object",), {"objectType": "StatementRef", "id": "abc"})),
    ("StatementRef with a definition", (V1, V2), _set(("object",), {
        "objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0", "definition": {}})),
    ("SubStatement with id", (V1, V2), _sub_statement(id="8f87ccde-bb56-4c2e-ab83-44982ef22df0")),
    ("SubStatement with stored", (V1, V2), _sub_statement(stored="2026-01-01T00:00:00Z")),
    ("SubStatement with version", (V1, V2), _sub_statement(version="1.0.0")),
    ("SubStatement with authority", (V1, V2), _sub_statement(authority=GOOD_AGENT)),
    ("SubStatement in a SubStatement", (V1, V2), _sub_statement(object={
        "objectType": "SubStatement", "actor": GOOD_AGENT, "verb": {"id": "https://example.com/v"},
        "object": _ACT})),
    ("SubStatement without verb", (V1, V2), _sub_statement(verb=_DROP)),
    ("SubStatement without objectType", (V1, V2), _sub_statement(objectType=_DROP)),
    ("SubStatement with a bad timestamp", (V1, V2), _sub_statement(timestamp="01/011/2015")),
    ("SubStatement with a bad result", (V1, V2), _sub_statement(result={"success": "true"})),
    ("SubStatement revision with an Agent object", (V1, V2), _sub_statement(
        object={"objectType": "Agent", "mbox": "mailto:ola@example.no"}, context={"revision": "2"})),
    # result
    ("result a string", (V1, V2), _set(("result",), "passed")),
    ("result with an unknown property", (V1, V2), _set(("result", "grade"), "A")),
    ("score scaled above 1", (V1, V2), _set(("result", "score"), {"scaled": 1.01})),
    ("score scaled below -1", (V1, V2), _set(("result", "score"), {"scaled": -1.00001})),
    ("score scaled a boolean", (V1, V2), _set(("result", "score"), {"scaled": True})),
    ("score raw above max", (V1, V2), _set(("result", "score"), {"raw": 11, "min": 0, "max": 10})),
    ("score raw below min", (V1, V2), _set(("result", "score"), {"raw": -1, "min": 0})),
    ("score min above max", (V1, V2), _set(("result", "score"), {"min": 10, "max": 5})),
    ("score max a numeric string", (V1, V2), _set(("result", "score"), {"max": "100"})),
    ("score a number", (V1, V2), _set(("result", "score"), 0.5)),
    ("score with an unknown property", (V1, V2), _set(("result", "score"), {"percent": 50})),
    ("success the string 'true'", (V1, V2), _set(("result", "success"), "true")),
    ("completion the string 'false'", (V1, V2), _set(("result", "completion"), "false")),
    ("completion 1", (V1, V2), _set(("result", "completion"), 1)),
    ("response numeric", (V1, V2), _set(("result", "response"), 12345)),
    ("duration not ISO 8601", (V1, V2), _set(("result", "duration"), "PA1H0M0S")),
    ("duration in the alternative format", (V1, V2), _set(("result", "duration"), "P0003-01-02T04:05:06")),
    ("duration without designators", (V1, V2), _set(("result", "duration"), "P")),
    ("duration with T and nothing after", (V1, V2), _set(("result", "duration"), "P1DT")),
    ("duration with a fraction before the last part", (V1, V2), _set(("result", "duration"), "PT1.5H30M")),
    ("duration numeric", (V1, V2), _set(("result", "duration"), 3600)),
    ("result extensions a string", (V1, V2), _set(("result", "extensions"), "x")),
    ("result extension key not an IRI", (V1, V2), _set(("result", "extensions"), {"score": 1})),
    # context
    ("context a string", (V1, V2), _set(("context",), "context")),
    ("context with an unknown property", (V1, V2), _set(("context", "location"), "Oslo")),
    ("registration not a UUID", (V1, V2), _set(("context", "registration"), "should fail")),
    ("registration an object", (V1, V2), _set(("context", "registration"), {"id": 1})),
    ("team an Agent", (V1, V2), _set(("context", "team"), GOOD_AGENT)),
    ("team a Group without objectType", (V1, V2), _set(("context", "team"), {"member": [GOOD_AGENT]})),
    ("instructor a string", (V1, V2), _set(("context", "instructor"), "kari")),
    ("contextActivities a string", (V1, V2), _context_activities("https://example.com/course")),
    ("contextActivities with an unknown key", (V1, V2), _context_activities({"parents": [_ACT]})),
    ("contextActivities key in the wrong case", (V1, V2), _context_activities({"Parent": [_ACT]})),
    ("contextActivities value a string", (V1, V2), _context_activities({"parent": "https://example.com"})),
    ("contextActivities array with a non-Activity", (V1, V2), _context_activities({"other": [_ACT, {"key": 1}]})),
    ("contextActivities Activity with objectType Agent", (V1, V2),
     _context_activities({"grouping": [{"objectType": "Agent", **_ACT}]})),
    ("revision with an Agent object", (V1, V2), _object_with_revision(GOOD_AGENT)),
    ("revision with a Group object", (V1, V2), _object_with_revision({"objectType": "Group", "member": [GOOD_AGENT]})),
    ("revision with a StatementRef object", (V1, V2), _object_with_revision(
        {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"})),
    ("platform with a SubStatement object", (V1, V2), _object_with_revision(
        {"objectType": "SubStatement", "actor": GOOD_AGENT, "verb": {"id": "https://example.com/v"},
         "object": _ACT}, "platform")),
    ("revision numeric", (V1, V2), _with_activity(_set(("context", "revision"), 2))),
    ("platform an object", (V1, V2), _with_activity(_set(("context", "platform"), {"os": "x"}))),
    ("language not a language tag", (V1, V2), _set(("context", "language"), "english language")),
    ("language numeric", (V1, V2), _set(("context", "language"), 47)),
    ("statement without objectType", (V1, V2), _set(("context", "statement"),
                                                    {"id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"})),
    ("statement with a bad id", (V1, V2), _set(("context", "statement"), {"objectType": "StatementRef", "id": "x"})),
    ("context extensions with a key that is not an IRI", (V1, V2), _set(("context", "extensions"), {"a b": 1})),
    ("contextAgents under 1.0.x", (V1,), _set(("context", "contextAgents"), _VALID_CONTEXT_AGENTS)),
    ("contextGroups under 1.0.x", (V1,), _set(("context", "contextGroups"), [
        {"objectType": "contextGroup", "group": {"objectType": "Group", "member": [GOOD_AGENT]}}])),
    ("contextAgents not an array", (V2,), _set(("context", "contextAgents"), _VALID_CONTEXT_AGENTS[0])),
    ("contextAgent without objectType", (V2,), _set(("context", "contextAgents"), [{"agent": GOOD_AGENT}])),
    ("contextAgent objectType 'Agent'", (V2,), _set(("context", "contextAgents"),
                                                  [{"objectType": "Agent", "agent": GOOD_AGENT}])),
    ("contextAgent without agent", (V2,), _set(("context", "contextAgents"), [{"objectType": "contextAgent"}])),
    ("contextAgent with a Group", (V2,), _set(("context", "contextAgents"), [
        {"objectType": "contextAgent", "agent": {"objectType": "Group", "member": [GOOD_AGENT]}}])),
    ("contextAgent with an invalid agent", (V2,), _set(("context", "contextAgents"), [
        {"objectType": "contextAgent", "agent": {"mbox": "kari@example.no"}}])),
    ("contextAgent relevantTypes empty", (V2,), _set(("context", "contextAgents"), [
        {"objectType": "contextAgent", "agent": GOOD_AGENT, "relevantTypes": []}])),
    ("contextAgent relevantTypes not IRIs", (V2,), _set(("context", "contextAgents"), [
        {"objectType": "contextAgent", "agent": GOOD_AGENT, "relevantTypes": ["abc"]}])),
    ("contextAgent with an unknown property", (V2,), _set(("context", "contextAgents"), [
        {"objectType": "contextAgent", "agent": GOOD_AGENT, "role": "x"}])),
    ("contextGroup with an Agent", (V2,), _set(("context", "contextGroups"), [
        {"objectType": "contextGroup", "group": GOOD_AGENT}])),
    ("contextGroup objectType 'contextAgent'", (V2,), _set(("context", "contextGroups"), [
        {"objectType": "contextAgent", "group": {"objectType": "Group", "member": [GOOD_AGENT]}}])),
    ("contextGroup relevantTypes empty", (V2,), _set(("context", "contextGroups"), [
        {"objectType": "contextGroup", "group": {"objectType": "Group", "member": [GOOD_AGENT]},
         "relevantTypes": []}])),
    # timestamps, version
    ("timestamp not ISO 8601", (V1, V2), _set(("timestamp",), "01/011/2015")),
    ("timestamp a plain string", (V1, V2), _set(("timestamp",), "should fail")),
    ("timestamp a date only", (V1, V2), _set(("timestamp",), "2026-01-02")),
    ("timestamp offset -00", (V1, V2), _set(("timestamp",), "2008-09-15T15:53:00.601-00")),
    ("timestamp offset -0000", (V1, V2), _set(("timestamp",), "2008-09-15T15:53:00.601-0000")),
    ("timestamp offset -00:00", (V1, V2), _set(("timestamp",), "2008-09-15T15:53:00.601-00:00")),
    ("timestamp on 30 February", (V1, V2), _set(("timestamp",), "2026-02-30T10:00:00Z")),
    ("timestamp on 29 February of a common year", (V1, V2), _set(("timestamp",), "2100-02-29T10:00:00Z")),
    ("timestamp hour 25", (V1, V2), _set(("timestamp",), "2026-01-02T25:00:00Z")),
    ("timestamp numeric", (V1, V2), _set(("timestamp",), 1767225600)),
    ("timestamp without a time zone under 2.0", (V2,), _set(("timestamp",), "2026-01-02T03:04:05.678")),
    ("stored not ISO 8601", (V1, V2), _set(("stored",), "yesterday")),
    ("version 1.1.0", (V1, V2), _set(("version",), "1.1.0")),
    ("version 0.9.9", (V1, V2), _set(("version",), "0.9.9")),
    ("version not a version", (V1, V2), _set(("version",), "should fail")),
    ("version numeric", (V1, V2), _set(("version",), 1.0)),
    ("version 2.0.0 under 1.0.x", (V1,), _set(("version",), "2.0.0")),
    ("version 3.0.0 under 2.0", (V2,), _set(("version",), "3.0.0")),
    # authority
    ("authority an identified Group", (V1, V2), _set(("authority",), {
        "objectType": "Group", "mbox": "mailto:team@example.no", "member": [GOOD_AGENT, OTHER_AGENT]})),
    ("authority a Group of one", (V1, V2), _set(("authority",), {"objectType": "Group", "member": [GOOD_AGENT]})),
    ("authority a Group of three", (V1, V2), _set(("authority",), {
        "objectType": "Group", "member": [GOOD_AGENT, OTHER_AGENT, {"openid": "https://openid.example.org/x"}]})),
    # attachments
    ("attachments not an array", (V1, V2), _set(("attachments",), _ATTACHMENT)),
    ("attachment a string", (V1, V2), _set(("attachments",), ["certificate.pdf"])),
    ("attachment without usageType", (V1, V2), _attachment(usageType=_DROP)),
    ("attachment without display", (V1, V2), _attachment(display=_DROP)),
    ("attachment without contentType", (V1, V2), _attachment(contentType=_DROP)),
    ("attachment without length", (V1, V2), _attachment(length=_DROP)),
    ("attachment without sha2", (V1, V2), _attachment(sha2=_DROP)),
    ("attachment usageType not an IRI", (V1, V2), _attachment(usageType="should fail")),
    ("attachment display a string", (V1, V2), _attachment(display="Certificate")),
    ("attachment description with a bad language tag", (V1, V2), _attachment(description={"a12345": "x"})),
    ("attachment contentType numeric", (V1, V2), _attachment(contentType=12345)),
    ("attachment contentType not a media type", (V1, V2), _attachment(contentType="pdf")),
    ("attachment length a string", (V1, V2), _attachment(length="1024")),
    ("attachment length negative", (V1, V2), _attachment(length=-1)),
    ("attachment length fractional", (V1, V2), _attachment(length=10.5)),
    ("attachment length a boolean", (V1, V2), _attachment(length=True)),
    ("attachment sha2 numeric", (V1, V2), _attachment(sha2=12345)),
    ("attachment sha2 not hex", (V1, V2), _attachment(sha2="g" * 64)),
    ("attachment sha2 of the wrong length", (V1, V2), _attachment(sha2="ab" * 20)),
    ("attachment fileUrl not an IRL", (V1, V2), _attachment(fileUrl="should fail")),
    ("attachment with an unknown property", (V1, V2), _attachment(data="aGVsbG8=")),
]
MUTATIONS += [(f"{label} (at {where})", (V1, V2), _place_actor(where, bad))
              for label, bad in BAD_ACTORS for where in _ACTOR_PLACES]


@st.composite
def invalid_statements(draw, version):
    """(label, statement): a valid statement with one rule broken, as the label says."""
    label, _, mutate = draw(st.sampled_from([m for m in MUTATIONS if version in m[1]]))
    stmt = draw(valid_statements(version, voiding=False))
    return label, mutate(copy.deepcopy(stmt))


# ------------------------------------------------------------------------------------------------ odd JSON text
# odd_json()  JSON text (str) an attacker or a broken client may send: nesting deep and shallow, wide arrays and
#             objects, numbers no double holds, NaN-like tokens, lone surrogates, duplicate keys, long strings,
#             unicode and control characters in keys, and a little that is not JSON at all.

_DEPTHS = st.sampled_from([1, 2, 60, 61, 62, 63, 64, 65, 100, 200, 253, 254, 255, 256, 300, 999, 1000, 1023, 1024,
                           1025, 5000, 100_000]) | st.integers(1, 3000)
_ODD_SCALARS = st.sampled_from([
    "1" * 5000, "-" + "9" * 400, "1e999999", "-1e-999999", "1E+308", "123456789012345678901234567890", "-0",
    "0.1e1", "18446744073709551616", "9223372036854775808", "NaN", "Infinity", "-Infinity", "nan", "undefined",
    "1.", ".5", "01", "+1", "0x10", '"\\ud800"', '"\\udc00x"', '"\\ud800\\ud800"', '"\\u0000"', '"a\\u0000b"',
    '"\u2028\u2029"', '"\\uFFFF"', '"\U0001F600"', "true", "null", '""', '"\t"', "tru", '"\\x41"', "'single'"])


@st.composite
def _deep(draw):
    depth = draw(_DEPTHS)
    kind = draw(st.sampled_from(["array", "object", "mixed"]))
    leaf = draw(_ODD_SCALARS)
    if kind == "array":
        return "[" * depth + leaf + "]" * depth
    if kind == "object":
        return '{"k":' * depth + leaf + "}" * depth
    opens = draw(st.lists(st.booleans(), min_size=min(depth, 300), max_size=min(depth, 300)))
    closing = "".join("]" if o else "}" for o in reversed(opens))
    return "".join("[" if o else '{"\u00f8":' for o in opens) + leaf + closing


def _wide(draw):
    n = draw(st.sampled_from([1000, 10_000, 100_000]))
    leaf = draw(_ODD_SCALARS)
    if draw(st.booleans()):
        return "[" + ",".join([leaf] * n) + "]"
    return "{" + ",".join(f'"k{i}":{leaf}' for i in range(n)) + "}"


_odd_keys = st.text(min_size=0, max_size=8) | st.sampled_from(["", "\x00", "\ud800", "ø", "\u202e", "a" * 10_000])


@st.composite
def odd_json(draw):
    kind = draw(st.sampled_from(["deep"] * 4 + ["wide", "scalar", "duplicate", "long", "keys", "broken"]))
    if kind == "deep":
        return draw(_deep())
    if kind == "wide":
        return _wide(draw)
    if kind == "scalar":
        return draw(_ODD_SCALARS)
    if kind == "duplicate":
        return '{"a":1,"a":' + draw(_ODD_SCALARS) + ',"a":{"a":[]}}'
    if kind == "long":
        return '"' + draw(st.sampled_from(["x", "\\\\", "\\n", "æ", "\\ud83d\\ude00"])) * draw(
            st.sampled_from([70_000, 1_100_000])) + '"'
    if kind == "keys":
        keys = draw(st.lists(_odd_keys, min_size=1, max_size=4))
        return "{" + ",".join(f'"{k}":{draw(_ODD_SCALARS)}' for k in keys) + "}"
    return draw(st.sampled_from(["", "{", "[1,]", '{"a":}', "[" * 2000, "}" * 10, "\ufeff{}", '{"a":1}x',
                                 '{"a" 1}', "[1 2]"]))
