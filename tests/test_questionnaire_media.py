"""Files sent with answers (questionnaire/media.py): what is accepted, the respondent's form with file inputs
(drafts keep a file, a file can be replaced or removed), the staff page and the files served back safely."""

from __future__ import annotations

import io
import json
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lmreview.questionnaire import media
from lmreview.questionnaire.models import MediaBlob, SubmissionFile
from lmreview.questionnaire.xlsform import Question
from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import SAMPLES, Cli, personal_link

MEDIA_FORM = """\
| survey |
| | type | name | label | body::accept | required | parameters |
| | text | project_code | Project code | | | |
| | geopoint | where | Where is the site? | | | |
| | image | photo | A photo of the site | | | max-pixels=10 |
| | file | report | The final report | .pdf,.txt | | |
| | audio | voice | A voice message | | | |
| | begin repeat | visits | Visits | | | |
| | image | visit_photo | Photo of the visit | | | |
| | end repeat | | | | | |
| settings |
| | form_id | version |
| | media_test | 1 |
"""


def png(width: int = 2, height: int = 1) -> bytes:
    """A real PNG image, small."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 50
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def q(kind: str, accept: str | None = None) -> Question:
    return Question(type=kind, name="x", path="x", row=2, accept=accept)


# --- what is accepted ---------------------------------------------------------------------------------------------


def test_the_content_says_what_a_file_is_not_its_name() -> None:
    assert media.sniff(png(), "report.pdf") == "image/png"
    assert media.sniff(b"\xff\xd8\xff\xe0" + b"\x00" * 20) == "image/jpeg"
    assert media.sniff(PDF, "photo.jpg") == "application/pdf"
    assert media.sniff(b"ID3\x04" + b"\x00" * 20) == "audio/mpeg"
    assert media.sniff(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 8) == "video/mp4"
    assert media.sniff(b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 8) == "audio/mp4"
    assert media.sniff(b"<!DOCTYPE html><script>alert(1)</script>", "a.txt") == "text/html"
    assert media.sniff(b"<svg onload=alert(1)>", "a.png") == "text/html"
    assert media.sniff(b"name,count\nAna,3\n", "t.csv") == "text/csv"
    assert media.sniff(b"MZ\x90\x00" + b"\x00" * 60, "setup.pdf") == "application/x-executable"


def test_a_question_takes_its_kind_of_file_within_the_limit() -> None:
    assert media.problem_with(q("image"), "a.png", png()) is None
    assert (
        media.problem_with(q("image"), "a.png", PDF) == "this question asks for an image; this file is application/pdf"
    )
    assert media.problem_with(q("audio"), "a.mp3", png()) == (
        "this question asks for a sound recording; this file is image/png"
    )
    assert media.problem_with(q("file"), "a.pdf", b"") == "the file is empty (or no file was chosen)"
    assert media.problem_with(q("file"), "big.pdf", PDF + b"0" * 2000, limit=1024) == (
        "the file is 2 KiB; a file sent with the answers is at most 1 KiB"
    )
    assert media.problem_with(q("file"), "run.pdf", b"\x7fELF" + b"\x00" * 30) == (
        "programs and scripts are not accepted"
    )
    assert media.problem_with(q("file", ".pdf,.docx"), "notes.txt", b"plain words") == (
        "this question accepts only .pdf,.docx"
    )
    assert media.problem_with(q("file", ".pdf,.docx"), "final.PDF", PDF) is None
    assert media.problem_with(q("file", "image/*"), "scan.png", png()) is None


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ana\\photo.jpg", "photo.jpg"),
        ("..", "file"),
        ("a\x00b\x07.png", "ab.png"),
        ("x" * 300 + ".jpeg", "x" * 115 + ".jpeg"),
        ("  report.pdf  ", "report.pdf"),
    ],
)
def test_a_file_name_never_holds_a_path(sent: str, kept: str) -> None:
    assert media.safe_name(sent) == kept


# --- the respondent's form -----------------------------------------------------------------------------------------


@pytest.fixture
def link(cli: Cli, tmp_path: Path) -> str:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    return personal_link(cli, MEDIA_FORM, tmp_path)


@pytest.fixture
def client(store: Store, link: str, cli: Cli) -> Iterator[TestClient]:
    with store.session() as session:
        add_user(session, "rev", "reviewer", "correct-horse", actor="test")
    assert cli("review", "member", "add", "r", "rev", "--role", "reviewer").exit_code == 0  # the files are r's
    app = create_app(Settings(database_url=store.url, max_media_bytes=50_000), store)
    with TestClient(app) as c:
        yield c


def send(
    client: TestClient, link: str, fields: dict[str, str], files: dict[str, tuple[str, bytes]], action: str = "save"
) -> Any:
    html = client.get(link).text
    csrf = BeautifulSoup(html, "html.parser").find("input", {"name": "csrf_token"})["value"]  # type: ignore[index]
    upload = {key: (name, content, "application/octet-stream") for key, (name, content) in files.items()}
    data = {"csrf_token": csrf, "action": action, **fields}
    return client.post(link, data=data, files=upload or None, follow_redirects=False)


def counts(store: Store) -> tuple[int, int]:
    with store.session() as session:
        rows = session.scalar(select(func.count()).select_from(SubmissionFile)) or 0
        blobs = session.scalar(select(func.count()).select_from(MediaBlob)) or 0
    return rows, blobs


def test_the_form_asks_for_files_with_what_each_question_accepts(client: TestClient, link: str) -> None:
    soup = BeautifulSoup(client.get(link).text, "html.parser")
    form = soup.find("form", {"class": "questionnaire"})
    assert form is not None
    assert form.get("enctype") == "multipart/form-data"
    assert soup.find("input", {"name": "photo", "type": "file"})["accept"] == "image/*"  # type: ignore[index]
    assert soup.find("input", {"name": "report", "type": "file"})["accept"] == ".pdf,.txt"  # type: ignore[index]
    assert soup.find("input", {"name": "voice", "type": "file"})["accept"] == "audio/*"  # type: ignore[index]


def test_a_draft_keeps_its_file_which_can_be_replaced_and_removed(client: TestClient, link: str, store: Store) -> None:
    sent = send(client, link, {"project_code": "LM.0181"}, {"photo": ("../site.png", png()), "report": ("r.pdf", PDF)})
    assert sent.status_code == 200, sent.text
    assert counts(store) == (2, 2)
    soup = BeautifulSoup(client.get(link).text, "html.parser")
    shown = soup.find("img", {"class": "thumb"})
    assert shown is not None
    assert shown["src"] == f"{link}/files/site.png"
    assert soup.find("a", string="r.pdf")["href"] == f"{link}/files/r.pdf"  # type: ignore[index]

    image = client.get(f"{link}/files/site.png")
    assert image.status_code == 200
    assert image.content == png()
    assert image.headers["content-type"] == "image/png"
    assert image.headers["content-disposition"].startswith("inline")
    assert image.headers["x-content-type-options"] == "nosniff"
    report = client.get(f"{link}/files/r.pdf")
    assert report.headers["content-disposition"].startswith("attachment")
    assert report.content == PDF

    # a save without files keeps them; a new image replaces the old, whose bytes go
    assert send(client, link, {"project_code": "LM.0181"}, {}).status_code == 200
    assert counts(store) == (2, 2)
    assert send(client, link, {}, {"photo": ("site2.png", png(3, 2))}).status_code == 200
    assert counts(store) == (2, 2)
    assert client.get(f"{link}/files/site.png").status_code == 404
    assert client.get(f"{link}/files/site2.png").content == png(3, 2)
    # removed: the answer is empty and the file gone
    assert send(client, link, {"report.remove": "1"}, {}).status_code == 200
    assert counts(store) == (1, 1)
    assert client.get(f"{link}/files/r.pdf").status_code == 404


def test_a_wrong_file_is_refused_and_nothing_is_saved(client: TestClient, link: str, store: Store) -> None:
    cases = [
        ({"photo": ("site.png", PDF)}, "site.png: this question asks for an image; this file is application/pdf"),
        ({"report": ("big.pdf", PDF + b"0" * 60_000)}, "a file sent with the answers is at most 49 KiB"),
        ({"report": ("empty.pdf", b"")}, "empty.pdf: the file is empty"),
        ({"report": ("notes.html", b"<html><script>x()</script>")}, "this question accepts only .pdf,.txt"),
        ({"report": ("setup.pdf", b"MZ" + b"\x00" * 100)}, "programs and scripts are not accepted"),
    ]
    for files, message in cases:
        refused = send(client, link, {"project_code": "LM.0181"}, files)
        assert refused.status_code == 422, files
        assert message in BeautifulSoup(refused.text, "html.parser").get_text(" "), refused.text
    assert counts(store) == (0, 0)


def test_a_file_in_a_repeat_and_a_submitted_form_with_its_files(client: TestClient, link: str, store: Store) -> None:
    fields = {"project_code": "LM.0181", "where": "12.37 -1.52", "visits.count": "2"}
    files = {"visits[1]/visit_photo": ("v.png", png()), "visits[2]/visit_photo": ("v.png", png(4, 4))}
    files |= {"photo": ("site.png", png()), "voice": ("hello.mp3", MP3)}
    submitted = send(client, link, fields, files, action="submit")
    assert submitted.status_code == 303, submitted.text
    # two files of one name in one submission: the second is renamed; the same bytes are stored once
    assert counts(store) == (4, 3)
    page = BeautifulSoup(client.get(link).text, "html.parser")
    assert {a.get_text() for a in page.find_all("a", href=re.compile("/files/"))} == {
        "site.png",
        "v.png",
        "v-2.png",
        "hello.mp3",
    }
    assert page.find("input", {"type": "file"}) is None  # submitted: nothing to change

    login = client.get("/login")
    csrf = BeautifulSoup(login.text, "html.parser").find("input", {"name": "csrf_token"})["value"]  # type: ignore[index]
    client.post("/login", data={"name": "rev", "password": "correct-horse", "csrf_token": csrf})
    with store.session() as session:
        number = session.scalar(select(SubmissionFile.submission_id))
    base = f"/reviews/r/submissions/{number}"
    staff = client.get(base)
    assert staff.status_code == 200
    soup = BeautifulSoup(staff.text, "html.parser")
    thumbs = [img["src"] for img in soup.find_all("img", {"class": "thumb"})]
    assert f"{base}/files/v-2.png" in thumbs
    player = soup.find("audio")
    assert player is not None
    assert player["src"] == f"{base}/files/hello.mp3"
    got = client.get(f"{base}/files/v-2.png")
    assert got.status_code == 200
    assert got.content == png(4, 4)
    assert client.get(f"{base}/files/..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert client.get(f"{base}/files/nothing.png").status_code == 404


def test_markup_sent_as_a_file_is_downloaded_never_shown(client: TestClient, link: str, store: Store) -> None:
    sent = send(client, link, {}, {"report": ("page.txt", b"<!doctype html><script>alert(1)</script>")})
    assert sent.status_code == 200, sent.text
    got = client.get(f"{link}/files/page.txt")
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment")


# --- import and export ----------------------------------------------------------------------------------------------

IMPORT_FORM = """\
| survey |
| | type | name | label |
| | text | site | Site |
| | image | photo | Photo |
| | file | report | Report |
| settings |
| | form_id | version |
| | sites | 1 |
"""
ODK_HEADER = "SubmissionDate,site,photo,report,meta-instanceID,KEY,SubmitterID,SubmitterName,ReviewState,FormVersion\n"


def odk_zip(path: Path, rows: list[str], members: dict[str, bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("sites.csv", ODK_HEADER + "".join(rows))
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def row(key: str, photo: str, report: str = "") -> str:
    return f"2024-05-01T10:00:00.000Z,{key}-site,{photo},{report},uuid:{key},uuid:{key},1,ana,,1\n"


@pytest.fixture
def sites(cli: Cli, tmp_path: Path) -> Cli:
    form = tmp_path / "sites.md"
    form.write_text(IMPORT_FORM, encoding="utf-8")
    assert cli("form", "add", str(form)).exit_code == 0
    return cli


def test_an_odk_zip_brings_its_media_files_and_counts_the_missing_ones(
    sites: Cli, tmp_path: Path, store: Store
) -> None:
    export = odk_zip(
        tmp_path / "sites.zip",
        [row("a1", "1714557600000.jpg", "plan.pdf"), row("b2", "1714557700000.jpg")],
        {"media/1714557600000.jpg": png(), "media/plan.pdf": PDF},
    )
    run = sites("form", "import-responses", str(export), "--form", "sites")
    assert run.exit_code == 0, run.stderr
    assert "2 submissions created" in run.stdout
    assert "2 media files stored" in run.stdout
    assert "1 media file is not in the export" in run.stderr
    assert counts(store) == (2, 2)
    again = sites("form", "import-responses", str(export), "--form", "sites")
    assert "2 unchanged" in again.stdout
    assert counts(store) == (2, 2)

    out = tmp_path / "out.zip"
    assert sites("form", "export-responses", "--form", "sites", "--format", "zip", "--out", str(out)).exit_code == 0
    import zipfile

    with zipfile.ZipFile(out) as archive:
        names = sorted(archive.namelist())
        assert names == ["media/a1/1714557600000.jpg", "media/a1/plan.pdf", "sites.csv"]
        assert archive.read("media/a1/1714557600000.jpg") == png()
        table = archive.read("sites.csv").decode("utf-8")
    assert "1714557600000.jpg" in table
    assert "1714557700000.jpg" in table


def test_files_lmreview_does_not_accept_in_an_export_are_left_out_with_a_warning(
    sites: Cli, tmp_path: Path, store: Store
) -> None:
    export = odk_zip(
        tmp_path / "sites.zip",
        [row("a1", "x.jpg", "run.pdf")],
        {"media/x.jpg": PDF, "media/run.pdf": b"MZ" + b"\0" * 99},
    )
    run = sites("form", "import-responses", str(export), "--form", "sites")
    assert run.exit_code == 0, run.stderr
    assert "x.jpg is not kept: this question asks for an image; this file is application/pdf" in run.stderr
    assert "run.pdf is not kept: programs and scripts are not accepted" in run.stderr
    assert counts(store) == (0, 0)


def test_a_zip_bomb_among_the_media_is_refused_whole(sites: Cli, tmp_path: Path, store: Store) -> None:
    bomb = odk_zip(tmp_path / "bomb.zip", [row("a1", "big.jpg")], {"media/big.jpg": b"\0" * (8 * 1024 * 1024)})
    run = sites("form", "import-responses", str(bomb), "--form", "sites")
    assert run.exit_code == 2
    assert "refused: media/big.jpg expands" in run.stderr
    assert counts(store) == (0, 0)


def test_a_kobo_attachment_url_is_read_as_the_file_name(sites: Cli, tmp_path: Path, store: Store) -> None:
    url = "https://kc.kobotoolbox.org/media/original?media_file=ana%2Fattachments%2Fabc%2Fdoor.jpg"
    export = tmp_path / "kobo.csv"
    export.write_text(
        f'"site";"photo";"photo_URL";"_uuid";"_submission_time"\n"s";"{url}";"{url}";"u1";"2024-05-01T10:00:00"\n',
        encoding="utf-8",
    )
    run = sites("form", "import-responses", str(export), "--form", "sites")
    assert run.exit_code == 0, run.stderr
    assert "unknown column" not in run.stderr
    assert "1 media file is not in the export" in run.stderr
    out = tmp_path / "out.csv"
    assert sites("form", "export-responses", "--form", "sites", "--format", "csv", "--out", str(out)).exit_code == 0
    assert '"door.jpg"' in out.read_text(encoding="utf-8")


# --- tabulation and backup ------------------------------------------------------------------------------------------


def imported(sites: Cli, tmp_path: Path) -> None:
    export = odk_zip(
        tmp_path / "sites.zip",
        [row("a1", "door.png", "plan.pdf"), row("b2", "gone.jpg")],
        {"media/door.png": png(), "media/plan.pdf": PDF},
    )
    run = sites("form", "import-responses", str(export), "--form", "sites")
    assert run.exit_code == 0, run.stderr


def test_a_media_question_tabulates_as_answered_counts_with_links_to_the_files(
    sites: Cli, tmp_path: Path, store: Store
) -> None:
    imported(sites, tmp_path)
    run = sites("tabulate", "--form", "sites", "--question", "photo", "--json")
    assert run.exit_code == 0, run.stderr
    data = json.loads(run.stdout)
    assert (data["answered"], data["units"]) == (2, 2)
    assert data["summary"]["n"] == 1
    assert data["summary"]["of"] == 2
    files = {f["value"]: f["submission"] for f in data["files"]}
    with store.session() as session:
        holder = session.scalar(select(SubmissionFile.submission_id).where(SubmissionFile.filename == "door.png"))
    assert files == {"door.png": holder, "gone.jpg": None}
    text = sites("tabulate", "--form", "sites", "--question", "photo")
    assert "Files stored: 1 of 2 answered" in text.stdout
    assert "(not stored)" in text.stdout


def test_a_backup_carries_the_files_and_a_restore_gives_them_back(
    sites: Cli, tmp_path: Path, cli_factory: type[Cli]
) -> None:
    imported(sites, tmp_path)
    archive = tmp_path / "backup.zip"
    made = sites("db", "backup", str(archive))
    assert made.exit_code == 0, made.stderr
    assert "media_blob: 2" in made.stdout
    restored = cli_factory(str(tmp_path / "restored.db"))
    run = restored("db", "restore", str(archive))
    assert run.exit_code == 0, run.stderr
    out = tmp_path / "again.zip"
    assert restored("form", "export-responses", "--form", "sites", "--format", "zip", "--out", str(out)).exit_code == 0
    import zipfile

    with zipfile.ZipFile(out) as exported:
        assert exported.read("media/a1/door.png") == png()
        assert exported.read("media/a1/plan.pdf") == PDF


def test_hostile_file_names_are_kept_harmless(client: TestClient, link: str, store: Store) -> None:
    names = [
        "a\x00b.png",
        "two\r\nlines.png",
        "9" * 400 + ".png",
        "Анкета №1 😀.png",
        "..",
        "<script>.png",
        "%2e%2e.png",
    ]
    for number, name in enumerate(names, start=1):
        sent = send(client, link, {}, {"photo": (name, png(number, 1))})
        assert sent.status_code == 200, (name, sent.status_code)
        with store.session() as session:
            kept = session.scalars(select(SubmissionFile.filename)).all()
        assert len(kept) == 1, kept
        assert "/" not in kept[0]
        assert "\x00" not in kept[0]
        assert "\n" not in kept[0]
        got = client.get(f"{link}/files/{quote(kept[0], safe='')}")
        assert got.status_code == 200, (kept[0], got.text[:300])
        assert got.content == png(number, 1)
        assert "\n" not in got.headers["content-disposition"]


def test_the_report_counts_the_files_received(client: TestClient, link: str, cli: Cli, tmp_path: Path) -> None:
    fields = {"project_code": "LM.0181", "where": "12.37 -1.52"}
    assert send(client, link, fields, {"photo": ("site.png", png())}, action="submit").status_code == 303
    run = cli("report", "build", "--review", "r", "--format", "html", "--out", str(tmp_path / "out"))
    assert run.exit_code == 0, run.stderr
    html = next((tmp_path / "out").glob("*.html")).read_text(encoding="utf-8")
    text = BeautifulSoup(html, "html.parser").get_text(" ", strip=True)
    assert "A photo of the site" in text
    assert "file received" in text
    assert "file not received" in text


def test_the_analysis_page_lists_files_under_file_questions_only(client: TestClient, link: str) -> None:
    fields = {"project_code": "LM.0181", "where": "12.37 -1.52"}
    assert send(client, link, fields, {"photo": ("site.png", png())}, action="submit").status_code == 303
    login = client.get("/login")
    csrf = BeautifulSoup(login.text, "html.parser").find("input", {"name": "csrf_token"})["value"]  # type: ignore[index]
    client.post("/login", data={"name": "rev", "password": "correct-horse", "csrf_token": csrf})
    page = BeautifulSoup(client.get("/reviews/r/analysis").text, "html.parser")
    notes = {
        str(section.h2.code.get_text()): [p.get_text(" ", strip=True) for p in section.select("p.summary")]
        for section in page.select("section.tabulation")
        if section.h2 is not None and section.h2.code is not None
    }
    with_files = {q for q, n in notes.items() if any(x.startswith("Files stored") for x in n)}
    assert with_files == {"photo", "report", "voice", "visits/visit_photo"}
    assert notes["photo"] == ["Files stored: 1 of 1 answered (the others name a file not received)."]


def test_the_review_page_imports_an_odk_zip_with_media_and_exports_it_back(
    client: TestClient, link: str, tmp_path: Path
) -> None:
    import zipfile

    login = client.get("/login")
    csrf = BeautifulSoup(login.text, "html.parser").find("input", {"name": "csrf_token"})["value"]  # type: ignore[index]
    client.post("/login", data={"name": "rev", "password": "correct-horse", "csrf_token": csrf})
    header = "SubmissionDate,project_code,where,photo,report,voice,KEY,ReviewState,FormVersion\n"
    cells = "2024-05-01T10:00:00.000Z,LM.0181,12.37 -1.52,1714557600000.png,,,uuid:k1,,1\n"
    export = tmp_path / "media_test.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("media_test.csv", header + cells)
        archive.writestr("media/1714557600000.png", png())
    page = client.get("/reviews/r").text
    token = BeautifulSoup(page, "html.parser").find("input", {"name": "csrf_token"})["value"]  # type: ignore[index]
    sent = client.post(
        "/reviews/r/responses",
        data={"csrf_token": token},
        files={"file": ("media_test.zip", export.read_bytes(), "application/zip")},
    )
    assert sent.status_code == 200, sent.text
    assert "1 media files stored" in sent.text
    assert "responses.zip" in sent.text
    download = client.get("/reviews/r/responses.zip")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert archive.read("media/k1/1714557600000.png") == png()


def test_the_cli_lists_a_reviews_files_and_writes_them_out(
    client: TestClient, link: str, cli: Cli, store: Store, tmp_path: Path
) -> None:
    fields = {"project_code": "LM.0181", "where": "12.37 -1.52"}
    files = {"photo": ("site.png", png()), "report": ("plan.pdf", PDF)}
    assert send(client, link, fields, files, action="submit").status_code == 303
    with store.session() as session:
        number = session.scalar(select(SubmissionFile.submission_id))
    run = cli("responses", "files", "--review", "r", "--out", str(tmp_path / "files"))
    assert run.exit_code == 0, run.stderr
    assert "site.png" in run.stdout
    assert "image/png" in run.stdout
    assert "2 of 2 file answers stored in lmreview." in run.stdout
    assert (tmp_path / "files" / str(number) / "site.png").read_bytes() == png()
    assert (tmp_path / "files" / str(number) / "plan.pdf").read_bytes() == PDF
    missing = cli("responses", "files", "--review", "r", "--submission", str(number + 1000))
    assert missing.exit_code == 2
    assert f"the review has no submission {number + 1000}" in missing.stderr


def test_the_engine_takes_a_file_name_as_the_answer_never_a_path() -> None:
    from lmreview.questionnaire import engine
    from lmreview.questionnaire.xlsform import parse_form

    definition = parse_form(MEDIA_FORM.encode(), "form.md").definition
    assert engine.evaluate(definition, {"photo": "site.jpg", "report": "plan.pdf"}).errors == {}
    errors = engine.evaluate(definition, {"photo": "../site.jpg", "report": "C:\\docs\\plan.pdf"}).errors
    message = "A file answer is the name of a file, without folders (e.g. photo.jpg)."
    assert errors == {"photo": message, "report": message}
    assert definition.by_name()["report"].accept == ".pdf,.txt"


def test_a_post_larger_than_any_page_is_refused_before_it_is_read(store: Store, link: str) -> None:
    app = create_app(Settings(database_url=store.url, max_upload_bytes=1000, max_media_bytes=1000), store)
    with TestClient(app) as small:
        sent = send(small, link, {}, {"photo": ("big.png", png() + b"\0" * (2 * 1024 * 1024))})
        assert sent.status_code == 413
        assert "the files sent together are larger than 1 MiB" in sent.text
        assert counts(store) == (0, 0)


def test_the_media_of_a_zip_are_limited_apart_from_its_tables(
    sites: Cli, tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lmreview.questionnaire.exchange import files

    monkeypatch.setattr(files, "MAX_UNCOMPRESSED", 4096)  # the tables' limit: the media do not count in it
    export = odk_zip(tmp_path / "sites.zip", [row("a1", "door.png")], {"media/door.png": png() + b"\0" * 9000})
    run = sites("form", "import-responses", str(export), "--form", "sites")
    assert run.exit_code == 0, run.stderr
    monkeypatch.setattr(files, "MAX_MEDIA_TOTAL", 4096)
    refused = sites("form", "import-responses", str(export), "--form", "sites")
    assert refused.exit_code == 2
    assert "refused: the media files of the zip expand to" in refused.stderr


def test_an_image_larger_than_max_pixels_is_scaled_down_as_odk_does(
    client: TestClient, link: str, store: Store
) -> None:
    from PIL import Image

    assert (
        send(
            client,
            link,
            {},
            {"photo": ("wide.png", png(40, 20)), "visits[1]/visit_photo": ("v.png", png(40, 20))},
            action="save",
        ).status_code
        == 200
    )
    kept = Image.open(io.BytesIO(client.get(f"{link}/files/wide.png").content))
    assert kept.size == (10, 5)  # the longest side at max-pixels, the proportions kept
    assert kept.format == "PNG"
    with store.session() as session:
        sizes = dict(session.execute(select(SubmissionFile.filename, SubmissionFile.size)).all())
    assert sizes["wide.png"] == len(client.get(f"{link}/files/wide.png").content)
    assert sizes["v.png"] == len(png(40, 20))  # no max-pixels there: the image as sent
