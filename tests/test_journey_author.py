"""The course author in a real browser at a PC's and a phone's width: signing in lands on their modules with the
upload in the first screen; a module naming a competence code the catalog lacks is refused, naming the codes that
exist; a fixed one is published and listed with its competence."""
import shutil
from pathlib import Path

import pytest

from course_builder.build import build
from tests.browser_support import axe_check, in_first_screen, shoot, sign_in

pytestmark = pytest.mark.xdist_group("server")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "modules"


def package(tmp_path, example: str, competences: str | None = None, suffix: str = "") -> str:
    """The example module built; with other competences and a publisher id of its own when asked."""
    folder = tmp_path / example
    shutil.copytree(EXAMPLES / example, folder, ignore=shutil.ignore_patterns("build"))
    meta = folder / "module.yaml"
    text = meta.read_text(encoding="utf-8")
    if competences:
        text = "\n".join(f"competences: {competences}" if line.startswith("competences:") else
                         f"{line}-{suffix}" if line.startswith("id:") else line for line in text.splitlines()) + "\n"
    meta.write_text(text, encoding="utf-8")
    return build(str(folder), str(tmp_path / "out"))


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_author_publishes_only_what_counts_for_a_plan(new_page, size, tmp_path):
    page = new_page(size)
    sign_in(page, "forfatter")
    page.wait_for_url("**/author")
    assert in_first_screen(page, page.get_by_role("heading", name="Mine moduler"))
    assert in_first_screen(page, page.get_by_label("Modulpakke (zip fra course-builder build, eller cmi5.xml)"))
    assert in_first_screen(page, page.get_by_role("button", name="Publiser modulen"))
    axe_check(page)
    shoot(page, f"forfatter-mine-moduler-{size}", full_page=False)

    page.reload()
    page.get_by_label("Modulpakke (zip fra course-builder build, eller cmi5.xml)").set_input_files(
        package(tmp_path, "blodtransfusjon"))  # names BLOD, which the test trust's catalog lacks
    page.get_by_role("button", name="Publiser modulen").click()
    refusal = page.get_by_role("alert").filter(has_text="Modulen er ikke publisert")
    assert in_first_screen(page, refusal.get_by_role("heading", name="Modulen er ikke publisert"))
    text = refusal.inner_text()
    assert "ikke finnes i katalogen: BLOD." in text and "HLR Hjerte-lunge-redning" in text
    axe_check(page)
    shoot(page, f"forfatter-modul-avvist-{size}", full_page=False)

    page.goto("/author")
    page.get_by_label("Modulpakke (zip fra course-builder build, eller cmi5.xml)").set_input_files(
        package(tmp_path, "handhygiene", "[HLR]", size))
    page.get_by_role("button", name="Publiser modulen").click()
    page.wait_for_url("**/author")
    done = page.get_by_role("status").filter(has_text="er publisert som versjon 1 og teller for HLR.")
    assert in_first_screen(page, done)
    row = page.get_by_role("row").filter(has_text=f"handhygiene-{size}")
    assert "HLR" in row.inner_text() and "finnes ikke" not in row.inner_text()
    axe_check(page)
    shoot(page, f"forfatter-modul-publisert-{size}", full_page=False)
