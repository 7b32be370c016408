"""Files sent with answers: importing an ODK Central zip with ``media/`` and exporting the zip with the files, each
against an anchor measured in the same run: the least such work costs.

Data (generated): a form with a text and an image question; an ODK Central export of ``--files`` submissions (40 by
default), each naming one photo of ``--size`` KiB (1024 by default) held in the zip's ``media/`` folder (random bytes
behind a JPEG header, so nothing compresses, as with real photos).

* import: ``responses.import_responses`` (read the table, check every answer, store each file once by SHA-256 with
  its row) against reading the same members from the zip and inserting their bytes into a bare table of the same
  database, in one transaction;
* export: ``responses.export_responses(..., "zip")`` against writing the same bytes, stored, into a zip.

The median of ``--repeat`` rounds is printed, each on a fresh SQLite file.

    .venv/bin/python benchmarks/bench_media.py [--files 40] [--size 1024] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, insert

from lmreview.store import open_store

FORM = """\
| survey |
| | type | name | label |
| | text | site | Site |
| | image | photo | Photo |
| settings |
| | form_id | version |
| | sites | 1 |
"""
HEADER = "SubmissionDate,site,photo,KEY,SubmitterID,ReviewState,FormVersion\n"


def export_zip(files: int, size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        rows = "".join(f"2024-05-01T10:00:00.000Z,s{i},p{i}.jpg,uuid:k{i},1,,1\n" for i in range(files))
        archive.writestr("sites.csv", HEADER + rows)
        for i in range(files):
            archive.writestr(f"media/p{i}.jpg", b"\xff\xd8\xff\xe0" + os.urandom(size * 1024 - 4))
    return buffer.getvalue()


def one_round(data: bytes, folder: Path, number: int) -> tuple[float, float, float, float]:
    from lmreview.questionnaire import forms, responses

    store = open_store(str(folder / f"media-{number}.db"))
    try:
        with store.session() as session:
            forms.add_form(session, FORM.encode(), "sites.md", actor="bench")
        started = time.perf_counter()
        with store.session() as session:
            result = responses.import_responses(session, "sites", data, "sites.zip", actor="bench")
        imported = time.perf_counter() - started
        assert result.files_stored == len(result.created), result.warnings

        bare = Table("bench_blob", MetaData(), Column("id", Integer, primary_key=True), Column("name", String(200)),
                     Column("content", LargeBinary))  # fmt: skip
        bare.create(store.engine)
        started = time.perf_counter()
        with store.engine.begin() as connection, zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if info.filename.startswith("media/"):
                    connection.execute(insert(bare).values(name=info.filename, content=archive.read(info)))
        anchor_import = time.perf_counter() - started

        started = time.perf_counter()
        with store.session() as session:
            written = responses.export_responses(session, "sites", "zip")
        exported = time.perf_counter() - started
        started = time.perf_counter()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as out, zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                out.writestr(info.filename, archive.read(info), compress_type=zipfile.ZIP_STORED)
        anchor_export = time.perf_counter() - started
        assert len(written) > len(data) * 0.9
    finally:
        store.dispose()
    return imported, anchor_import, exported, anchor_export


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--size", type=int, default=1024, help="KiB per file")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = export_zip(args.files, args.size)
    with tempfile.TemporaryDirectory() as folder:
        rounds = [one_round(data, Path(folder), n) for n in range(args.repeat)]
    imported, anchor_import, exported, anchor_export = (statistics.median(r[i] for r in rounds) for i in range(4))
    total = args.files * args.size / 1024
    machine = f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs"
    print(f"{machine}; {args.files} files, {total:.0f} MiB")
    print(f"import: {imported:.2f} s; anchor (read and insert the bytes) {anchor_import:.2f} s; "
          f"ratio {imported / anchor_import:.1f}")  # fmt: skip
    print(f"export: {exported:.2f} s; anchor (write the bytes into a zip) {anchor_export:.2f} s; "
          f"ratio {exported / anchor_export:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
