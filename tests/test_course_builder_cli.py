"""course-builder preview and publish, against real processes: a preview server and a real LRS server."""
import os
import subprocess
import sys
import urllib.request

import pytest

from course_builder import cli
from tests.conftest import fresh_database
from tests.server_support import Server

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples", "modules")


def test_preview_serves_the_built_module():
    proc = subprocess.Popen([sys.executable, "-m", "course_builder.cli", "preview", os.path.join(EXAMPLES, "handhygiene"),
                             "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = line.split("preview: ", 1)[1].split()[0]
        with urllib.request.urlopen(url, timeout=10) as r:
            page = r.read().decode()
        assert "Håndhygiene" in page and '<script src="cmi5.umd.js">' in page
        with urllib.request.urlopen(url.replace("index.html", "cmi5.umd.js"), timeout=10) as r:
            assert r.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_publish_uploads_to_the_lrs(kind, tmp_path, capsys):
    with fresh_database(kind, tmp_path, "publish") as url, Server(url, workers=1, threads=2) as server:
        key, secret = server.credential("cmi5/admin")
        folder = os.path.join(EXAMPLES, "blodtransfusjon")
        cli.main(["publish", folder, "--lrs", server.url, "--key", key, "--secret", secret])
        out, err = capsys.readouterr()
        # a fresh LRS has no catalog: the module names a code it does not have, which is said before publishing
        assert "warning: the LRS's catalog has no competence BLOD" in err and "none: import a catalog first" in err
        assert "published https://kurs.helse.example.no/moduler/blodtransfusjon-kontroll version 1" in out
        assert "(competences: BLOD)" in out
        # the same module again is the same version (reproducible build, idempotent import)
        cli.main(["publish", folder, "--lrs", server.url, "--key", key, "--secret", secret])
        assert "version 1" in capsys.readouterr().out
        wrong_key, wrong_secret = server.credential("statements/write")
        with pytest.raises(SystemExit) as e:
            cli.main(["publish", folder, "--lrs", server.url, "--key", wrong_key, "--secret", wrong_secret])
        assert "403" in str(e.value) and "cmi5/admin" in str(e.value)
