"""The number audit on hostile input: a DOCX zip bomb is refused (CLI and web) before it is unpacked, and a line of
many thousands of share claims is audited in linear time, with the same findings as the pair-by-pair rule."""

from __future__ import annotations

import io
import random
import re
import time
import zipfile
from decimal import Decimal
from pathlib import Path

from docx import Document as WordDocument

from lmreview.analysis.audit import _agreeing, _agreeing_each, _Pair
from lmreview.analysis.documents import Printed
from lmreview.settings import database_url
from lmreview.store import Store
from tests.conftest import SAMPLES, Cli


def plain(tmp_path: Path) -> Cli:
    """The CLI for audits without --portfolio, which never open the store."""
    return Cli(database_url(str(tmp_path / "never-created.db")))


def docx_bytes(*paragraphs: str, padding: int = 0) -> bytes:
    """A Word document; with ``padding``, one more part of that many spaces (packed to a few kilobytes)."""
    document = WordDocument()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    if not padding:
        return buffer.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("word/padding.xml", b" " * padding)
    return out.getvalue()


def test_a_docx_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    path.write_bytes(docx_bytes("Asia 7 (50%)", padding=4 * 1024 * 1024))  # 4 MiB of XML packed in a few KB
    assert path.stat().st_size < 64_000  # the empty template is most of it
    run = plain(tmp_path)("audit", str(path))
    assert run.exit_code == 2
    assert re.search(
        rf"{re.escape(str(path))}: refused: word/padding\.xml expands \d+ times \(a zip bomb\?\)", run.stderr
    )
    assert run.stderr.splitlines()[-1] == "error: cannot audit bomb.docx"
    assert "Traceback" not in run.stderr


def test_a_docx_within_the_limits_is_read(tmp_path: Path) -> None:
    path = tmp_path / "draft.docx"
    path.write_bytes(docx_bytes("Of the 14 projects, 7 (40%) were in Asia.", padding=512 * 1024))  # small: no ratio
    run = plain(tmp_path)("audit", str(path))
    assert run.exit_code == 0, run.stderr
    assert "1 number does not add up in draft.docx (checked 1)" in " ".join(run.stdout.split())


def test_a_zip_that_is_not_a_word_document_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sheet.docx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    path.write_bytes(buffer.getvalue())
    run = plain(tmp_path)("audit", str(path))
    assert run.exit_code == 2
    assert f"{path}: this zip file is not a DOCX document (it has no word/document.xml)" in run.stderr


def test_the_audit_page_refuses_a_docx_zip_bomb(store: Store, cli: Cli) -> None:
    from bs4 import BeautifulSoup
    from fastapi.testclient import TestClient

    from lmreview.settings import Settings
    from lmreview.store.users import add_user
    from lmreview.web.app import create_app

    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    with store.session() as session:
        add_user(session, "viewer", "viewer", "correct-horse", actor="test")
    bomb = docx_bytes("Asia 7 (50%)", padding=4 * 1024 * 1024)
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        token = BeautifulSoup(client.get("/login").text, "html.parser").find("input", {"name": "csrf_token"})
        assert token is not None
        client.post("/login", data={"name": "viewer", "password": "correct-horse", "csrf_token": str(token["value"])})
        page = client.get("/audit")
        csrf = str(BeautifulSoup(page.text, "html.parser").find("input", {"name": "csrf_token"})["value"])  # type: ignore[index]
        response = client.post(
            "/audit", data={"csrf_token": csrf}, files={"file": ("bomb.docx", bomb, "application/zip")}
        )
        assert response.status_code == 422
        text = BeautifulSoup(response.text, "html.parser").get_text(" ", strip=True)
        assert "cannot audit bomb.docx" in text
        assert "word/padding.xml expands" in text
        assert "zip bomb" in text


# --- linear time ---------------------------------------------------------------------------------------------------


def test_a_line_of_ten_thousand_share_claims_is_audited_in_seconds(tmp_path: Path) -> None:
    """Before, each share was tried against every number of its passage: 2,000 claims took 8 s and 100,000 did not
    finish in 600 s. A quadratic audit would need minutes here; a linear one needs a few seconds, even on a busy
    machine."""
    claims = [f"Region {i}: {i % 7 + 1} ({(i % 7 + 1) * 10}%)." for i in range(10_000)]
    claims[6543] = "Region 6543: 4 (45%)."  # 4 of the 10 regions... is 40%
    path = tmp_path / "long-line.txt"
    path.write_text(" ".join(claims), encoding="utf-8")
    started = time.monotonic()
    run = plain(tmp_path)("audit", str(path), "--json")
    elapsed = time.monotonic() - started
    assert run.exit_code == 0, run.stderr
    assert '"claim": "4 (45%)"' in run.stdout
    assert '"expected": "40%"' in run.stdout
    assert run.stdout.count('"location"') == 1
    assert elapsed < 60, f"{elapsed:.1f} s"


def test_a_line_of_ten_thousand_numbers_after_a_label_is_not_taken_for_a_table_row_slowly(tmp_path: Path) -> None:
    """A line of a label and numbers is a table row (what pypdf gives for a table) only when its label is short; the
    label was searched at every length, each time reading all the numbers: 4,000 numbers took 40 s."""
    path = tmp_path / "numbers.txt"
    path.write_text("Label " + " ".join(f"{i % 50 + 1} ({i % 9 + 1}%)" for i in range(10_000)) + " end\n")
    started = time.monotonic()
    run = plain(tmp_path)("audit", str(path))
    assert run.exit_code == 0, run.stderr
    assert "0 numbers do not add up in numbers.txt" in " ".join(run.stdout.split())
    assert time.monotonic() - started < 60


def pair(n: str, p: str, at: int) -> _Pair:
    places = len(p.partition(".")[2])
    return _Pair(Printed(Decimal(n), 0, n, at), Printed(Decimal(p), places, p, at + 5, "%"), None, at, at + 10)


def test_agreement_with_many_totals_at_once_is_the_pair_by_pair_rule() -> None:
    """The interval rule gives, for every total, exactly the count of pairs that agree with it one by one."""
    rng = random.Random(11)
    for _ in range(60):
        totals = {Decimal(rng.randint(1, 400)) for _ in range(40)} | {Decimal("12.5"), Decimal("0"), Decimal("7.25")}
        group = []
        for i in range(40):
            n, t = rng.randint(0, 60), rng.choice(sorted(totals - {Decimal(0)}))
            places = rng.choice([0, 0, 1, 2])
            share = (100 * Decimal(n) / t).quantize(Decimal(1).scaleb(-places))
            share += rng.choice([0, 0, 0, 1, -1]) * Decimal(1).scaleb(-places)
            group.append(pair(str(n), str(max(share, Decimal(0))), 20 * i))
        fast = _agreeing_each(group, totals)
        assert fast == {t: _agreeing(group, t) for t in totals if t > 0}
