"""`lmreview review export` / `review import`: a review of the demo moved SQLite → zip → (SQLite or PostgreSQL) →
zip holds the same content row for row, ids aside; a copy in the same workspace; hostile zips change nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lmreview import access
from lmreview.questionnaire.models import Review
from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.backup import sqlite_copy
from lmreview.store.registry import metadata
from lmreview.store.review_archive import AUDIT_ENTITIES, MEDIA
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import Cli

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
REVIEWS = ("idf-lm-2022", "idf-lm-2016")  # answers, codings, ratings; recommendations and their follow-up


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace on SQLite with what the demo lacks: members (one acting, so that audit events name a
    user), a file sent with an answer, and a personal response link of a recommendation."""
    from lmreview.questionnaire.models import MediaBlob, Submission, SubmissionFile
    from lmreview.tracking.models import Recommendation, ResponseLink

    folder = tmp_path_factory.mktemp("demo")
    path = folder / "demo.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        run = Cli(str(path))("demo", "--no-serve")
    assert run.exit_code == 0, run.stderr
    store = Store(str(path))
    with store.session() as session:
        add_user(session, "lena", "reviewer", "correct-horse", actor="test")
    with store.session() as session:
        for name in REVIEWS:
            review = session.scalars(select(Review).where(Review.name == name)).one()
            access.add_member(session, review, "analyst", "reviewer", actor="demo")
            access.add_member(session, review, "lena", "reader", actor="analyst")
        sub = session.scalars(select(Submission).order_by(Submission.id)).first()
        assert sub is not None
        digest = hashlib.sha256(PNG).hexdigest()
        session.add(MediaBlob(sha256=digest, size=len(PNG), media_type="image/png", content=PNG))
        session.flush()
        session.add(
            SubmissionFile(
                submission_id=sub.id, filename="site.png", path="photo", sha256=digest, media_type="image/png", size=9
            )
        )
        old_review = select(Review.id).where(Review.name == "idf-lm-2016").scalar_subquery()
        rec = session.scalars(select(Recommendation).where(Recommendation.review_id == old_review)).first()
        assert rec is not None
        session.add(
            ResponseLink(
                recommendation_id=rec.id,
                unit="LHD",
                email="lhd@example.org",
                token_hash="ab" * 32,
                expires_at=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
            )
        )
    store.dispose()
    return path


def canonical(path: Path) -> dict[str, list[Any]]:
    """The rows of an export with every id replaced by its rank in its table (the import keeps the order), so that
    two exports compare equal when they hold the same content, whatever the ids."""
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        raw: dict[str, list[dict[str, Any]]] = {}
        for entry in manifest["tables"]:
            names = [c["name"] for c in entry["columns"]]
            kinds = {c["name"]: c["kind"] for c in entry["columns"]}
            lines = archive.read(entry["file"]).decode().splitlines()
            rows = [dict(zip(names, json.loads(line), strict=True)) for line in lines]
            for row in rows:
                for name, kind in kinds.items():
                    if kind == "json" and row[name] is not None:
                        row[name] = json.loads(row[name])
            raw[entry["name"]] = rows
        files = {f["sha256"]: archive.read(f["file"]) for f in manifest["files"]}
    rank = {
        name: {row["id"]: n for n, row in enumerate(rows)} for name, rows in raw.items() if rows and "id" in rows[0]
    }
    # users are not imported but found by name: a user is their name
    rank["user_account"] = {row["id"]: row["name"] for row in raw["user_account"]}
    out: dict[str, list[Any]] = {"files": sorted(files.items())}
    for name, rows in raw.items():
        fks = {fk.parent.name: fk.column.table.name for fk in metadata.tables[name].foreign_keys}
        shaped = []
        for row in rows:
            row = dict(row)
            row.pop("id", None)
            for column, target in fks.items():
                if row.get(column) is not None and target in rank:
                    row[column] = rank[target][row[column]]
            if name == "audit_event" and row["entity"] in AUDIT_ENTITIES and row["entity_id"] is not None:
                row["entity_id"] = rank[AUDIT_ENTITIES[row["entity"]]][row["entity_id"]]
            shaped.append(row)
        ordered = "id" in (rows[0] if rows else {"id": 0}) and name != "user_account"
        out[name] = shaped if ordered else sorted(shaped, key=json.dumps)
    return out


def table_counts(url: str) -> dict[str, int]:
    store = Store(url)
    try:
        with store.engine.connect() as connection:
            return {t.name: connection.scalar(select(func.count()).select_from(t)) or 0 for t in metadata.sorted_tables}
    finally:
        store.dispose()


@pytest.mark.parametrize("review", REVIEWS)
def test_a_review_moves_to_another_lmreview_row_for_row(
    demo_db: Path, db_url: str, cli: Cli, tmp_path: Path, review: str
) -> None:
    source = Cli(str(demo_db))
    first = source("review", "export", review, str(tmp_path / "first.zip"))
    assert first.exit_code == 0, first.stderr
    with Store(db_url).session() as session:  # the members' accounts exist here too (matched by name)
        for name in ("lena", "analyst", "demo"):  # in another order than in the source
            add_user(session, name, "reviewer", "correct-horse", actor="test")
    loaded = cli("review", "import", str(tmp_path / "first.zip"))
    assert loaded.exit_code == 0, loaded.stderr
    assert f"Imported review {review}" in loaded.stdout
    second = cli("review", "export", review, str(tmp_path / "second.zip"))
    assert second.exit_code == 0, second.stderr

    before, after = canonical(tmp_path / "first.zip"), canonical(tmp_path / "second.zip")
    imports = [e for e in after["audit_event"] if e["action"] == "import"]
    assert [e["summary"] for e in imports] == [f"imported review {review} from first.zip"]
    after["audit_event"] = [e for e in after["audit_event"] if e["action"] != "import"]
    assert before.keys() == after.keys()
    for table in before:
        assert before[table] == after[table], table
    # what the comparison covered
    assert len(before["review_member"]) == 2
    assert any(e["user_id"] is not None for e in before["audit_event"])
    if review == "idf-lm-2022":
        assert before["files"][0][1] == PNG
        for table in ("submission", "submission_change", "coding_segment", "rating", "form_version", "project"):
            assert before[table], table
    else:
        for table in ("tracking_recommendation", "tracking_action", "tracking_comment", "tracking_response_link"):
            assert before[table], table


def test_a_copy_in_the_same_workspace_gets_new_unique_values(
    demo_db: Path, tmp_path: Path, cli_factory: type[Cli]
) -> None:
    work = tmp_path / "work.db"
    sqlite_copy(demo_db, work)  # the demo's WAL included
    cli = cli_factory(str(work))
    assert cli("review", "export", "idf-lm-2022", str(tmp_path / "r.zip")).exit_code == 0
    refused = cli("review", "import", str(tmp_path / "r.zip"))
    assert refused.exit_code == 2
    assert "there is already a review idf-lm-2022; import it under another name (--as NAME)" in refused.stderr
    copied = cli("review", "import", str(tmp_path / "r.zip"), "--as", "copy")
    assert copied.exit_code == 0, copied.stderr
    assert "submission: 27 given a new unique value" in copied.stdout
    original = cli("responses", "status", "--review", "idf-lm-2022", "--json")
    copy = cli("responses", "status", "--review", "copy", "--json")
    assert json.loads(copy.stdout) | {"review": "idf-lm-2022"} == json.loads(original.stdout)
    tables = [
        cli("tabulate", "--review", r, "--question", "sustained_outcome", "--json") for r in ("copy", "idf-lm-2022")
    ]
    assert tables[0].exit_code == 0, tables[0].stderr
    same = [re.sub(r"uuid:[0-9a-f-]{36}", "uuid:…", t.stdout.replace('"copy"', '"idf-lm-2022"')) for t in tables]
    assert same[0] == same[1]  # the same figures; only the instance ids were renewed
    store = Store(str(work))
    with store.engine.connect() as connection:  # the portfolio, questionnaire and codebook were reused
        for name in ("portfolio", "form", "form_version", "coding_codebook", "evidence_document", "media_blob"):
            table_ = metadata.tables[name]
            assert connection.scalar(select(func.count()).select_from(table_)) == table_counts(str(demo_db))[name]
    store.dispose()


def test_members_whose_user_is_missing_are_left_out_and_named(
    demo_db: Path, tmp_path: Path, cli_factory: type[Cli]
) -> None:
    assert Cli(str(demo_db))("review", "export", "idf-lm-2016", str(tmp_path / "r.zip")).exit_code == 0
    run = cli_factory(str(tmp_path / "new.db"))("review", "import", str(tmp_path / "r.zip"))
    assert run.exit_code == 0, run.stderr
    assert "users this lmreview does not have (not made members): demo, analyst, lena" in run.stdout


def _rewrite(source: Path, target: Path, change: Any) -> Path:
    """A copy of the export ``source`` whose members pass through ``change(name, data) -> [(name, data)]``."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            for name, data in change(info.filename, old.read(info.filename)):
                new.writestr(name, data)
    return target


def _manifest(edit: Any) -> Any:
    def change(name: str, data: bytes) -> list[tuple[str, bytes]]:
        if name != "manifest.json":
            return [(name, data)]
        manifest = json.loads(data)
        edit(manifest)
        return [(name, json.dumps(manifest).encode())]

    return change


def _bomb(name: str, data: bytes) -> list[tuple[str, bytes]]:
    return [(name, data), ("files/padding", b"\0" * (64 * 1024 * 1024))] if name == "manifest.json" else [(name, data)]


def _traversal(name: str, data: bytes) -> list[tuple[str, bytes]]:
    return (
        [(name, data), ("../../etc/cron.d/evil", b"* * * * * root true")] if name == "manifest.json" else [(name, data)]
    )


def _damaged_file(name: str, data: bytes) -> list[tuple[str, bytes]]:
    return [(name, b"not the file" if name.startswith(MEDIA) else data)]


def _bad_row(name: str, data: bytes) -> list[tuple[str, bytes]]:
    return [(name, data + b'["oops"]\n' if name.endswith("_audit_event.jsonl") else data)]


HOSTILE = {
    "zip bomb": (_bomb, "expands more than 200 times (a zip bomb?)"),
    "path traversal": (_traversal, "the member name '../../etc/cron.d/evil' is not one lmreview writes"),
    "manifest version": (_manifest(lambda m: m.update(format_version=99)), "archive format 99 is not one"),
    "another revision": (_manifest(lambda m: m.update(revision="0001")), "exported at database revision 0001"),
    "missing table": (
        _manifest(lambda m: m.update(tables=[t for t in m["tables"] if t["name"] != "submission"])),
        "the table submission is missing: the export is incomplete",
    ),
    "not a review export": (
        _manifest(lambda m: m.update(format="lmreview-archive")),
        "written by `lmreview db backup`",
    ),
    "damaged file": (_damaged_file, "does not hold the file of that SHA-256"),
    "damaged row": (_bad_row, "expected a list of"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_export_is_refused_and_nothing_is_written(
    demo_db: Path, db_url: str, cli: Cli, tmp_path: Path, case: str
) -> None:
    export = tmp_path / "r.zip"
    assert Cli(str(demo_db))("review", "export", "idf-lm-2022", str(export)).exit_code == 0
    change, message = HOSTILE[case]
    hostile = _rewrite(export, tmp_path / "hostile.zip", change)
    before = table_counts(db_url)
    run = cli("review", "import", str(hostile))
    assert run.exit_code == 2, run.stdout
    assert message in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert table_counts(db_url) == before


def test_an_export_names_an_unknown_review_and_a_folder_clearly(demo_db: Path, tmp_path: Path) -> None:
    source = Cli(str(demo_db))
    missing = source("review", "export", "nope", str(tmp_path / "x.zip"))
    assert missing.exit_code == 2
    assert "there is no review 'nope'" in missing.stderr
    folder = source("review", "export", "idf-lm-2022", str(tmp_path))
    assert folder.exit_code == 2
    assert "is a folder" in folder.stderr
    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("hello")
    run = source("review", "import", str(not_zip))
    assert run.exit_code == 2
    assert "not a zip file" in run.stderr


def _login(client: TestClient, name: str) -> str:
    """Log ``name`` in and return the CSRF token of their session."""
    token = BeautifulSoup(client.get("/login").text, "html.parser").find("input", {"name": "csrf_token"})
    assert token is not None
    client.post("/login", data={"name": name, "password": "correct-horse", "csrf_token": token["value"]})
    found = BeautifulSoup(client.get("/reviews").text, "html.parser").find("input", {"name": "csrf_token"})
    assert found is not None
    return str(found["value"])


def test_the_web_ui_exports_for_a_manager_and_imports_for_a_reviewer(
    demo_db: Path, db_url: str, tmp_path: Path
) -> None:
    work = tmp_path / "work.db"
    sqlite_copy(demo_db, work)  # the demo's WAL included
    source = Store(str(work))
    with source.session() as session:
        add_user(session, "mona", "viewer", "correct-horse", actor="test")
        review = session.scalars(select(Review).where(Review.name == "idf-lm-2022")).one()
        access.add_member(session, review, "mona", "manager", actor="test")
    with TestClient(create_app(Settings(database_url=source.url), source)) as client:
        _login(client, "lena")  # a reader of the review: no Export link, and the address answers 403
        assert "export.zip" not in client.get("/reviews/idf-lm-2022").text
        assert client.get("/reviews/idf-lm-2022/export.zip").status_code == 403
    with TestClient(create_app(Settings(database_url=source.url), source)) as client:
        _login(client, "mona")
        page = BeautifulSoup(client.get("/reviews/idf-lm-2022").text, "html.parser")
        link = page.find("a", href="/reviews/idf-lm-2022/export.zip")
        assert link is not None
        download = client.get(str(link["href"]))
        assert download.status_code == 200, download.text[:300]
        assert 'filename="idf-lm-2022.zip"' in download.headers["content-disposition"]
        assert download.content.startswith(b"PK")
    source.dispose()

    target = Store(db_url)
    with target.session() as session:
        add_user(session, "rex", "reviewer", "correct-horse", actor="test")
        add_user(session, "vera", "viewer", "correct-horse", actor="test")
    with TestClient(create_app(Settings(database_url=db_url), target)) as client:
        csrf = _login(client, "rex")
        assert BeautifulSoup(client.get("/reviews").text, "html.parser").find("form", action="/reviews/import")
        files = {"file": ("idf-lm-2022.zip", download.content, "application/zip")}
        done = client.post(
            "/reviews/import", data={"csrf_token": csrf, "as_name": "moved"}, files=files, follow_redirects=False
        )
        assert done.status_code == 303, done.text[:500]
        assert done.headers["location"] == "/reviews/moved"
        page = client.get("/reviews/moved")
        assert page.status_code == 200  # rex manages the review imported
        assert "export.zip" in page.text
        again = client.post("/reviews/import", data={"csrf_token": csrf, "as_name": "moved"}, files=files)
        assert again.status_code == 409
        assert "there is already a review moved" in again.text
        broken = {"file": ("x.zip", download.content[:2000], "application/zip")}
        refused = client.post("/reviews/import", data={"csrf_token": csrf}, files=broken)
        assert refused.status_code == 422
        assert "not a zip file, or a damaged one" in refused.text
    with TestClient(create_app(Settings(database_url=db_url), target)) as client:
        csrf = _login(client, "vera")  # a site viewer imports nothing
        assert client.post("/reviews/import", data={"csrf_token": csrf}, files=files).status_code == 403
    target.dispose()


def test_the_api_exports_and_imports_a_review(demo_db: Path, db_url: str, tmp_path: Path) -> None:
    from tests.test_api import bearer, make_token

    work = tmp_path / "work.db"
    sqlite_copy(demo_db, work)  # the demo's WAL included
    source_cli = Cli(str(work))
    manager = bearer(make_token(source_cli, "analyst", "read"))  # analyst is a reviewer of the review
    reader = bearer(make_token(source_cli, "lena", "read"))
    assert source_cli("review", "member", "change", "idf-lm-2022", "analyst", "--role", "manager").exit_code == 0
    source = Store(str(work))
    with TestClient(create_app(Settings(database_url=source.url), source)) as client:
        assert client.get("/api/v1/reviews/idf-lm-2022/export", headers=reader).status_code == 403
        assert client.get("/api/v1/reviews/no-such/export", headers=manager).status_code == 404
        export = client.get("/api/v1/reviews/idf-lm-2022/export", headers=manager)
        assert export.status_code == 200, export.text[:300]
        assert export.headers["content-type"] == "application/zip"
    source.dispose()

    target = Store(db_url)
    cli = Cli(db_url)
    with target.session() as session:
        add_user(session, "rex", "reviewer", "correct-horse", actor="test")
        add_user(session, "vera", "viewer", "correct-horse", actor="test")
    writer, viewer = bearer(make_token(cli, "rex", "write")), bearer(make_token(cli, "vera", "write"))
    files = {"file": ("r.zip", export.content, "application/zip")}
    with TestClient(create_app(Settings(database_url=db_url), target)) as client:
        assert client.post("/api/v1/reviews/import", headers=viewer, files=files).status_code == 403
        made = client.post("/api/v1/reviews/import", headers=writer, files=files)
        assert made.status_code == 201, made.text
        body = made.json()
        assert (body["review"], body["from_review"], body["added"]["submission"]) == ("idf-lm-2022", "idf-lm-2022", 27)
        assert [r["name"] for r in client.get("/api/v1/reviews", headers=writer).json()] == ["idf-lm-2022"]
        twice = client.post("/api/v1/reviews/import", headers=writer, files=files)
        assert twice.status_code == 409
        assert twice.json()["error"].startswith("there is already a review idf-lm-2022")
        hostile = _rewrite_bytes(export.content, tmp_path, _traversal)
        refused = client.post("/api/v1/reviews/import", headers=writer, files={"file": ("h.zip", hostile)})
        assert refused.status_code == 422
        assert "is not one lmreview writes" in refused.json()["problems"][0]
    target.dispose()


def _rewrite_bytes(data: bytes, folder: Path, change: Any) -> bytes:
    (folder / "in.zip").write_bytes(data)
    return _rewrite(folder / "in.zip", folder / "out.zip", change).read_bytes()


def test_a_copy_that_would_duplicate_a_documents_recommendation_is_refused(
    demo_db: Path, tmp_path: Path, cli_factory: type[Cli]
) -> None:
    from sqlalchemy import update

    from lmreview.evidence.models import Document
    from lmreview.tracking.models import Recommendation

    work = tmp_path / "work.db"
    sqlite_copy(demo_db, work)
    store = Store(str(work))
    with store.session() as session:  # a recommendation of the 2016 review that one of its documents holds
        document = session.scalars(select(Document.id).order_by(Document.id)).first()
        review = select(Review.id).where(Review.name == "idf-lm-2016").scalar_subquery()
        first = session.scalars(select(Recommendation.id).where(Recommendation.review_id == review)).first()
        session.execute(
            update(Recommendation).where(Recommendation.id == first).values(document_id=document, number="99")
        )
    store.dispose()
    cli = cli_factory(str(work))
    assert cli("review", "export", "idf-lm-2016", str(tmp_path / "r.zip")).exit_code == 0
    before = table_counts(str(work))
    run = cli("review", "import", str(tmp_path / "r.zip"), "--as", "copy")
    assert run.exit_code == 2, run.stdout
    assert "the review holds a record this lmreview has already" in run.stderr
    assert table_counts(str(work)) == before
