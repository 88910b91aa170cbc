"""Helpers for the cmi5 tests: a course package, an admin client of the cmi5 API, and an AU that speaks cmi5."""
import base64
import io
import uuid
import zipfile
from urllib.parse import parse_qs, urlsplit

from lrs.cmi5 import vocab
from tests.conftest import XAPIClient, basic, make_credential

NS = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"
COURSE_ID = "https://kurs.helse.example.no/test-course"


def langs(text):
    return f'<langstring lang="nb">{text}</langstring><langstring lang="en">{text}</langstring>'


def au_xml(n, move_on="CompletedAndPassed", mastery="0.8", url=None):
    mastery_attr = f' masteryScore="{mastery}"' if mastery else ""
    return (f'<au id="{COURSE_ID}/au/{n}" moveOn="{move_on}"{mastery_attr}>'
            f'<title>{langs(f"AU {n}")}</title><description>{langs("d")}</description>'
            f'<url>{url or f"au{n}/index.html"}</url></au>')


def course_xml(body=None, competences=("HH-01",)):
    comp = "".join(f"<kl:competence>{c}</kl:competence>" for c in competences)
    body = body if body is not None else (
        f'<block id="{COURSE_ID}/block/1"><title>{langs("Blokk")}</title><description>{langs("d")}</description>'
        f'{au_xml(1)}{au_xml(2, move_on="Completed", mastery=None)}</block>{au_xml(3, move_on="NotApplicable", mastery=None)}')
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<courseStructure xmlns="{NS}" '
            f'xmlns:kl="https://w3id.org/kompetanse-lrs/cmi5">'
            f'<course id="{COURSE_ID}"><title>{langs("Testkurs")}</title><description>{langs("d")}</description>'
            f'<kl:competences>{comp}</kl:competences></course>{body}</courseStructure>').encode()


def zip_package(xml=None, files=None):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("cmi5.xml", xml or course_xml())
        for name, content in (files or {f"au{n}/index.html": b"<!doctype html><title>AU</title>" for n in (1, 2, 3)}).items():
            z.writestr(name, content)
    return buf.getvalue()


def objectives(*ids):
    return "<objectives>" + "".join(f'<objective id="{i}"><title>{langs("M")}</title><description>{langs("d")}'
                                    f'</description></objective>' for i in ids) + "</objectives>"


def _au(n, url=None, au_id=None, refs=()):
    """An AU element; refs: objective idrefs (the objectives element comes before url in the XSD)."""
    xml = au_xml(n, url=url)
    if au_id:
        xml = xml.replace(f'id="{COURSE_ID}/au/{n}"', f'id="{au_id}"')
    if refs:
        xml = xml.replace("<url>", "<objectives>" + "".join(f'<objective idref="{r}"/>' for r in refs)
                          + "</objectives><url>")
    return xml


def _block(block_id, inner):
    return f'<block id="{block_id}"><title>{langs("B")}</title><description>{langs("d")}</description>{inner}</block>'


# Packages that break a rule the XSD cannot state, each with the words the refusal must hold (the element named).
# Both the LRS's import and course-builder refuse each of them.
BAD_PACKAGES = {
    "duplicate AU ids": (zip_package(course_xml(_au(1) + _au(2, au_id=f"{COURSE_ID}/au/1"))),
                         f"AU '{COURSE_ID}/au/1': the id is already used by AU"),
    "AU id is the course id": (zip_package(course_xml(_au(1, au_id=COURSE_ID))),
                               f"AU '{COURSE_ID}': the id is already used by the course id"),
    "block id is an AU id": (zip_package(course_xml(_au(1) + _block(f"{COURSE_ID}/au/1", _au(2)))),
                             f"block '{COURSE_ID}/au/1': the id is already used by AU"),
    "objective id is a block id": (
        zip_package(course_xml(objectives(f"{COURSE_ID}/b") + _block(f"{COURSE_ID}/b", _au(1)))),
        f"block '{COURSE_ID}/b': the id is already used by objective"),
    "duplicate objectives": (zip_package(course_xml(objectives(f"{COURSE_ID}/m", f"{COURSE_ID}/m") + _au(1))),
                             f"objective '{COURSE_ID}/m': the id is already used by objective"),
    "objective idref names nothing": (
        zip_package(course_xml(objectives(f"{COURSE_ID}/m") + _au(1, refs=[f"{COURSE_ID}/x"]))),
        f"AU '{COURSE_ID}/au/1': objective idref '{COURSE_ID}/x' names no objective"),
    "relative AU id": (zip_package(course_xml(_au(1, au_id="au-1"))), "AU 'au-1' is not an absolute IRI"),
    "relative block id": (zip_package(course_xml(_block("blokk-1", _au(1)))), "block 'blokk-1' is not an absolute IRI"),
    "relative course id": (zip_package(course_xml().replace(f'<course id="{COURSE_ID}"'.encode(), b'<course id="kurs"')),
                           "the course id 'kurs' is not an absolute IRI"),
    "relative objective id": (zip_package(course_xml(objectives("maal") + _au(1))),
                              "objective 'maal' is not an absolute IRI"),
    "space in the AU URL": (zip_package(course_xml(_au(1, url="au1/index 1.html")),
                                        files={"au1/index 1.html": b"x"}),
                            f"AU '{COURSE_ID}/au/1': url 'au1/index 1.html' is not a valid URL"),
    "script AU URL": (zip_package(course_xml(_au(1, url="javascript:alert(1)"))),
                      f"AU '{COURSE_ID}/au/1': url 'javascript:alert(1)' is not a valid URL"),
    "endpoint in the AU URL": (zip_package(course_xml(_au(1, url="au1/index.html?endpoint=https://evil.example/xapi"))),
                               f"AU '{COURSE_ID}/au/1': url 'au1/index.html?endpoint=https://evil.example/xapi' "
                               "carries the launch parameter(s) endpoint"),
    "fetch and actor in the AU URL": (zip_package(course_xml(_au(1, url="au1/index.html?lang=nb&amp;fetch=x&amp;actor="))),
                                      "carries the launch parameter(s) actor, fetch"),
    "relative URL names no file": (zip_package(course_xml(_au(1, url="au9/index.html"))),
                                   f"AU '{COURSE_ID}/au/1': url 'au9/index.html' names no file in the package"),
}


class Admin:
    """A client of the cmi5 JSON API with a cmi5/admin credential."""

    def __init__(self, app, scopes=("cmi5/admin",)):
        cred = make_credential(app, scopes, name="cmi5-admin")
        self.client, self.auth = app.test_client(), basic(cred["key"], cred["secret"])

    def open(self, method, path, json=None, data=None, **kw):
        import orjson
        body = orjson.dumps(json) if json is not None else data
        return self.client.open(path, method=method, data=body, headers={"Authorization": self.auth}, **kw)

    def import_(self, data=None, **kw):
        return self.open("POST", "/cmi5/api/courses", data=data if data is not None else zip_package(), **kw)

    def launch(self, course_id, employee="e1001", au=0, **extra):
        return self.open("POST", f"/cmi5/api/courses/{course_id}/launch", json={"employee_id": employee, "au": au,
                                                                                **extra})


class AU:
    """What an AU does after a launch: read the launch URL, fetch the token, send statements as cmi5 says."""

    def __init__(self, app, launch_url):
        self.app = app
        q = {k: v[0] for k, v in parse_qs(urlsplit(launch_url).query).items()}
        import orjson
        self.endpoint, self.fetch_url = q["endpoint"], q["fetch"]
        self.actor, self.registration, self.activity_id = orjson.loads(q["actor"]), q["registration"], q["activityId"]
        self.client = app.test_client()
        self.xapi = None
        self.session_id = self.template = self.launch_data = None

    def fetch(self):
        return self.client.post(urlsplit(self.fetch_url).path).get_json()

    def start(self):
        token = self.fetch()["auth-token"]
        self.xapi = XAPIClient(self.client, "Basic " + token)
        self.launch_data = self.state("LMS.LaunchData").get_json()
        self.template = self.launch_data["contextTemplate"]
        self.session_id = self.template["extensions"][vocab.SESSION_ID]
        return self

    def state(self, state_id):
        import json
        return self.xapi.get("/xapi/activities/state", query_string={
            "activityId": self.activity_id, "agent": json.dumps(self.actor), "stateId": state_id,
            "registration": self.registration})

    def statement(self, verb, defined=True, result=None, moveon=None, **extra):
        import copy
        ctx = copy.deepcopy(self.template)
        ctx["registration"] = self.registration
        if defined:
            cats = [{"id": vocab.CATEGORY}]
            has_moveon = moveon if moveon is not None else bool(result and ("success" in result or "completion" in result))
            if has_moveon:
                cats.append({"id": vocab.MOVEON_CATEGORY})
            ctx["contextActivities"]["category"] = cats
        if verb in (vocab.PASSED, vocab.FAILED) and "masteryScore" in self.launch_data:
            ctx["extensions"][vocab.MASTERY_SCORE] = self.launch_data["masteryScore"]
        stmt = {"id": str(uuid.uuid4()), "actor": self.actor,
                "verb": {"id": verb, "display": {"en-US": vocab.name(verb)}},
                "object": {"objectType": "Activity", "id": self.activity_id}, "context": ctx,
                "timestamp": "2026-11-24T12:00:00.000Z"}
        if result is not None:
            stmt["result"] = result
        stmt.update(extra)
        return stmt

    def send(self, *stmts):
        return self.xapi.post("/xapi/statements", json=list(stmts))

    # The cmi5 defined statements, well formed.
    def initialized(self):
        return self.statement(vocab.INITIALIZED)

    def passed(self, scaled=0.9):
        return self.statement(vocab.PASSED, result={"success": True, "score": {"scaled": scaled}, "duration": "PT1M"})

    def failed(self, scaled=0.5):
        return self.statement(vocab.FAILED, result={"success": False, "score": {"scaled": scaled}, "duration": "PT1M"})

    def completed(self):
        return self.statement(vocab.COMPLETED, result={"completion": True, "duration": "PT2M"})

    def terminated(self):
        return self.statement(vocab.TERMINATED, result={"duration": "PT3M"})


def token_key(auth_token):
    return base64.b64decode(auth_token).decode().split(":")[0]
