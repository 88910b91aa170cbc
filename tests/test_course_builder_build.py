"""course-builder: module source -> cmi5 package. The XSD check here is xmlschema against the shipped cmi5
CourseStructure.xsd, independent of the LRS's own import."""
import io
import os
import re
import shutil
import zipfile

import pytest
import xmlschema

from course_builder import cli
from course_builder.build import build
from course_builder.source import SourceError, load
from cmi5_package import XSD
from tests.cmi5_support import BAD_PACKAGES, Admin

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples", "modules")
MODULES = ["handhygiene", "blodtransfusjon"]


@pytest.fixture
def module(tmp_path):
    """A copy of the hand hygiene example to break."""
    path = tmp_path / "module"
    shutil.copytree(os.path.join(EXAMPLES, "handhygiene"), path, ignore=shutil.ignore_patterns("build"))
    return path


def files_of(zip_path):
    with zipfile.ZipFile(zip_path) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.mark.parametrize("name", MODULES)
def test_examples_build_to_packages_that_follow_the_cmi5_xsd(name, tmp_path):
    path = build(os.path.join(EXAMPLES, name), str(tmp_path))
    files = files_of(path)
    xmlschema.XMLSchema(XSD).validate(io.BytesIO(files["cmi5.xml"]))  # raises on any schema error
    assert {"cmi5.xml", "au/index.html", "au/au.js", "au/au.css", "au/cmi5.umd.js"} <= set(files)
    assert b"Cmi5" in files["au/cmi5.umd.js"]  # the bundled runtime, no CDN
    html = files["au/index.html"].decode()
    assert re.findall(r'<script src="([^"]+)"', html) == ["cmi5.umd.js", "au.js"]  # all from the package
    module = load(os.path.join(EXAMPLES, name))
    for q in module.questions:
        assert f'"id": "{q.id}"' in html
    for media in module.media:
        assert f"au/{media}" in files


def test_build_is_reproducible(tmp_path):
    a = build(os.path.join(EXAMPLES, "handhygiene"), str(tmp_path / "a"))
    b = build(os.path.join(EXAMPLES, "handhygiene"), str(tmp_path / "b"))
    assert open(a, "rb").read() == open(b, "rb").read()


def test_cmi5_xml_carries_mastery_move_on_and_competences(tmp_path):
    files = files_of(build(os.path.join(EXAMPLES, "blodtransfusjon"), str(tmp_path)))
    data = xmlschema.XMLSchema(XSD).to_dict(io.BytesIO(files["cmi5.xml"]))
    au = data["au"][0]
    assert au["@moveOn"] == "CompletedAndPassed" and float(au["@masteryScore"]) == 0.75
    assert au["url"] == "au/index.html"
    xml = files["cmi5.xml"].decode()
    assert "<kl:competence>BLOD</kl:competence>" in xml


def test_built_package_imports_into_the_lrs_with_its_competences(app, tmp_path):
    path = build(os.path.join(EXAMPLES, "handhygiene"), str(tmp_path))
    r = Admin(app).import_(open(path, "rb").read())
    assert r.status_code == 201, r.get_json()
    course = r.get_json()
    assert course["competences"] == ["HAND"] and course["aus"][0]["mastery_score"] == 0.8
    page = app.test_client().get(f"/cmi5/content/{course['id']}/au/index.html")
    assert page.status_code == 200 and "Håndhygiene" in page.get_data(as_text=True)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def problems(folder):
    with pytest.raises(SourceError) as e:
        load(str(folder))
    return [str(p) for p in e.value.problems]


def test_missing_module_yaml(tmp_path):
    assert problems(tmp_path) == ["module.yaml:1: missing: a module folder starts with module.yaml"]


def test_bad_settings_are_reported_with_their_lines(module):
    text = (module / "module.yaml").read_text()
    text = text.replace("pass_mark: 0.8", "pass_mark: 80").replace("move_on: CompletedAndPassed", "move_on: Soon")
    write(module / "module.yaml", text + "colour: blue\n")
    found = problems(module)
    lines = text.split("\n")
    assert f"module.yaml:{lines.index('pass_mark: 80') + 1}: pass_mark: must be a number from 0 to 1" in found[0]
    assert any(p.startswith(f"module.yaml:{lines.index('move_on: Soon') + 1}: move_on: must be one of") for p in found)
    assert any(p.startswith(f"module.yaml:{len(lines)}: colour: unknown setting") for p in found)


def test_yaml_syntax_error_has_a_line(module):
    write(module / "module.yaml", "id: x\ntitle: [nb\n")
    [p] = problems(module)
    assert p.startswith("module.yaml:") and "not valid YAML" in p


@pytest.mark.parametrize("block, line, says", [
    ("```question\nid: q9\ntype: single\ntext: Hva?\noptions:\n  - text: a\n    correct: true\n  - text: b\n"
     "    correct: true\n```\n", 4, "exactly one option with correct: true"),
    ("```question\nid: q9\ntype: essay\ntext: Hva?\n```\n", 4, "type must be one of"),
    ("```question\nid: q9\ntype: truefalse\ntext: Hva?\n```\n", 4, "answer: true or answer: false"),
    ("```question\nid: hh-tid\ntype: truefalse\ntext: Hva?\nanswer: true\n```\n", 4, "is used already"),
    ("```question\nid: q9\ntype: single\ntext: Hva?\noptions: [a]\n```\n", 4, "at least two options"),
    ("```question\nid: q9\ntype: [single\n```\n", 5, "not valid YAML"),
    ("```question\nid: q9\n", 3, "not closed"),
    ("![bilde](media/finnes-ikke.png)\n", 3, "no such file"),
    ("![bilde](https://example.org/a.png)\n", 3, "offline"),
])
def test_page_problems_name_file_and_line(module, block, line, says):
    write(module / "pages" / "04-ny.md", "# Ny side\n\n" + block)
    found = problems(module)
    assert any(p.startswith(f"pages/04-ny.md:{line}: ") and says in p for p in found), found


def test_page_without_title(module):
    write(module / "pages" / "04-ny.md", "Tekst uten tittel\n")
    assert "pages/04-ny.md:1: a page starts with its title as a heading: # Title" in problems(module)


def test_cli_build_reports_problems_and_exits_1(module, capsys):
    write(module / "pages" / "04-ny.md", "Tekst\n")
    with pytest.raises(SystemExit) as e:
        cli.main(["build", str(module)])
    assert e.value.code == 1
    assert "pages/04-ny.md:1:" in capsys.readouterr().err


def test_cli_build_writes_the_zip(module, capsys):
    cli.main(["build", str(module)])
    out = capsys.readouterr().out.strip()
    assert out == str(module / "build" / "handhygiene-1.zip") and os.path.isfile(out)


@pytest.mark.parametrize("name", BAD_PACKAGES)
def test_cli_check_and_publish_refuse_what_the_lrs_refuses(name, tmp_path, capsys):
    """course-builder checks a package with the LRS's own package checks (cmi5_package): `check` says what is
    wrong, and `publish` of a ready zip stops before it sends anything (no LRS listens here)."""
    data, message = BAD_PACKAGES[name]
    path = tmp_path / "pakke.zip"
    path.write_bytes(data)
    for argv in (["check", str(path)], ["publish", str(path), "--lrs", "http://127.0.0.1:9", "--key", "k",
                                        "--secret", "s"]):
        with pytest.raises(SystemExit) as e:
            cli.main(argv)
        assert e.value.code == 1
        assert message in capsys.readouterr().err


def test_cli_check_passes_a_module_and_its_package(module, tmp_path, capsys):
    cli.main(["check", str(module)])
    assert capsys.readouterr().out.strip() == f"{module}: ok"
    path = build(str(module), str(tmp_path))
    cli.main(["check", path])
    assert capsys.readouterr().out.strip() == f"{path}: ok"
