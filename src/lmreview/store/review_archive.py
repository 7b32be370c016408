"""Export one review as a zip that another lmreview imports (``lmreview review export`` / ``review import``).

The zip is the portable archive of ``store/backup.py`` (``manifest.json`` and one JSON Lines file per table, the
same exact encoding of values), cut to one review: the review, its portfolio with its projects, its questionnaire
with every version, respondents and their links, submissions with their changes, comments and files, ratings and
their scale, the report's sections, members (by user name), the codebooks it uses with the codings of its material,
the evidence documents about its projects (their text, passages and items), its recommendations with their
responses, key actions and comments, its lessons, and the audit events of all those records. The files sent with
answers are members ``files/media/SHA256`` of their own, not base64 in a table. Passwords, tokens of users, login
failures and lmreview's own settings never leave.

Importing remaps every id. What several reviews share is found by its name in the target and reused, or added
when missing: portfolios (by name; projects by code; a project found keeps what it has), questionnaires (by name;
versions by version string, which must hold the same file), rating scales, codebooks (codes by GUID), evidence
documents (by SHA-256), files (by SHA-256). Members and the users of audit events are matched by user name; a user
this lmreview does not have is left out (named in the result). The review itself and what belongs to it are always
new rows; an instance id, a coding GUID or a link's token that the target already holds gets a new value (such a
link is withdrawn: it could not be the same link). Everything is one transaction: an archive with any problem
writes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import tempfile
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, cast, insert, or_, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from lmreview import access
from lmreview.errors import BadInput, Conflict, LmreviewError, NotFound, Problem
from lmreview.questionnaire import decisions
from lmreview.questionnaire.models import Review, Submission
from lmreview.questionnaire.reviews import check_name
from lmreview.store import audit as audit_log
from lmreview.store.archive_values import RAW_TYPES, Column
from lmreview.store.backup import (
    MANIFEST,
    Archive,
    TableInfo,
    _snapshot,
    check_at_head,
    manifest_of,
    open_archive,
    read_rows,
    table_info,
    write_table,
)
from lmreview.store.engine import Store
from lmreview.store.migrate import head_revision
from lmreview.store.models import User
from lmreview.store.registry import metadata

FORMAT = "lmreview-review"
MEDIA = "files/media/"
MAX_MEDIA = 256 * 1024 * 1024  # one file sent with an answer (the web limit is far lower)
CHUNK = 500

# Found in the target by these columns (after their foreign keys are remapped), else added.
SHARED: dict[str, tuple[str, ...]] = {
    "portfolio": ("name",),
    "project": ("portfolio_id", "code"),
    "category": ("portfolio_id", "name"),
    "region": ("name",),
    "country": ("iso3",),
    "tag": ("scheme", "code"),
    "form": ("name",),
    "form_version": ("form_id", "version"),
    "rating_scale": ("name",),
    "media_blob": ("sha256",),
    "coding_codebook": ("name",),
    "coding_code": ("codebook_id", "guid"),
    "coding_code_group": ("codebook_id", "name"),
    "coding_code_group_member": ("group_id", "code_id"),
    "evidence_document": ("sha256",),
    "evidence_page": ("document_id", "number"),
    "evidence_passage": ("document_id", "seq"),
    "evidence_item": ("document_id", "kind", "seq"),
    "evidence_project_link": ("document_id", "code"),
    "evidence_document_project": ("document_id", "code"),
    "tracking_unit": ("name",),
    "user_account": ("name",),  # looked up only: an import never creates a user
}
# Parts of a shared record without a name of their own: added with a new owner, left alone when the owner exists.
OWNED_BY: dict[str, str] = {
    "budget": "project_id",
    "revision": "project_id",
    "result": "project_id",
    "project_country": "project_id",
    "project_tag": "project_id",
    "indicator": "result_id",
    "indicator_period": "indicator_id",
    "import_batch": "portfolio_id",
    "form_version_file": "form_version_id",
}
# Unique values of the review's own rows that the target may hold already: given a new value on import.
FRESH: dict[str, str] = {
    "submission": "instance_id",
    "invitation": "token_hash",
    "tracking_response_link": "token_hash",
    "coding_segment": "guid",
}
# The audit log's entity names of the review's records.
AUDIT_ENTITIES: dict[str, str] = {
    "review": "review",
    "respondent": "respondent",
    "submission": "submission",
    "review_member": "review_member",
    "report_section": "report_section",
    "recommendation": "tracking_recommendation",
    "key_action": "tracking_action",
    "coding_comparison": "coding_comparison",
    "coding": "coding_segment",
    "lesson": "tracking_lesson",
}
USER_COLUMNS = ("id", "name")  # of user_account: never a password hash, an e-mail or a role
# Tables whose rows are not a review's content: settings, security records, the work queue's jobs (a job and the
# files it was given belong to the workspace that ran it), and what a coder rejected among suggestions (a coder's
# memory of the tool, keyed by text references an import would not remap).
# The form engine's stored decisions (answer_state, submission_decision) are derived from the submissions: an import
# decides them again for the review's submissions.
LEFT_OUT = {
    "app_setting",
    "login_failure",
    "api_token",
    "job",
    "job_file",
    "coding_rejection",
    "answer_state",
    "submission_decision",
}


@dataclass(slots=True)
class ExportResult:
    review: str
    path: Path
    rows: int = 0
    files: int = 0
    table_rows: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "review": self.review,
            "file": self.path.name,
            "rows": self.rows,
            "files": self.files,
            "tables": self.table_rows,
        }


@dataclass(slots=True)
class ImportResult:
    review: str
    source_review: str
    review_id: int = 0
    added: dict[str, int] = field(default_factory=dict)  # new rows per table
    reused: dict[str, int] = field(default_factory=dict)  # rows found in this lmreview per table
    users_missing: list[str] = field(default_factory=list)
    renewed: dict[str, int] = field(default_factory=dict)  # unique values given a new one, per table

    def as_json(self) -> dict[str, Any]:
        return {
            "review": self.review,
            "from_review": self.source_review,
            "added": {k: v for k, v in self.added.items() if v},
            "reused": {k: v for k, v in self.reused.items() if v},
            "users_missing": self.users_missing,
            "renewed": self.renewed,
        }


# --- which rows are the review's --------------------------------------------------------------------------------


def _t(name: str) -> Table:
    return metadata.tables[name]


def review_rows(review_id: int) -> dict[str, ColumnElement[bool]]:
    """For each table, the condition that selects the rows of review ``review_id`` (tables left out: none)."""
    t = _t
    rv, sub, doc_project = t("review"), t("submission"), t("evidence_document_project")
    project, result, indicator = t("project"), t("result"), t("indicator")
    rec, lesson, action, seg = (
        t("tracking_recommendation"),
        t("tracking_lesson"),
        t("tracking_action"),
        t("coding_segment"),
    )
    portfolio = select(rv.c.portfolio_id).where(rv.c.id == review_id).scalar_subquery()
    projects = select(project.c.id).where(project.c.portfolio_id == portfolio)
    subs = select(sub.c.id).where(sub.c.review_id == review_id)
    docs = union(
        select(doc_project.c.document_id).where(
            doc_project.c.code.in_(select(project.c.code).where(project.c.portfolio_id == portfolio))
        ),
        select(rec.c.document_id).where(rec.c.review_id == review_id, rec.c.document_id.is_not(None)),
        select(lesson.c.document_id).where(lesson.c.review_id == review_id, lesson.c.document_id.is_not(None)),
    )
    items = select(t("evidence_item").c.id).where(t("evidence_item").c.document_id.in_(docs))
    results = select(result.c.id).where(result.c.project_id.in_(projects))
    forms = union(
        select(rv.c.form_id).where(rv.c.id == review_id, rv.c.form_id.is_not(None)),
        select(t("form_version").c.form_id).where(
            t("form_version").c.id.in_(select(sub.c.form_version_id).where(sub.c.review_id == review_id))
        ),
    )
    segments = or_(seg.c.submission_id.in_(subs), seg.c.document_id.in_(docs), seg.c.item_id.in_(items))
    codebooks = union(
        select(t("coding_comparison").c.codebook_id).where(t("coding_comparison").c.review_id == review_id),
        select(t("coding_code").c.codebook_id).where(t("coding_code").c.id.in_(select(seg.c.code_id).where(segments))),
    )
    recs = select(rec.c.id).where(rec.c.review_id == review_id)
    actions = select(action.c.id).where(action.c.recommendation_id.in_(recs))
    of_review = {
        "review": rv.c.id == review_id,
        "portfolio": t("portfolio").c.id == portfolio,
        "project": project.c.portfolio_id == portfolio,
        "category": t("category").c.portfolio_id == portfolio,
        "import_batch": t("import_batch").c.portfolio_id == portfolio,
        "region": t("region").c.id.in_(select(project.c.region_id).where(project.c.portfolio_id == portfolio)),
        "country": t("country").c.iso3.in_(
            select(t("project_country").c.iso3).where(t("project_country").c.project_id.in_(projects))
        ),
        "tag": t("tag").c.id.in_(select(t("project_tag").c.tag_id).where(t("project_tag").c.project_id.in_(projects))),
        "result": result.c.project_id.in_(projects),
        "indicator": indicator.c.result_id.in_(results),
        "indicator_period": t("indicator_period").c.indicator_id.in_(
            select(indicator.c.id).where(indicator.c.result_id.in_(results))
        ),
        "form": t("form").c.id.in_(forms),
        "form_version": t("form_version").c.form_id.in_(forms),
        "form_version_file": t("form_version_file").c.form_version_id.in_(
            select(t("form_version").c.id).where(t("form_version").c.form_id.in_(forms))
        ),
        "submission": sub.c.review_id == review_id,
        "invitation": t("invitation").c.respondent_id.in_(
            select(t("respondent").c.id).where(t("respondent").c.review_id == review_id)
        ),
        "media_blob": t("media_blob").c.sha256.in_(
            select(t("submission_file").c.sha256).where(t("submission_file").c.submission_id.in_(subs))
        ),
        "rating_scale": t("rating_scale").c.id.in_(
            select(t("rating").c.scale_id).where(t("rating").c.review_id == review_id)
        ),
        "evidence_document": t("evidence_document").c.id.in_(docs),
        "coding_segment": segments,
        "coding_codebook": t("coding_codebook").c.id.in_(codebooks),
        "coding_code": t("coding_code").c.codebook_id.in_(codebooks),
        "coding_code_group": t("coding_code_group").c.codebook_id.in_(codebooks),
        "coding_code_group_member": t("coding_code_group_member").c.group_id.in_(
            select(t("coding_code_group").c.id).where(t("coding_code_group").c.codebook_id.in_(codebooks))
        ),
        "tracking_action": action.c.recommendation_id.in_(recs),
        "tracking_response_link": t("tracking_response_link").c.recommendation_id.in_(recs),
        "tracking_comment": t("tracking_comment").c.action_id.in_(actions),
        "tracking_unit": t("tracking_unit").c.name.in_(
            select(action.c.unit).where(action.c.recommendation_id.in_(recs))
        ),
    }
    for name in ("budget", "revision", "project_country", "project_tag"):
        of_review[name] = t(name).c.project_id.in_(projects)
    for name in ("submission_change", "submission_comment", "submission_file"):
        of_review[name] = t(name).c.submission_id.in_(subs)
    for name in ("evidence_page", "evidence_passage", "evidence_item", "evidence_project_link"):
        of_review[name] = t(name).c.document_id.in_(docs)
    of_review["evidence_document_project"] = doc_project.c.document_id.in_(docs)
    for name in (
        "respondent",
        "rating_source",
        "rating",
        "report_section",
        "review_member",
        "coding_comparison",
        "tracking_recommendation",
        "tracking_lesson",
    ):
        of_review[name] = t(name).c.review_id == review_id
    audit = t("audit_event")
    of_review["audit_event"] = or_(
        *[
            and_(audit.c.entity == entity, audit.c.entity_id.in_(select(t(table).c.id).where(of_review[table])))
            for entity, table in AUDIT_ENTITIES.items()
        ]
    )
    events = select(audit.c.user_id).where(of_review["audit_event"], audit.c.user_id.is_not(None))
    members = select(t("review_member").c.user_id).where(t("review_member").c.review_id == review_id)
    of_review["user_account"] = t("user_account").c.id.in_(union(members, events))
    missing = {t.name for t in metadata.sorted_tables} - set(of_review) - LEFT_OUT
    assert not missing, f"tables without a rule for a review export: {sorted(missing)}"
    return of_review


def _info(table: Table) -> TableInfo:
    info = table_info(table)
    if table.name == "user_account":
        info.columns = [c for c in info.columns if c.name in USER_COLUMNS]
    if table.name == "media_blob":  # the content travels as a file of its own
        info.columns = [c for c in info.columns if c.name != "content"]
    return info


# --- export ----------------------------------------------------------------------------------------------------


def export_review(store: Store, name: str, path: Path) -> ExportResult:
    """Write review ``name`` to the zip ``path`` (see the module's docstring); one consistent state of the database
    is read while others keep writing."""
    revision = check_at_head(store)
    if path.exists() and path.is_dir():
        raise LmreviewError(f"{path} is a folder; name the export file")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    result = ExportResult(name, path)
    try:
        with (
            tempfile.TemporaryDirectory(prefix=".lmreview-export-", dir=path.parent) as folder,
            _snapshot(store, Path(folder)) as connection,
        ):
            review_id = connection.scalar(select(_t("review").c.id).where(_t("review").c.name == name))
            if review_id is None:
                raise NotFound(f"there is no review {name!r}")
            conditions = review_rows(review_id)
            infos: list[TableInfo] = []
            files: list[dict[str, Any]] = []
            with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
                for table in metadata.sorted_tables:
                    if table.name in LEFT_OUT:
                        continue
                    info = _info(table)
                    rows = read_rows(connection, table, info, conditions[table.name])
                    for _ in write_table(archive, len(infos) + 1, rows, info):
                        pass
                    infos.append(info)
                    result.table_rows[table.name] = info.rows
                    result.rows += info.rows
                blob = _t("media_blob")
                query = select(blob.c.sha256, blob.c.content).where(conditions["media_blob"])
                for sha, content in connection.execute(query.order_by(blob.c.sha256)):
                    archive.writestr(MEDIA + sha, bytes(content))
                    files.append({"sha256": sha, "file": MEDIA + sha, "size": len(content)})
                result.files = len(files)
                manifest = manifest_of(FORMAT, revision, connection, infos, review=name, files=files)
                archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return result


# --- import ----------------------------------------------------------------------------------------------------


def _bad(path: Path, message: str) -> BadInput:
    return BadInput([Problem(path.name, 0, "-", message)], message="this is not a usable review export")


def _existing(connection: Connection, column: Any, values: Iterable[Any]) -> set[Any]:
    found: set[Any] = set()
    wanted = sorted({v for v in values if v is not None}, key=str)
    for start in range(0, len(wanted), CHUNK):
        found.update(connection.scalars(select(column).where(column.in_(wanted[start : start + CHUNK]))))
    return found


class _Importer:
    def __init__(self, connection: Connection, archive: Archive, new_name: str | None, actor: str) -> None:
        self.connection = connection
        self.archive = archive
        self.new_name = new_name
        self.actor = actor
        self.ids: dict[str, dict[Any, Any]] = {}  # table → archive id → id here
        self.added: dict[str, set[Any]] = {}  # table → archive ids of rows added here
        self.postgres = connection.dialect.name == "postgresql"
        self.now = dt.datetime.now(dt.UTC)
        source = str(archive.manifest.get("review", ""))
        self.result = ImportResult(new_name or source, source)

    def bad(self, message: str) -> BadInput:
        return _bad(self.archive.path, message)

    def run(self) -> ImportResult:
        present = {info.name: (info, member) for info, member in self.archive.tables}
        unknown = sorted(set(present) - set(metadata.tables) | (set(present) & LEFT_OUT))
        if unknown:
            raise self.bad(f"tables that a review export does not hold: {', '.join(unknown)}")
        audit = _t("audit_event")  # last: its entity ids point at rows of every other table
        for table in [t for t in metadata.sorted_tables if t is not audit] + [audit]:
            if table.name in LEFT_OUT:
                continue
            if table.name not in present:
                raise self.bad(f"the table {table.name} is missing: the export is incomplete")
            info, member = present[table.name]
            expected = {c.name for c in _info(table).columns}
            if {c.name for c in info.columns} != expected:
                raise self.bad(f"the columns of {table.name} are not those of revision {self.archive.revision}")
            self.load(table, info, self.archive.rows(info, member))
        reviews = self.added.get("review", set())
        if len(reviews) != 1:
            raise self.bad(f"it holds {len(reviews)} reviews; a review export holds one")
        self.result.review_id = self.ids["review"][next(iter(reviews))]
        return self.result

    # one table
    def load(self, table: Table, info: TableInfo, rows: Iterator[list[Any]]) -> None:
        name = table.name
        ids = self.ids.setdefault(name, {})
        added = self.added.setdefault(name, set())
        key = next(iter(table.primary_key.columns)).name
        fks = {fk.parent.name: fk for fk in table.foreign_keys}
        selfref = [c for c, fk in fks.items() if fk.column.table.name == name]
        records = [dict(zip((c.name for c in info.columns), row, strict=True)) for row in rows]
        later: list[tuple[Any, dict[str, Any]]] = []
        pending: list[dict[str, Any]] = []
        for record in records:
            old = record[key]
            if self.remap(table, record, fks, selfref) is False:
                continue
            if name in OWNED_BY and record[OWNED_BY[name]] is not None:
                owner_table = fks[OWNED_BY[name]].column.table.name
                if record["__owner"] not in self.added.get(owner_table, set()):
                    continue  # the owner was found here: what it has stays as it is
            record.pop("__owner", None)
            pending.append(record | {"__old": old})
        self.match_or_add(table, info, pending, ids, added, later)
        for old, values in later:  # parents of the same table, now that every row has its id here
            self.connection.execute(update(table).where(table.c[key] == ids[old]).values(values))
        self.result.added[name] = len(added)
        self.result.reused[name] = len(ids) - len(added)

    def remap(self, table: Table, record: dict[str, Any], fks: dict[str, Any], selfref: list[str]) -> bool:
        """Point the foreign keys of ``record`` at the rows here; False when the row cannot come along."""
        name = table.name
        for column, fk in fks.items():
            value = record[column]
            if value is None or column in selfref:
                continue
            target = fk.column.table.name
            if column == OWNED_BY.get(name):
                record["__owner"] = value
            mapped = self.ids.get(target, {}).get(value)
            if mapped is None and target == "user_account" and name == "review_member":
                return False  # a member whose user this lmreview does not have
            if mapped is None and table.c[column].nullable:
                mapped = None
            elif mapped is None:
                raise self.bad(f"{name}.{column} = {value!r}: that row of {target} is not in the export")
            record[column] = mapped
        if name == "audit_event" and record["entity"] in AUDIT_ENTITIES and record["entity_id"] is not None:
            record["entity_id"] = self.ids.get(AUDIT_ENTITIES[record["entity"]], {}).get(record["entity_id"])
        return True

    def match_or_add(
        self,
        table: Table,
        info: TableInfo,
        pending: list[dict[str, Any]],
        ids: dict[Any, Any],
        added: set[Any],
        later: list[tuple[Any, dict[str, Any]]],
    ) -> None:
        name = table.name
        pk = next(iter(table.primary_key.columns))
        found: dict[tuple[Any, ...], Any] = {}
        keys = SHARED.get(name)
        if name == "coding_segment":  # codings of documents are shared; those of answers are the review's
            keys = ("guid",)
        if keys:
            first = table.c[keys[0]]
            for start in range(0, len(pending), CHUNK):
                values = {r[keys[0]] for r in pending[start : start + CHUNK]}
                query = select(pk, *[table.c[k] for k in keys]).where(first.in_(values))
                found.update({tuple(row[1:]): row[0] for row in self.connection.execute(query)})
        if name == "user_account":
            for record in pending:
                here = found.get((record["name"],))
                if here is None:
                    self.result.users_missing.append(record["name"])
                else:
                    ids[record["__old"]] = here
            return
        fresh = FRESH.get(name)
        taken = _existing(self.connection, table.c[fresh], (r[fresh] for r in pending)) if fresh else set()
        statement = self.insert_statement(table, info)
        auto = self._auto(table)
        selfref = self._selfref(table)
        for record in pending:
            old = record.pop("__old")
            if keys and not (name == "coding_segment" and record["submission_id"] is not None):
                here = found.get(tuple(record[k] for k in keys))
                if here is not None:
                    self.check_same(table, record, here)
                    ids[old] = here
                    continue
            if name == "review":
                self.rename(record)
            if fresh and record[fresh] in taken:
                self.renew(name, record, fresh)
            if name == "media_blob":
                record["content"] = self.media(record)
            parents = {c: record[c] for c in selfref if record[c] is not None}
            params = {f"p_{c.name}": record[c.name] for c in info.columns if not (auto and c.name == pk.name)}
            if name == "media_blob":
                params["p_content"] = record["content"]
            params.update({f"p_{c}": None for c in parents})
            new_id = self.connection.execute(statement, params).scalar_one()
            ids[old] = new_id
            added.add(old)
            if parents:
                later.append((old, {c: ids.get(v) for c, v in parents.items()}))

    @staticmethod
    def _auto(table: Table) -> bool:
        """Whether the table numbers its rows itself (an ``id``); country and media_blob are keyed by a value."""
        return next(iter(table.primary_key.columns)).name == "id"

    @staticmethod
    def _selfref(table: Table) -> set[str]:
        return {fk.parent.name for fk in table.foreign_keys if fk.column.table.name == table.name}

    def insert_statement(self, table: Table, info: TableInfo) -> Any:
        key = next(iter(table.primary_key.columns)).name
        values: dict[str, Any] = {}
        columns: list[Column] = list(info.columns)
        if table.name == "media_blob":
            columns.append(Column("content", "bytes"))
        for col in columns:
            if col.name == key and self._auto(table):
                continue
            param = bindparam(f"p_{col.name}", type_=RAW_TYPES[col.kind])
            values[col.name] = (
                cast(param, table.c[col.name].type) if self.postgres and col.kind in ("json", "uuid") else param
            )
        return insert(table).values(values).returning(table.c[key])

    def check_same(self, table: Table, record: dict[str, Any], here: Any) -> None:
        if table.name == "form_version":
            sha = self.connection.scalar(select(table.c.sha256).where(table.c.id == here))
            if sha != record["sha256"]:
                raise Conflict(
                    f"questionnaire version {record['version']} here holds another file than the export's: "
                    "add the export's questionnaire under another name, or import into another lmreview"
                )

    def rename(self, record: dict[str, Any]) -> None:
        if self.new_name is not None:
            record["name"] = check_name(self.new_name)
        review = _t("review")
        if self.connection.scalar(select(review.c.id).where(review.c.name == record["name"])) is not None:
            raise Conflict(f"there is already a review {record['name']}; import it under another name (--as NAME)")
        self.result.review = record["name"]

    def renew(self, table: str, record: dict[str, Any], column: str) -> None:
        self.result.renewed[table] = self.result.renewed.get(table, 0) + 1
        if column == "instance_id":
            record[column] = f"uuid:{uuid.uuid4()}"
        elif column == "guid":
            record[column] = str(uuid.uuid4()).upper()
        else:  # a personal link this lmreview holds already: a new, unusable hash, and the link withdrawn
            record[column] = hashlib.sha256(secrets.token_bytes(32)).hexdigest()
            record["revoked_at" if table == "invitation" else "expires_at"] = self.now

    def media(self, record: dict[str, Any]) -> bytes:
        sha = record["sha256"]
        member = MEDIA + str(sha)
        try:
            info = self.archive.zip.getinfo(member)
        except KeyError:
            raise self.bad(f"the file {member} is missing") from None
        if info.file_size > MAX_MEDIA:
            raise self.bad(f"{member} is larger than {MAX_MEDIA // 1024 // 1024} MiB")
        content = self.archive.zip.read(member)
        if hashlib.sha256(content).hexdigest() != sha:
            raise self.bad(f"{member} does not hold the file of that SHA-256")
        return content


def import_review(
    session: Session, path: Path, *, new_name: str | None = None, actor: str, user: User | None = None
) -> ImportResult:
    """Import the review export ``path`` in ``session``'s transaction (any error: nothing is written once the
    caller rolls back); see the module's docstring. The import is in the audit log, and ``user`` (who imported it)
    becomes a manager of the review, as its creator would."""
    try:
        result = _import(session.connection(), path, new_name=new_name, actor=actor)
    except IntegrityError as exc:  # e.g. a recommendation of a document that another review here tracks
        detail = str(exc.orig).splitlines()[0][:200]
        raise Conflict(
            f"the review holds a record this lmreview has already ({detail}); import it into another lmreview"
        ) from None
    review = session.get(Review, result.review_id)
    assert review is not None
    decisions.refresh(session, Submission.review_id == review.id)
    audit_log.record(
        session,
        actor=actor,
        action="import",
        entity="review",
        entity_id=review.id,
        after={"file": path.name, "from_review": result.source_review, "added": result.as_json()["added"]},
        summary=f"imported review {review.name} from {path.name}",
    )
    access.make_manager(session, review, user, actor=actor)
    return result


def _import(connection: Connection, path: Path, *, new_name: str | None, actor: str) -> ImportResult:
    if new_name is not None:
        check_name(new_name)
    archive = open_archive(path, FORMAT)
    with archive.zip:
        head = head_revision()
        if archive.revision != head:
            raise _bad(
                path,
                f"it was exported at database revision {archive.revision}, this lmreview is at {head}: "
                "export it again with the same version of lmreview",
            )
        if not isinstance(archive.manifest.get("review"), str):
            raise _bad(path, f"{MANIFEST} names no review")
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        return _Importer(connection, archive, new_name, actor).run()
