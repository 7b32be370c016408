"""`lmreview db backup` and `db restore`: the demo workspace moved SQLite → archive → (SQLite or PostgreSQL) →
archive → SQLite, row for row; refusals (newer revision, non-empty target, zip bomb, damaged rows) change nothing."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect, select

from lmreview.store import Store, backup
from lmreview.store.base import Scaled
from lmreview.store.migrate import alembic_config, head_revision
from lmreview.store.registry import metadata
from tests.conftest import Cli


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace on SQLite, built once for this file."""
    folder = tmp_path_factory.mktemp("demo")
    path = folder / "demo.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        run = Cli(str(path))("demo", "--no-serve")
    assert run.exit_code == 0, run.stderr
    return path


def content(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows through the ORM's types (Decimals, dates, UTC datetimes, bytes, JSON), in id order."""
    store = Store(url)
    rows: dict[str, list[tuple[Any, ...]]] = {}
    try:
        with store.engine.connect() as connection:
            for table in metadata.sorted_tables:
                key = list(table.primary_key.columns)
                found = connection.execute(select(table).order_by(*key)).all()
                rows[table.name] = [tuple(_utc(v) for v in row) for row in found]
    finally:
        store.dispose()
    return rows


def _utc(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value


def test_a_workspace_moves_through_archives_row_for_row(
    demo_db: Path, db_url: str, cli: Cli, cli_factory: type[Cli], tmp_path: Path
) -> None:
    source = Cli(str(demo_db))
    first = source("db", "backup", str(tmp_path / "first.zip"))
    assert first.exit_code == 0, first.stderr
    assert f"revision {head_revision()}" in first.stdout
    assert "audit_event:" in first.stdout

    loaded = cli("db", "restore", str(tmp_path / "first.zip"))
    assert loaded.exit_code == 0, loaded.stderr
    assert "Restored" in loaded.stdout

    second = cli("db", "backup", str(tmp_path / "second.zip"))
    assert second.exit_code == 0, second.stderr
    back = tmp_path / "back.db"
    again = cli_factory(str(back))("db", "restore", str(tmp_path / "second.zip"))
    assert again.exit_code == 0, again.stderr

    original = content(str(demo_db))
    assert original["audit_event"]
    assert original["submission_change"]
    assert original["form_version"]
    assert any(isinstance(v, bytes) for v in original["form_version"][0])
    assert content(db_url) == original
    assert content(str(back)) == original
    scaled = [c.name for c in metadata.tables["project"].columns if isinstance(c.type, Scaled)]
    assert scaled  # budgets travel as exact decimals


def test_new_rows_after_a_restore_get_fresh_ids(demo_db: Path, cli: Cli, tmp_path: Path) -> None:
    assert Cli(str(demo_db))("db", "backup", str(tmp_path / "a.zip")).exit_code == 0
    assert cli("db", "restore", str(tmp_path / "a.zip")).exit_code == 0
    added = cli("user", "add", "newcomer", "--password-stdin", input="a-long-enough-password\n")
    assert added.exit_code == 0, added.stderr
    listing = cli("user", "list")
    assert "newcomer" in listing.stdout
    assert "demo" in listing.stdout


def test_an_sqlite_copy_is_made_online_and_restores_anywhere(demo_db: Path, cli: Cli, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    run = Cli(str(demo_db))("db", "backup", str(copy))
    assert run.exit_code == 0, run.stderr
    assert "SQLite copy" in run.stdout
    assert copy.read_bytes().startswith(b"SQLite format 3\x00")
    restored = cli("db", "restore", str(copy))
    assert restored.exit_code == 0, restored.stderr
    assert content(cli.url) == content(str(demo_db))


def test_a_database_holding_data_is_replaced_only_when_asked(demo_db: Path, cli: Cli, tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    assert Cli(str(demo_db))("db", "backup", str(archive)).exit_code == 0
    assert cli("user", "add", "ana", "--password-stdin", input="a-long-enough-password\n").exit_code == 0
    refused = cli("db", "restore", str(archive))
    assert refused.exit_code == 2
    assert "holds data" in refused.stderr
    assert "--replace" in refused.stderr
    assert "ana" in cli("user", "list").stdout
    replaced = cli("db", "restore", "--replace", str(archive))
    assert replaced.exit_code == 0, replaced.stderr
    assert content(cli.url) == content(str(demo_db))


def rewrite(source: Path, target: Path, change: Any) -> None:
    """Copy an archive, letting ``change(manifest, members)`` edit the manifest and the JSON Lines members."""
    with zipfile.ZipFile(source) as zin:
        manifest = json.loads(zin.read("manifest.json"))
        members = {n: zin.read(n).decode() for n in zin.namelist() if n != "manifest.json"}
    change(manifest, members)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for name, data in members.items():
            zout.writestr(name, data)
        zout.writestr("manifest.json", json.dumps(manifest))


@pytest.fixture
def archive(demo_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "demo.zip"
    assert Cli(str(demo_db))("db", "backup", str(path)).exit_code == 0
    return path


def test_an_archive_of_a_newer_lmreview_is_refused(archive: Path, cli: Cli, tmp_path: Path) -> None:
    newer = tmp_path / "newer.zip"
    rewrite(archive, newer, lambda m, _: m.update(revision="9999"))
    run = cli("db", "restore", str(newer))
    assert run.exit_code == 2
    assert "revision 9999" in run.stderr
    assert "newer lmreview" in run.stderr
    assert "demo" not in cli("user", "list").stdout


def schema_at(revision: str, folder: Path) -> dict[str, set[str]]:
    """The tables and columns of lmreview's database at ``revision``."""
    store = Store(str(folder / f"at-{revision}.db"))
    try:
        command.upgrade(alembic_config(store), revision)
        found = inspect(store.engine)
        return {t: {c["name"] for c in found.get_columns(t)} for t in found.get_table_names()}
    finally:
        store.dispose()


def test_an_older_archive_is_upgraded_through_the_migrations(
    archive: Path, demo_db: Path, cli: Cli, tmp_path: Path
) -> None:
    old = schema_at("0004", tmp_path)
    assert "session_version" not in old["user_account"]  # 0005 added it

    def to_0004(manifest: dict[str, Any], members: dict[str, str]) -> None:
        # the archive as lmreview at revision 0004 wrote it: the tables and columns that existed then
        manifest["revision"] = "0004"
        manifest["tables"] = [t for t in manifest["tables"] if t["name"] in old]
        for entry in manifest["tables"]:
            keep = [n for n, c in enumerate(entry["columns"]) if c["name"] in old[entry["name"]]]
            entry["columns"] = [entry["columns"][n] for n in keep]
            rows = [json.loads(line) for line in members[entry["file"]].splitlines()]
            members[entry["file"]] = "".join(json.dumps([r[n] for n in keep]) + "\n" for r in rows)

    older = tmp_path / "older.zip"
    rewrite(archive, older, to_0004)
    run = cli("db", "restore", str(older))
    assert run.exit_code == 0, run.stderr
    assert "upgraded from revision 0004" in run.stdout
    assert f"revision: {head_revision()} (lmreview needs {head_revision()})" in cli("db", "status").stdout
    assert "demo" in cli("user", "list").stdout
    restored, original = content(cli.url), content(str(demo_db))
    assert restored["audit_event"] == original["audit_event"]
    assert restored["submission_change"] == original["submission_change"]


def test_a_damaged_row_restores_nothing(archive: Path, cli: Cli, tmp_path: Path) -> None:
    assert cli("user", "add", "ana", "--password-stdin", input="a-long-enough-password\n").exit_code == 0
    before = content(cli.url)

    def damage(manifest: dict[str, Any], members: dict[str, str]) -> None:
        entry = next(t for t in manifest["tables"] if t["name"] == "submission_change")
        members[entry["file"]] += '["not", "a row"]\n'
        entry["rows"] += 1

    damaged = tmp_path / "damaged.zip"
    rewrite(archive, damaged, damage)
    run = cli("db", "restore", "--replace", str(damaged))
    assert run.exit_code == 2
    assert "damaged.zip:4:submission_change:" in run.stderr
    assert "expected a list of" in run.stderr
    assert content(cli.url) == before


def test_zip_bombs_and_strangers_are_refused(archive: Path, cli: Cli, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    shutil.copy(archive, bomb)
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as zout:
        zout.writestr("tables/999_padding.jsonl", b"\n" * (8 * 1024 * 1024))
    run = cli("db", "restore", str(bomb))
    assert run.exit_code == 2
    assert "expands more than 200 times" in run.stderr

    stranger = tmp_path / "notes.zip"
    with zipfile.ZipFile(stranger, "w") as zout:
        zout.writestr("readme.txt", "hello")
    run = cli("db", "restore", str(stranger))
    assert run.exit_code == 2
    assert "no readable manifest.json" in run.stderr

    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    run = cli("db", "restore", str(text))
    assert run.exit_code == 2
    assert "neither an lmreview archive" in run.stderr

    missing = cli("db", "restore", str(tmp_path / "nowhere.zip"))
    assert missing.exit_code == 2
    assert "does not exist" in missing.stderr


def test_postgresql_is_dumped_with_pg_dump_when_the_versions_match(
    archive: Path, db_url: str, cli: Cli, tmp_path: Path, demo_db: Path
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("pg_dump concerns PostgreSQL")
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    assert cli("db", "restore", str(archive)).exit_code == 0
    dump = tmp_path / "reviews.dump"
    run = cli("db", "backup", str(dump))
    assert run.exit_code == 0, run.stderr
    assert f"Wrote a pg_dump archive of the database (revision {head_revision()})" in run.stdout
    assert dump.read_bytes().startswith(b"PGDMP")
    assert cli("user", "add", "ana", "--password-stdin", input="a-long-enough-password\n").exit_code == 0
    refused = cli("db", "restore", str(dump))
    assert refused.exit_code == 2
    assert "holds data" in refused.stderr
    restored = cli("db", "restore", "--replace", str(dump))
    assert restored.exit_code == 0, restored.stderr
    assert "with pg_restore" in restored.stdout
    assert content(db_url) == content(str(demo_db))
    assert cli("user", "add", "bo", "--password-stdin", input="a-long-enough-password\n").exit_code == 0


def test_rows_stream_in_batches_and_report_progress(
    demo_db: Path, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup, "BATCH", 50)
    written: list[tuple[int, int]] = []
    source = Store(str(demo_db))
    try:
        result = backup.backup(source, tmp_path / "a.zip", progress=lambda done, total: written.append((done, total)))
    finally:
        source.dispose()
    assert result.rows > 400
    assert written[-1] == (result.rows, result.rows)
    assert len(written) == result.rows // 50 + 1
    loaded: list[tuple[int, int]] = []
    back = backup.restore(store, tmp_path / "a.zip", progress=lambda done, total: loaded.append((done, total)))
    assert back.rows == result.rows
    assert loaded[-1] == (result.rows, result.rows)
    assert [done for done, _ in loaded] == sorted(done for done, _ in loaded)
    assert len(loaded) == sum(-(-rows // 50) for rows in back.table_rows.values()) + 1  # one per batch of 50 rows
