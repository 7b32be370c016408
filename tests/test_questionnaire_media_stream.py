"""An ODK Central export with its media files is read from the disk member by member: the zip never sits in memory
whole, each file is read at most to the size limit, and a damaged member is left out with a warning."""

from __future__ import annotations

import os
import tracemalloc
import zipfile
from pathlib import Path

from sqlalchemy import func, select

from lmreview.questionnaire.models import MediaBlob, SubmissionFile
from lmreview.store import Store
from tests.conftest import Cli
from tests.test_questionnaire_media import ODK_HEADER, png, row, sites  # noqa: F401  (sites is a fixture)

PHOTOS = 40
PHOTO_BYTES = 1024 * 1024


def _export(path: Path) -> Path:
    """40 submissions, each with a photo of 1 MiB (a PNG header and random bytes: stored, as photos do not
    compress): a zip of 40 MiB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("sites.csv", ODK_HEADER + "".join(row(f"k{n}", f"p{n}.png") for n in range(PHOTOS)))
        for n in range(PHOTOS):
            archive.writestr(f"media/p{n}.png", png() + os.urandom(PHOTO_BYTES))
    return path


def test_a_large_export_is_imported_without_holding_the_zip_in_memory(
    sites: Cli,  # noqa: F811
    tmp_path: Path,
    store: Store,
) -> None:
    export = _export(tmp_path / "sites.zip")
    size = export.stat().st_size
    assert size > PHOTOS * PHOTO_BYTES
    tracemalloc.start()
    try:
        run = sites("form", "import-responses", str(export), "--form", "sites")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert run.exit_code == 0, run.stderr
    assert f"{PHOTOS} submissions created" in run.stdout
    assert f"{PHOTOS} media files stored" in run.stdout
    assert peak < size / 4, f"the import held {peak / 2**20:.1f} MiB for a zip of {size / 2**20:.1f} MiB"
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(SubmissionFile)) == PHOTOS
        assert session.scalar(select(func.sum(MediaBlob.size))) == PHOTOS * (len(png()) + PHOTO_BYTES)


def test_a_damaged_media_member_is_left_out_with_a_warning(
    sites: Cli,  # noqa: F811
    tmp_path: Path,
    store: Store,
) -> None:
    export = tmp_path / "sites.zip"
    photo = png() + b"x" * 5000
    with zipfile.ZipFile(export, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("sites.csv", ODK_HEADER + row("a1", "good.png") + row("b2", "bad.png"))
        archive.writestr("media/good.png", photo)
        archive.writestr("media/bad.png", photo)
    data = bytearray(export.read_bytes())
    second = data.rfind(photo)  # the bytes of media/bad.png: one changed, so its CRC no longer matches
    data[second + 100] ^= 0xFF
    export.write_bytes(bytes(data))
    run = sites("form", "import-responses", str(export), "--form", "sites")
    assert run.exit_code == 0, run.stderr
    assert "bad.png is not kept: media/bad.png cannot be read from the zip (BadZipFile)" in run.stderr
    assert "1 media file stored" in run.stdout
    with store.session() as session:
        assert session.scalars(select(SubmissionFile.filename)).all() == ["good.png"]
