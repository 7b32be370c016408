"""The coding page in a real browser: a 300-page document with 2,000 codings, from navigation to highlights drawn.

    PYTHONPATH=src:. .venv/bin/python benchmarks/bench_coding_page.py [--pages 300] [--codings 2000]

Needs Debian's chromium (as the browser tests do).
"""

from __future__ import annotations

import argparse
import random
import shutil
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import insert, select
from typer.testing import CliRunner

from lmreview.cli.main import app
from lmreview.coding.models import Code, Coding
from lmreview.coding.sources import document_text
from lmreview.evidence.models import Document
from lmreview.settings import Settings
from lmreview.store import open_store
from lmreview.store.users import add_user
from lmreview.web.app import create_app

FORM = (
    "| survey |\n| | type | name | label |\n| | text | project_code | Project code |\n"
    "| settings |\n| | form_id |\n| | page |\n"
)
SENTENCE = "The project trained {n} officials in ethical recruitment while the borders stayed closed. "
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--codings", type=int, default=2000)
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed"
    folder = Path(tempfile.mkdtemp())
    url = str(folder / "page.db")
    runner = CliRunner()

    def cli(*words: str) -> None:
        result = runner.invoke(app, ["--db", url, "--user", "bench", *words])
        assert result.exit_code == 0, result.output

    samples = Path(__file__).resolve().parents[1] / "src" / "lmreview" / "portfolio" / "samples"
    cli("portfolio", "import", str(samples / "lm2016.csv"))
    (folder / "form.md").write_text(FORM, encoding="utf-8")
    cli("form", "add", str(folder / "form.md"))
    cli("review", "create", "r", "--portfolio", "lm2016", "--form", "page")
    pages = ["\n\n".join(SENTENCE.format(n=p * 100 + i) * 4 for i in range(8)) for p in range(args.pages)]
    (folder / "big-report.txt").write_text("\f".join(pages), encoding="utf-8")
    cli("evidence", "add", str(folder / "big-report.txt"), "--project", "LM.0181")
    cli("coding", "codebook", "starter", "challenges-2022")
    store = open_store(url)
    rng = random.Random(5)
    with store.session() as session:
        add_user(session, "ana", "reviewer", "bench-password", actor="bench")
        document_id = session.scalars(select(Document.id)).one()
        text = document_text(session, document_id)[0]
        codes = list(session.scalars(select(Code.id)))
        rows = []
        for _ in range(args.codings):
            start = rng.randrange(0, len(text) - 200)
            end = start + rng.randint(10, 150)
            rows.append(
                {
                    "guid": str(uuid.uuid4()).upper(),
                    "code_id": rng.choice(codes),
                    "coder": "ana",
                    "kind": "document",
                    "document_id": document_id,
                    "start": start,
                    "end": end,
                    "text": text[start:end],
                    "unit": f"document:{document_id}",
                }
            )
        session.execute(insert(Coding), rows)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    import uvicorn
    from playwright.sync_api import sync_playwright

    settings = Settings(database_url=url, base_url=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(create_app(settings, store), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = settings.base_url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page()
        page.goto(f"{base}/login")
        page.get_by_label("User name").fill("ana")
        page.get_by_label("Password").fill("bench-password")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{base}/")
        for attempt in range(3):
            page.goto(f"{base}/coding/reviews/r/documents/{document_id}?codebook=challenges-2022")
            page.wait_for_selector("body[data-coding-ready='1']")
            took = page.evaluate("performance.now()")
            timing = page.evaluate(
                "(() => { const t = performance.getEntriesByType('navigation')[0];"
                " return [t.responseStart, t.responseEnd, t.domContentLoadedEventEnd]; })()"
            )
            marks = page.locator(".codable mark").count()
            print(
                f"run {attempt + 1}: {len(text):,} characters, {args.pages} pages, {args.codings} codings, "
                f"{marks} highlighted pieces: ready after {took / 1000:.2f} s (server answered after "
                f"{timing[0] / 1000:.2f} s, page received {timing[1] / 1000:.2f} s, parsed {timing[2] / 1000:.2f} s)"
            )
        browser.close()
    server.should_exit = True
    thread.join(timeout=10)
    store.dispose()


if __name__ == "__main__":
    main()
