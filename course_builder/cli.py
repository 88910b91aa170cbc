"""course-builder build | check | preview | publish (see docs/authoring.md)."""
import argparse
import functools
import http.server
import os
import sys
import tempfile

import cmi5_package
import xapi_client
from course_builder.build import BuildError, build, check_package, unpack
from course_builder.source import SourceError


def _build(folder, out=None) -> str:
    """A module folder built into a package, or a ready package (.zip, .xml) checked; the package's path."""
    try:
        if folder.endswith((".zip", ".xml")):
            check_package(folder)
            return folder
        return build(folder, out)
    except SourceError as e:
        print(f"{len(e.problems)} problem(s) in {folder}:", file=sys.stderr)
        for p in e.problems:
            print(f"  {p}", file=sys.stderr)
        raise SystemExit(1)
    except BuildError as e:
        print(str(e), file=sys.stderr)
        raise SystemExit(1)


def cmd_build(args):
    print(_build(args.folder, args.out))


def cmd_check(args):
    _build(args.package, tempfile.mkdtemp(prefix="course-builder-"))  # SystemExit(1) with the problems
    print(f"{args.package}: ok")


def cmd_preview(args):
    """Serve the built module locally; opened without launch parameters the AU reports nothing."""
    path = _build(args.folder, tempfile.mkdtemp(prefix="course-builder-"))
    root = tempfile.mkdtemp(prefix="course-preview-")
    unpack(path, root)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
    server = http.server.ThreadingHTTPServer((args.host, args.port), handler)
    print(f"Forhåndsvisning / preview: http://{args.host}:{server.server_address[1]}/au/index.html  (Ctrl+C stops)",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


def unknown_competences(client, codes) -> str | None:
    """A warning when the module names competence codes the LRS's catalog does not have (the module would then
    reach no plan), naming the codes that do exist; None when every code is known."""
    known = client.competences()
    unknown = [c for c in codes if c not in known]
    if not unknown:
        return None
    existing = ", ".join(f"{c['code']} ({c['name_nb']})" for c in known.values()) or "none: import a catalog first"
    return (f"warning: the LRS's catalog has no competence {', '.join(unknown)}: the module gives evidence for "
            f"nothing there and reaches no plan. Fix `competences` in module.yaml. The codes that exist: {existing}")


def publish(package_path: str, lrs: str, key: str, secret: str) -> dict:
    """Upload a package to the LRS's cmi5 API (credential scope cmi5/admin); returns the course it made. Warns (on
    stderr) first about competence codes the LRS's catalog does not have."""
    with open(package_path, "rb") as f:
        data = f.read()
    try:
        client = xapi_client.connect(lrs, key, secret)
        warning = unknown_competences(client, cmi5_package.read(data).competences)
        if warning:
            print(warning, file=sys.stderr)
        return client.publish_course(data)
    except xapi_client.Refused as e:
        raise SystemExit(f"the LRS refused the module ({e.status}): {e.message}")
    except xapi_client.Unreachable:
        raise SystemExit(f"cannot reach the LRS at {lrs}")


def cmd_publish(args):
    if not (args.lrs and args.key and args.secret):
        raise SystemExit("give --lrs, --key and --secret (or COURSE_BUILDER_LRS, _KEY, _SECRET in the environment)")
    path = _build(args.folder)  # a ready package is checked as the LRS will, before it is sent
    course = publish(path, args.lrs, args.key, args.secret)
    print(f"published {course['publisher_id']} version {course['version']} as course {course['id']} "
          f"(competences: {', '.join(course['competences']) or 'none'})")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="course-builder", description="cmi5 modules from Markdown")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="check a module folder and write its cmi5 package (zip)")
    b.add_argument("folder")
    b.add_argument("-o", "--out", help="folder for the zip (default: <folder>/build)")
    b.set_defaults(func=cmd_build)
    c = sub.add_parser("check", help="check a module folder, or a cmi5 package (.zip, .xml), as the LRS will")
    c.add_argument("package")
    c.set_defaults(func=cmd_check)
    p = sub.add_parser("preview", help="serve the module locally")
    p.add_argument("folder")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_preview)
    u = sub.add_parser("publish", help="build and upload the module to the LRS")
    u.add_argument("folder", help="a module folder, or a built .zip")
    u.add_argument("--lrs", default=os.environ.get("COURSE_BUILDER_LRS"), help="e.g. https://lrs.helse.example.no")
    u.add_argument("--key", default=os.environ.get("COURSE_BUILDER_KEY"))
    u.add_argument("--secret", default=os.environ.get("COURSE_BUILDER_SECRET"))
    u.set_defaults(func=cmd_publish)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
