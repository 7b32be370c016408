"""The report shows small pictures of the images received for an image question (analysis/thumbnails.py): at most
6 per question and 36 per report, in the HTML, PDF and Word files, beside the count of files received."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from PIL import Image

from lmreview.analysis import thumbnails
from tests.conftest import SAMPLES, Cli
from tests.test_questionnaire_media import ODK_HEADER, row, sites  # noqa: F401  (sites is a fixture)

PHOTOS = 9


def photo(n: int, size: tuple[int, int] = (1600, 1200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20 * n % 256, 90, 160)).save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture
def report_dir(sites: Cli, tmp_path: Path) -> Path:  # noqa: F811
    assert sites("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert sites("review", "create", "sr", "--portfolio", "lm2016", "--form", "sites").exit_code == 0
    export = tmp_path / "sites.zip"
    with zipfile.ZipFile(export, "w") as archive:
        rows = [row(f"k{n}", f"p{n}.jpg") for n in range(PHOTOS)] + [row("late", "never.jpg")]
        archive.writestr("sites.csv", ODK_HEADER + "".join(rows))
        for n in range(PHOTOS):
            archive.writestr(f"media/p{n}.jpg", photo(n))
    run = sites("form", "import-responses", str(export), "--form", "sites", "--review", "sr")
    assert run.exit_code == 0, run.stderr
    out = tmp_path / "out"
    run = sites("report", "build", "--review", "sr", "--format", "all", "--out", str(out))
    assert run.exit_code == 0, run.stderr
    return out


def test_the_report_shows_the_first_images_received_small(report_dir: Path) -> None:
    html = (report_dir / "sr-report.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    figure = soup.find("figure", {"class": "thumbnails"})
    assert figure is not None
    caption = figure.find("figcaption").get_text()  # type: ignore[union-attr]
    assert f"Photo: the first {thumbnails.PER_QUESTION} of {PHOTOS} images received, small" in caption
    images = figure.find_all("img")
    assert len(images) == thumbnails.PER_QUESTION
    assert images[0]["src"].startswith("data:image/jpeg;base64,")
    assert images[0]["alt"] == "p0.jpg, sent for uuid:k0"
    assert (images[0]["width"], images[0]["height"]) == (str(thumbnails.SIDE), str(thumbnails.SIDE * 3 // 4))
    assert len(html) < 200_000  # thumbnails, not the photos of 1600 × 1200
    with zipfile.ZipFile(report_dir / "sr-report.docx") as docx:
        pictures = [n for n in docx.namelist() if n.startswith("word/media/") and n.endswith((".jpeg", ".jpg"))]
        document = docx.read("word/document.xml").decode("utf-8")
    assert len(pictures) == thumbnails.PER_QUESTION
    assert "the first 6 of 9 images received" in document
    assert 'descr="p0.jpg, sent for uuid:k0"' in document


def test_the_pdf_holds_the_thumbnails(report_dir: Path) -> None:
    pdf = report_dir / "sr-report.pdf"
    if not pdf.exists():
        pytest.skip("PDFs cannot be made here (WeasyPrint or Pango is missing)")
    data = pdf.read_bytes()
    assert data.count(b"/Subtype /Image") >= thumbnails.PER_QUESTION


def test_a_thumbnail_is_small_and_a_huge_or_broken_image_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    made = thumbnails.thumbnail(photo(1, (3000, 1000)))
    assert made is not None
    jpeg, width, height = made
    assert (width, height) == (240, 80)
    assert Image.open(io.BytesIO(jpeg)).format == "JPEG"
    assert thumbnails.thumbnail(b"\x89PNG\r\n\x1a\nnot really") is None
    monkeypatch.setattr(thumbnails, "MAX_PIXELS", 1000)
    assert thumbnails.thumbnail(photo(1, (100, 100))) is None
