"""A script with a token, and nothing else, drives a running `lmreview serve` through the REST API: it lists the
reviews it may see, uploads a Kobo export, downloads a tabulation as JSON and the report file
(tests/fixtures/api/nightly.py, run as its own process, as an office would run it)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from lmreview.questionnaire.models import Review, Submission
from lmreview.store import Store
from lmreview.store.users import add_user
from tests.conftest import FIXTURES, ROOT, SAMPLES, TEMPLATES, Cli
from tests.test_api import KOBO, make_token
from tests.test_serve import _free_port

SCRIPT = FIXTURES / "api" / "nightly.py"


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[str]:
    """`lmreview serve` on the test's database, answering at the returned address."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-c", "from lmreview.cli.main import main; main()", "--db", db_url]
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen([*command, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_a_script_with_a_token_reads_and_feeds_its_review(db_url: str, cli: Cli, server: str, tmp_path: Path) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert cli("form", "add", str(TEMPLATES / "bilingual-test.md")).exit_code == 0
    for name in ("r16", "secret-review"):
        assert cli("review", "create", name, "--portfolio", "lm2016", "--form", "bilingual_test").exit_code == 0
    store = Store(db_url)
    with store.session() as session:
        add_user(session, "ana", "reviewer", "correct-horse", actor="test")
    assert cli("review", "member", "add", "r16", "ana", "--role", "reviewer").exit_code == 0
    token = make_token(cli, "ana", "write")

    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "LMREVIEW_API": f"{server}/api/v1", "LMREVIEW_TOKEN": token}
    env.pop("PYTHONPATH", None)  # the script needs httpx, not lmreview
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "r16", "sustained", str(KOBO), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr

    assert json.loads((out / "reviews.json").read_text()) == ["r16"]  # not secret-review
    upload = json.loads((out / "upload.json").read_text())
    assert upload["status"] == 201
    assert (upload["body"]["review"], len(upload["body"]["created"])) == ("r16", 2)
    expected = cli("tabulate", "--review", "r16", "--question", "sustained", "--json")
    assert json.loads((out / "tabulation.json").read_text()) == json.loads(expected.stdout)
    workbook = load_workbook(io.BytesIO((out / "report.xlsx").read_bytes()), read_only=True)
    assert workbook.sheetnames
    hidden = json.loads((out / "hidden.json").read_text())
    assert hidden == {"status": 404, "body": {"error": "there is no review 'secret-review'", "problems": []}}
    with store.session() as session:
        stored = session.scalar(select(func.count()).select_from(Submission).join(Review).where(Review.name == "r16"))
    store.dispose()
    assert stored == 2
