"""The full-text index's own database objects, which the models do not describe (see migrations 0006 and 0010)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from lmreview.evidence.search import pg_folded

FTS_TABLE = "evidence_passage_fts"
PG_INDEX = "ix_evidence_passage_fts"

SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(text, content='evidence_passage', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER evidence_passage_ai AFTER INSERT ON evidence_passage BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, text) VALUES (new.id, new.text); END",
    f"CREATE TRIGGER evidence_passage_ad AFTER DELETE ON evidence_passage BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text) VALUES ('delete', old.id, old.text); END",
    f"CREATE TRIGGER evidence_passage_au AFTER UPDATE ON evidence_passage BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text) VALUES ('delete', old.id, old.text); "
    f"INSERT INTO {FTS_TABLE}(rowid, text) VALUES (new.id, new.text); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS evidence_passage_au",
    "DROP TRIGGER IF EXISTS evidence_passage_ad",
    "DROP TRIGGER IF EXISTS evidence_passage_ai",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]
# On the text with its accents folded, the expression search matches (migration 0010; 0006 indexed the text as is).
PG_EXPRESSION = f"to_tsvector('english', {pg_folded('text')})"
POSTGRES_CREATE = [f"CREATE INDEX {PG_INDEX} ON evidence_passage USING gin ({PG_EXPRESSION})"]
POSTGRES_DROP = [f"DROP INDEX IF EXISTS {PG_INDEX}"]


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """For Alembic's comparison of the database with the models: the index's objects are not models."""
    return not (name or "").startswith((FTS_TABLE, PG_INDEX))


def optimize(session: Session) -> None:
    """Merge SQLite's full-text index into one segment (nothing to do on PostgreSQL).

    Each insert leaves FTS5 a small segment, merged with others only from time to time: a large library's index
    holds dozens, and a query opens each of them (a search restricted to a range of passages took 0.34 ms against
    0.06 ms once merged, on a million passages). Merging costs about 3 s a million passages.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')"))


def tidy(session: Session, added: int) -> None:
    """After ``added`` passages were written: merge the index (``optimize``) when they are an eighth of it or more,
    so that the merge costs at most a few times the batch's own indexing; FTS5's own merging does the rest."""
    if added and session.get_bind().dialect.name == "sqlite":
        newest = session.execute(text("SELECT max(id) FROM evidence_passage")).scalar() or 0
        if 8 * added >= newest:
            optimize(session)
