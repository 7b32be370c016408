"""The full-text index's own database objects, which the models do not describe (see migrations 0006 and 0010)."""

from __future__ import annotations

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
