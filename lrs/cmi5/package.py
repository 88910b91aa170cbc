"""Reading a cmi5 course package (cmi5 14.0): a zip with cmi5.xml at its root, or a cmi5.xml alone.

The course structure is checked against the cmi5 XSD (CourseStructure.xsd, shipped beside this file)."""
import io
import mimetypes
import os
import posixpath
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

import xmlschema

NS = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"
# Our own vendor extension (cmi5 13.1.5): the competence codes a module gives evidence for.
KL_NS = "https://w3id.org/kompetanse-lrs/cmi5"
XSD = os.path.join(os.path.dirname(__file__), "CourseStructure.xsd")
MAX_FILES = 5000
MAX_UNPACKED = 500 * 1024 * 1024  # bytes, all files together (a small zip may unpack to far more)


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
    """A course from the bytes of a zip package or of a cmi5.xml."""
    files = {}
    if data[:4] == b"PK\x03\x04":
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
        xml = files["cmi5.xml"]
    else:
        xml = data
    course = parse(xml)
    for au in course.aus:
        if _is_relative(au.url):
            if not files:
                raise PackageError(f"AU {au.publisher_id}: url {au.url!r} is relative, but a cmi5.xml without a zip "
                                   "package must use fully qualified URLs (cmi5 14.2)")
            if urlsplit(au.url).path not in files:
                raise PackageError(f"AU {au.publisher_id}: url {au.url!r} is not a file in the package")
    course.files = files
    return course


def _is_relative(url: str) -> bool:
    return not urlsplit(url).scheme


def parse(xml: bytes) -> Course:
    """The course structure of a cmi5.xml, checked against the XSD."""
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
    from xml.etree import ElementTree
    root = ElementTree.fromstring(xml)
    q = f"{{{NS}}}"
    course_el = root.find(q + "course")
    aus: list[AU] = []

    def text(el, name):
        return {ls.get("lang", "und"): (ls.text or "").strip() for ls in el.find(q + name).findall(q + "langstring")}

    def walk(el, blocks):
        children = []
        for child in el:
            if child.tag == q + "au":
                a = child.attrib
                aus.append(AU(publisher_id=a["id"], title=text(child, "title"),
                              url=child.find(q + "url").text.strip(), move_on=a.get("moveOn", "NotApplicable"),
                              mastery_score=a.get("masteryScore"), launch_method=a.get("launchMethod", "AnyWindow"),
                              launch_parameters=_opt_text(child.find(q + "launchParameters")),
                              entitlement_key=_opt_text(child.find(q + "entitlementKey")), blocks=list(blocks)))
                children.append({"au": len(aus) - 1})
            elif child.tag == q + "block":
                bid = child.attrib["id"]
                children.append({"block": {"id": bid, "title": text(child, "title"),
                                           "children": walk(child, blocks + [bid])}})
        return children

    tree = {"id": course_el.attrib["id"], "title": text(course_el, "title"), "children": walk(root, [])}
    competences = [c.text.strip() for c in course_el.iter(f"{{{KL_NS}}}competence") if c.text and c.text.strip()]
    return Course(publisher_id=course_el.attrib["id"], title=tree["title"],
                  description=text(course_el, "description"), aus=aus, tree=tree, competences=competences, files={})


def _opt_text(el):
    return el.text.strip() if el is not None and el.text and el.text.strip() else None


def content_type(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"
