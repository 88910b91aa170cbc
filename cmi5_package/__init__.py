"""Reading and checking a cmi5 course package (cmi5 13, 14): a zip with cmi5.xml at its root, or a cmi5.xml alone.

One place for the package checks both sides need: the LRS's course import (lrs/cmi5/package.py) and
`course-builder build`. It knows nothing of the LRS. The course structure is checked against the cmi5 XSD
(CourseStructure.xsd, shipped beside this file), then for what the XSD cannot say: ids unique and absolute IRIs,
AU URLs that are URLs, carry none of the launch parameters the LMS adds, and (relative) name a file of the zip."""
import io
import os
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl, unquote, urlsplit
from xml.etree import ElementTree

import xmlschema

NS = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"
# Our own vendor extension (cmi5 13.1.5): the competence codes a module gives evidence for.
KL_NS = "https://w3id.org/kompetanse-lrs/cmi5"
XSD = os.path.join(os.path.dirname(__file__), "CourseStructure.xsd")
MAX_FILES = 5000
MAX_UNPACKED = 500 * 1024 * 1024  # bytes, all files together (a small zip may unpack to far more)
# The query parameters the LMS adds to an AU's URL at launch (cmi5 8.1): an AU URL that carries one already would
# be launched with two of it, and content reads the first (the package's, not the LMS's).
LAUNCH_PARAMETERS = ("endpoint", "fetch", "actor", "registration", "activityId")
# An absolute IRI (cmi5 3.0: fully qualified), by the same rule the LRS applies to statement IRIs: a scheme, ':', and
# a rest without white space or control characters. These ids end up in statements.
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f-\x9f]+\Z").match
# An IRI reference (RFC 3987): none of the characters it excludes, and % only as a percent-escape.
_URL = re.compile(r"(?:[^\s\x00-\x1f\x7f-\x9f<>\"{}|\\^`%]|%[0-9A-Fa-f]{2})+\Z").match


class PackageError(ValueError):
    """The package is not a valid cmi5 package; the message says what is wrong."""


@lru_cache(maxsize=1)
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(XSD)


@dataclass
class AU:
    publisher_id: str
    title: dict
    url: str
    move_on: str = "NotApplicable"
    mastery_score: str | None = None
    launch_method: str = "AnyWindow"
    launch_parameters: str | None = None
    entitlement_key: str | None = None
    blocks: list = field(default_factory=list)  # publisher ids of the blocks holding it, outermost first


@dataclass
class Course:
    publisher_id: str
    title: dict
    description: dict
    aus: list  # of AU, in course order
    tree: dict  # {"id", "title", "children": [{"au": index} | {"block": {...}}]}
    competences: list
    files: dict  # path in the package -> bytes (empty for a cmi5.xml alone)


def read(data: bytes) -> Course:
    """A checked course from the bytes of a zip package or of a cmi5.xml."""
    if data[:4] != b"PK\x03\x04":
        return check(data, {})
    files = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = [n for n in z.namelist() if not n.endswith("/")]
            if len(names) > MAX_FILES:
                raise PackageError(f"the package holds {len(names)} files; at most {MAX_FILES} are accepted")
            unpacked = sum(i.file_size for i in z.infolist())
            if unpacked > MAX_UNPACKED:
                raise PackageError(f"the package unpacks to {unpacked} bytes; at most {MAX_UNPACKED} are accepted")
            for name in names:
                path = posixpath.normpath(name)
                if path.startswith(("/", "../")) or path == "..":
                    raise PackageError(f"the package path {name!r} points outside the package")
                files[path] = z.read(name)
    except zipfile.BadZipFile as e:
        raise PackageError(f"the package is not a readable zip file: {e}")
    if "cmi5.xml" not in files:
        raise PackageError("the zip package has no cmi5.xml at its root (cmi5 14.1)")
    return check(files["cmi5.xml"], files)


def check(xml: bytes, files: dict) -> Course:
    """The course of a cmi5.xml with every check made; `files` are the package's (path -> bytes), or empty for a
    cmi5.xml without a zip (whose AU URLs must then be absolute, cmi5 14.2)."""
    course = parse(xml)
    for au in course.aus:
        where = f"AU {au.publisher_id!r}: url {au.url!r}"
        problem = _url_problem(au.url)
        if problem:
            raise PackageError(f"{where} is not a valid URL ({problem})")
        parts = urlsplit(au.url)
        reserved = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)} & set(LAUNCH_PARAMETERS))
        if reserved:
            raise PackageError(f"{where} carries the launch parameter(s) {', '.join(reserved)}, which the LMS adds "
                               "at launch (cmi5 8.1): remove them from the URL")
        if parts.scheme:
            continue
        if not files:
            raise PackageError(f"{where} is relative, but a cmi5.xml without a zip package must use fully "
                               "qualified URLs (cmi5 14.2)")
        if posixpath.normpath(unquote(parts.path)) not in files:
            raise PackageError(f"{where} names no file in the package")
    course.files = files
    return course


def _url_problem(url: str) -> str | None:
    """Why an AU URL is not a URL to launch, or None."""
    if not _URL(url):
        return "white space, a control character, one of <>\"{}|\\^` or a stray % (write a space as %20)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number in range)
    except ValueError as e:
        return str(e)
    if parts.scheme and (parts.scheme.lower() not in ("http", "https") or not parts.netloc):
        return "an absolute AU URL must be http(s)://host/..."
    return None


def parse(xml: bytes) -> Course:
    """The course structure of a cmi5.xml, checked against the XSD, with unique, absolute ids."""
    try:
        errors = list(schema().iter_errors(xml if isinstance(xml, str) else xml.decode("utf-8")))
    except (UnicodeDecodeError, ValueError) as e:  # not UTF-8, or not XML at all
        raise PackageError(f"cmi5.xml is not readable XML: {e}")
    except Exception as e:  # xmlschema raises ElementTree's ParseError for broken XML
        raise PackageError(f"cmi5.xml is not well-formed XML: {e}")
    if errors:
        first = errors[0]
        where = f" (at {first.path})" if getattr(first, "path", None) else ""
        raise PackageError(f"cmi5.xml does not follow the cmi5 course structure schema{where}: {first.reason}")
    root = ElementTree.fromstring(xml)
    q = f"{{{NS}}}"
    course_el = root.find(q + "course")
    aus: list[AU] = []
    ids: dict[str, str] = {}  # id -> the element that has it, for the messages

    def own_id(el, kind):
        value = el.attrib["id"].strip()
        what = f"{kind} {value!r}" if kind != "course" else f"the course id {value!r}"
        if not _IRI(value):
            raise PackageError(f"{what} is not an absolute IRI (cmi5 3.0: ids are fully qualified, e.g. "
                               "'https://example.no/course/1')")
        if value in ids:
            raise PackageError(f"{what}: the id is already used by {ids[value]} (cmi5 13.1: ids are unique in a "
                               "course structure)")
        ids[value] = what
        return value

    def text(el, name):
        return {ls.get("lang", "und"): (ls.text or "").strip() for ls in el.find(q + name).findall(q + "langstring")}

    def walk(el, blocks):
        children = []
        for child in el:
            if child.tag == q + "au":
                a = child.attrib
                aus.append(AU(publisher_id=own_id(child, "AU"), title=text(child, "title"),
                              url=child.find(q + "url").text.strip(), move_on=a.get("moveOn", "NotApplicable"),
                              mastery_score=a.get("masteryScore"), launch_method=a.get("launchMethod", "AnyWindow"),
                              launch_parameters=_opt_text(child.find(q + "launchParameters")),
                              entitlement_key=_opt_text(child.find(q + "entitlementKey")), blocks=list(blocks)))
                children.append({"au": len(aus) - 1})
            elif child.tag == q + "block":
                bid = own_id(child, "block")
                children.append({"block": {"id": bid, "title": text(child, "title"),
                                           "children": walk(child, blocks + [bid])}})
        return children

    course_id = own_id(course_el, "course")
    objectives = root.find(q + "objectives")
    for objective in (objectives.findall(q + "objective") if objectives is not None else []):
        own_id(objective, "objective")
    tree = {"id": course_id, "title": text(course_el, "title"), "children": walk(root, [])}
    defined = {i for i, what in ids.items() if what.startswith("objective")}
    for el in root.iter():
        for ref in el.findall(f"{q}objectives/{q}objective[@idref]"):
            if ref.attrib["idref"].strip() not in defined:
                kind = {"au": "AU"}.get(el.tag.removeprefix(q), "block")
                raise PackageError(f"{kind} {el.attrib.get('id', '')!r}: objective idref "
                                   f"{ref.attrib['idref']!r} names no objective of the course (cmi5 13.1.3)")
    competences = [c.text.strip() for c in course_el.iter(f"{{{KL_NS}}}competence") if c.text and c.text.strip()]
    return Course(publisher_id=course_id, title=tree["title"],
                  description=text(course_el, "description"), aus=aus, tree=tree, competences=competences, files={})


def _opt_text(el):
    return el.text.strip() if el is not None and el.text and el.text.strip() else None
