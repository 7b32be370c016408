"""What the form engine decides for each submitted submission, stored so that tabulation reads it with SQL instead of
evaluating every submission again.

For every question of every repeat instance of a submitted submission, ``submission_decision`` holds one row: the
question's path, the instance path, its state (``not_relevant``, ``skipped`` or ``answered``) and the value (empty
unless answered; a calculation's computed value). An answered select also gets one ``chosen`` row per option it
chose (each option once per instance), so that counting the options is a ``GROUP BY``. ``answer_state`` says what the
rows were decided from: the form version, the submission's last change, a digest of its answers and the day.

The rows are written whenever a submission is flushed through the ORM with new answers, a new form version or a new
status (the web form, the imports, reviewers' corrections: every write path goes through :func:`_decide_on_flush`), and
deleted with the submission (``ON DELETE CASCADE``) or when it is a draft again. Migration 0015 fills them for the
submissions stored before it; :func:`refresh` fills them after a bulk insert that bypasses the ORM.

A reader trusts the rows only when :func:`fresh_ids` says they still match the submission (same version, same last
change or same answers, and, for a form version whose relevance or calculations read ``today()`` or ``now()``, the
same day); any other submission is evaluated by the engine, as before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    bindparam,
    delete,
    event,
    func,
    insert,
    inspect,
    literal_column,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from lmreview.questionnaire.models import FormVersion, Submission
from lmreview.store.base import Base, utcnow

if TYPE_CHECKING:
    from lmreview.questionnaire.xlsform import FormDefinition

# The form engine, the form parser and PostgreSQL's dialect are imported where they are used: this module's tables
# are loaded by every command (store/registry.py), most of which never decide a submission (`stats`: 10% of its run).

STATES = ("not_relevant", "skipped", "answered")
CHOSEN = "chosen"  # one row per option an answered select chose
SELECTS = ("select_one", "select_multiple")
_CHUNK = 5_000  # ids in one IN list (SQLite takes 32,766 parameters, PostgreSQL 65,535)


class AnswerState(Base):
    """What the decisions of one submission were computed from."""

    __tablename__ = "answer_state"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), primary_key=True)
    form_version_id: Mapped[int] = mapped_column(Integer)
    stamp: Mapped[str] = mapped_column(String(40))  # the submission's updated_at, in UTC, as text
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of its answers (canonical JSON)
    decided_on: Mapped[dt.date] = mapped_column(Date)
    volatile: Mapped[bool] = mapped_column(Boolean)  # its version's relevance or calculations read the day


class SubmissionDecision(Base):
    """One question in one place of a submission, as the form engine decided it."""

    __tablename__ = "submission_decision"
    __table_args__ = (Index("ix_submission_decision_question", "question_path", "submission_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    question_path: Mapped[str] = mapped_column(Text)
    instance_path: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)  # form order within the submission
    state: Mapped[str] = mapped_column(String(12))  # not_relevant | skipped | answered | chosen
    value: Mapped[str] = mapped_column(Text)


# --- what is decided -------------------------------------------------------------------------------------------------


def stamp_of(when: dt.datetime | None) -> str:
    """A moment as the same text whichever database gave it back (UTC, no zone, microseconds)."""
    if when is None:
        return ""
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when.isoformat(sep=" ", timespec="microseconds")


def digest_of(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def volatile(definition: FormDefinition) -> bool:
    """Whether a relevance, calculation or repeat count of the form reads the day (its decisions age)."""
    for q in definition.walk():
        for text in (q.relevant, q.calculation, q.repeat_count):
            if text and ("today(" in text or "now(" in text):
                return True
    return False


Decided = list[tuple[str, str, str, str]]  # (question path, instance path, state, value), form order


def decide(definition: FormDefinition, data: dict[str, Any], today: dt.date) -> Decided:
    """What the form engine decides for every question of one submission, in the few strings tabulation reads."""
    from lmreview.questionnaire import engine

    evaluation = engine.evaluate(definition, data, today=today, judge=False)
    found: Decided = []
    for f in evaluation.fields.values():
        value = f.value.strip()
        state = "not_relevant" if not f.relevant else ("answered" if value else "skipped")
        found.append((f.question.path, f.path, state, value if state == "answered" else ""))
        if state == "answered" and f.question.type in SELECTS:
            options = value.split() if f.question.type == "select_multiple" else [value]
            found += [(f.question.path, f.path, CHOSEN, option) for option in dict.fromkeys(options)]
    return found


def among(column: Any, ids: Sequence[int], dialect: str) -> Any:
    """``column IN ids`` as one bound parameter (a JSON array read by SQLite's ``json_each``, a PostgreSQL array),
    instead of one parameter per id, which SQLAlchemy renders anew for every statement (thousands of ids, dozens of
    questions on a page)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == func.any(bindparam(None, list(ids), type_=ARRAY(Integer)))
    if dialect != "sqlite":
        return column.in_(list(ids))
    listed = bindparam(None, json.dumps(list(ids)), type_=Text)
    return column.in_(select(literal_column("value")).select_from(func.json_each(listed)))


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def store(
    connection: Connection,
    submissions: Iterable[tuple[int, int, dt.datetime | None, dict[str, Any]]],
    definitions: dict[int, FormDefinition],
    today: dt.date | None = None,
) -> int:
    """Decide and write the rows of ``submissions`` (id, form version id, updated_at, answers), replacing what they
    had; ``definitions`` by form version id. Returns how many submissions were decided."""
    day = today or dt.date.today()
    batch = list(submissions)
    ids = [s[0] for s in batch]
    for part in _chunks(ids):
        connection.execute(delete(SubmissionDecision).where(SubmissionDecision.submission_id.in_(part)))
        connection.execute(delete(AnswerState).where(AnswerState.submission_id.in_(part)))
    states, rows = [], []
    moving = {id_: volatile(d) for id_, d in definitions.items()}
    for submission_id, version_id, updated_at, data in batch:
        decided = decide(definitions[version_id], data, day)
        states.append(
            {
                "submission_id": submission_id,
                "form_version_id": version_id,
                "stamp": stamp_of(updated_at),
                "digest": digest_of(data),
                "decided_on": day,
                "volatile": moving[version_id],
            }
        )
        rows += [(submission_id, q, i, n, s, v) for n, (q, i, s, v) in enumerate(decided)]
        if len(rows) > 20_000:
            _insert_rows(connection, rows)
            rows = []
    if states:
        connection.execute(insert(AnswerState), states)
    _insert_rows(connection, rows)
    return len(batch)


_COLUMNS = ("submission_id", "question_path", "instance_path", "position", "state", "value")


def _insert_rows(connection: Connection, rows: list[tuple[int, str, str, int, str, str]]) -> None:
    """The decision rows by the driver's own executemany: about a hundred a submission, and SQLAlchemy's processing
    of each row's parameters cost more than the database's insert (the values are plain strings and integers, read
    from answers the store already holds)."""
    if not rows:
        return
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    statement = f"INSERT INTO submission_decision ({', '.join(_COLUMNS)}) VALUES ({', '.join([mark] * len(_COLUMNS))})"
    connection.exec_driver_sql(statement, rows)


def definitions_of(connection: Connection, version_ids: Iterable[int]) -> dict[int, FormDefinition]:
    wanted = sorted(set(version_ids))
    if not wanted:
        return {}
    query = select(FormVersion.id, FormVersion.definition).where(FormVersion.id.in_(wanted))
    from lmreview.questionnaire.xlsform import FormDefinition

    return {id_: FormDefinition.from_json(data) for id_, data in connection.execute(query).all()}


def refresh(session: Session, where: Any = None) -> int:
    """Decide again every submitted submission (or those matching ``where``) whose rows are missing or stale: after a
    bulk insert that bypassed the ORM, or to fill a database. Returns how many were decided."""
    connection = session.connection()
    query = select(Submission.id).where(Submission.status == "submitted")
    if where is not None:
        query = query.where(where)
    ids = list(connection.scalars(query.order_by(Submission.id)))
    stale = sorted(set(ids) - fresh_ids(connection, ids))
    decided = 0
    for part in _chunks(stale):
        rows = connection.execute(
            select(Submission.id, Submission.form_version_id, Submission.updated_at, Submission.data).where(
                Submission.id.in_(part)
            )
        ).all()
        definitions = definitions_of(connection, {r[1] for r in rows})
        decided += store(connection, [(r[0], r[1], r[2], r[3]) for r in rows], definitions)
    return decided


def _stamp_sql(dialect: str) -> Any:
    """The submission's ``updated_at`` as :func:`stamp_of` writes it, computed by the database (None: not known)."""
    if dialect == "sqlite":  # SQLAlchemy stores the moment as this very text (UTC, no zone, microseconds)
        return Submission.updated_at
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", Submission.updated_at), "YYYY-MM-DD HH24:MI:SS.US")
    return None


def fresh_ids(connection: Connection, ids: Sequence[int]) -> set[int]:
    """The submissions among ``ids`` whose stored decisions still hold: decided with their form version, from their
    last change (or, when only the time differs, from the same answers), and on the same day when the version's
    decisions depend on it.

    One query asks the database which of them it cannot vouch for (no state, another version, another last change
    written the same way, or an aged day): usually none, and only those are read and checked here, row by row."""
    if not ids:
        return set()
    stamp = _stamp_sql(connection.dialect.name)
    if stamp is None:
        return _fresh_checked(connection, ids)
    today = dt.date.today()
    matching = (
        (AnswerState.submission_id == Submission.id)
        & (AnswerState.form_version_id == Submission.form_version_id)
        & (AnswerState.stamp == stamp)
        & (AnswerState.volatile.is_(False) | (AnswerState.decided_on == today))
    )
    doubtful = (
        select(Submission.id)
        .outerjoin(AnswerState, matching)
        .where(among(Submission.id, ids, connection.dialect.name))
        .where((Submission.status != "submitted") | AnswerState.submission_id.is_(None))
    )
    unsure = list(connection.scalars(doubtful))
    fresh = set(ids) - set(unsure)
    if unsure:
        fresh |= _fresh_checked(connection, unsure)
    return fresh


def _fresh_checked(connection: Connection, ids: Sequence[int]) -> set[int]:
    """:func:`fresh_ids` computed here: every row's state read and compared."""
    today = dt.date.today()
    fresh: set[int] = set()
    unsure: list[int] = []
    digests: dict[int, str] = {}
    query = (
        select(
            Submission.id,
            Submission.updated_at,
            AnswerState.stamp,
            AnswerState.digest,
            AnswerState.decided_on,
            AnswerState.volatile,
        )
        .join(AnswerState, AnswerState.submission_id == Submission.id)
        .where(among(Submission.id, ids, connection.dialect.name), Submission.status == "submitted")
        .where(AnswerState.form_version_id == Submission.form_version_id)
    )
    for id_, updated_at, stamp, digest, decided_on, moving in connection.execute(query) if ids else []:
        if moving and decided_on != today:
            continue
        if stamp == stamp_of(updated_at):
            fresh.add(id_)
        else:
            unsure.append(id_)
            digests[id_] = digest
    if unsure:
        for part in _chunks(unsure):
            answers = select(Submission.id, Submission.data).where(Submission.id.in_(part))
            fresh |= {id_ for id_, data in connection.execute(answers) if digest_of(data) == digests[id_]}
    return fresh


# --- kept in step with every ORM write -------------------------------------------------------------------------------

_PENDING = "lmreview.decisions.pending"
_WATCHED = ("data", "form_version_id", "status")


def _changed(submission: Submission) -> bool:
    state = inspect(submission)
    return any(state.attrs[name].history.has_changes() for name in _WATCHED)


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _context: Any, _instances: Any) -> None:
    """Note the submissions whose decisions this flush changes; give them their new last-change time now, so the
    stamp written after the flush is the time stored."""
    pending: list[Submission] = session.info.setdefault(_PENDING, [])
    for obj in session.new:
        if isinstance(obj, Submission):
            if obj.updated_at is None:
                obj.updated_at = utcnow()
            pending.append(obj)
    for obj in session.dirty:
        if isinstance(obj, Submission) and _changed(obj):
            obj.updated_at = utcnow()
            pending.append(obj)


@event.listens_for(Session, "after_flush")
def _decide_on_flush(session: Session, _context: Any) -> None:
    pending: list[Submission] = session.info.pop(_PENDING, [])
    if not pending:
        return
    deleted = {id(o) for o in session.deleted}
    kept = {s.id: s for s in pending if id(s) not in deleted and s.id is not None}
    if not kept:
        return
    connection = session.connection()
    submitted = [s for s in kept.values() if s.status == "submitted"]
    drafts = [i for i, s in kept.items() if s.status != "submitted"]
    for part in _chunks(drafts):
        connection.execute(delete(SubmissionDecision).where(SubmissionDecision.submission_id.in_(part)))
        connection.execute(delete(AnswerState).where(AnswerState.submission_id.in_(part)))
    if submitted:
        definitions = definitions_of(connection, {s.form_version_id for s in submitted})
        store(connection, [(s.id, s.form_version_id, s.updated_at, s.data) for s in submitted], definitions)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
