"""Building a module into a cmi5 package: cmi5.xml (checked against the cmi5 XSD) and one assignable unit of
static HTML/JS (runtime/au.js with the @xapi/cmi5 bundle), zipped reproducibly (same source, same bytes)."""
import html
import json
import os
import re
import zipfile
from xml.sax.saxutils import escape, quoteattr

import markdown

import cmi5_package as package
from course_builder.source import Module, load

RUNTIME = os.path.join(os.path.dirname(__file__), "runtime")
CMI5_BUNDLE = os.path.join(RUNTIME, "node_modules", "@xapi", "cmi5", "dist", "Cmi5.umd.js")
KL_NS = package.KL_NS
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


class BuildError(Exception):
    pass


def runtime_bundle() -> bytes:
    try:
        with open(CMI5_BUNDLE, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise BuildError("the AU runtime is not built: run `make runtime` (npm ci in course_builder/runtime)")


def render_page(page) -> dict:
    parts = []
    for kind, value in page.parts:
        if kind == "markdown":
            body = markdown.markdown(value, extensions=["extra", "sane_lists"], output_format="html")
            parts.append({"html": _videos(body)})
        else:
            parts.append({"question": {
                "id": value.id, "type": value.type, "text": value.text, "feedback": value.feedback,
                "options": [{"id": o["id"], "text": o["text"], "correct": o["correct"], "feedback": o["feedback"]}
                            for o in value.options]}})
    return {"title": page.title, "parts": parts}


def _videos(body: str) -> str:
    """A link to a video file in media/ becomes a video player; links elsewhere stay links (no embeds: offline)."""
    return re.sub(r'<a href="(media/[^"]+\.(?:mp4|webm))">([^<]*)</a>',
                  lambda m: f'<video controls preload="metadata" src="{m.group(1)}">{m.group(2)}</video>', body)


def module_json(module: Module) -> dict:
    return {"id": module.id, "title": module.title, "language": module.language, "passMark": module.pass_mark,
            "moveOn": module.move_on, "version": module.version, "pages": [render_page(p) for p in module.pages]}


def index_html(module: Module) -> str:
    data = json.dumps(module_json(module), ensure_ascii=False).replace("</", "<\\/")
    title = html.escape(module.title.get(module.language) or module.title["nb"])
    return f"""<!doctype html>
<html lang="{module.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="au.css">
</head>
<body>
<main id="app" aria-live="polite"><p>Laster … / Loading …</p></main>
<script type="application/json" id="module">{data}</script>
<script src="cmi5.umd.js"></script>
<script src="au.js"></script>
</body>
</html>
"""


def _langstrings(texts: dict) -> str:
    return "".join(f'<langstring lang="{lang}">{escape(text)}</langstring>' for lang, text in texts.items())


def cmi5_xml(module: Module) -> bytes:
    competences = "".join(f"<kl:competence>{escape(c)}</kl:competence>" for c in module.competences)
    mastery = f' masteryScore="{module.pass_mark:g}"' if module.questions else ""
    description = module.description or module.title
    return f"""<?xml version="1.0" encoding="utf-8"?>
<courseStructure xmlns="{package.NS}" xmlns:kl="{KL_NS}">
  <course id={quoteattr(module.id)}>
    <title>{_langstrings(module.title)}</title>
    <description>{_langstrings(description)}</description>
    <kl:competences>{competences}</kl:competences>
    <kl:version>{escape(module.version)}</kl:version>
  </course>
  <au id={quoteattr(module.id + "/au")} moveOn="{module.move_on}"{mastery} launchMethod="AnyWindow">
    <title>{_langstrings(module.title)}</title>
    <description>{_langstrings(description)}</description>
    <url>au/index.html</url>
  </au>
</courseStructure>
""".encode()


def package_files(module: Module) -> dict[str, bytes]:
    files = {"cmi5.xml": cmi5_xml(module), "au/index.html": index_html(module).encode(),
             "au/cmi5.umd.js": runtime_bundle()}
    for name in ("au.js", "au.css"):
        with open(os.path.join(RUNTIME, name), "rb") as f:
            files[f"au/{name}"] = f.read()
    for path in module.media:
        with open(os.path.join(module.folder, path), "rb") as f:
            files[f"au/{path}"] = f.read()
    return files


def build(folder: str, out_dir: str | None = None) -> str:
    """Check the module in `folder` and write its package; returns the zip's path. Raises SourceError/BuildError."""
    module = load(folder)
    files = package_files(module)
    try:
        package.check(files["cmi5.xml"], files)  # the package checks the LRS makes on import, in one place
    except package.PackageError as e:
        raise BuildError(f"the built package is not valid: {e}")
    out_dir = out_dir or os.path.join(folder, "build")
    os.makedirs(out_dir, exist_ok=True)
    slug = module.id.rstrip("/").rsplit("/", 1)[-1]
    path = os.path.join(out_dir, f"{slug}-{module.version}.zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, files[name])
    return path


def check_package(zip_path: str) -> "package.Course":
    """Check a package made elsewhere (a zip, or a cmi5.xml) as the LRS will on import. Raises BuildError."""
    with open(zip_path, "rb") as f:
        data = f.read()
    try:
        return package.read(data)
    except package.PackageError as e:
        raise BuildError(f"{zip_path}: {e}")


def unpack(zip_path: str, into: str) -> None:
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(into)
