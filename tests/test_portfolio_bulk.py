"""Tabular imports write in bulk: the same projects, countries, audit events and import report as the ORM path,
for a first import, an unchanged re-import and a re-import that changes, adds and case-folds; SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from lmreview.portfolio import bulk, importing, snapshot
from lmreview.portfolio.models import Portfolio, Project
from lmreview.store import Store
from lmreview.store.models import AuditEvent
from tests.conftest import SAMPLES


def run(store: Store, data: bytes, portfolio: str, *, in_bulk: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(importing, "BULK", in_bulk)
    with store.session() as session:
        report = importing.import_data(session, data, filename="file.csv", portfolio=portfolio, actor="cli:test")
        session.commit()
    return report


def report_of(report: Any) -> dict[str, Any]:
    return {
        "created": report.created,
        "updated": [(u.code, [(c.field, c.before, c.after) for c in u.changes]) for u in report.updated],
        "unchanged": report.unchanged,
        "not_in_file": report.not_in_file,
        "warnings": [str(w) for w in report.warnings],
    }


def stored(store: Store, portfolio: str) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    """Every project's snapshot, and every audit event (without ids and times), in a comparable order."""
    with store.session() as session:
        projects = session.scalars(
            select(Project).join(Project.portfolio).where(Portfolio.name == portfolio).order_by(Project.code)
        ).all()
        codes = {p.id: p.code for p in projects}
        snaps = [snapshot.of_project(p) for p in projects]
        events = [
            (e.actor, e.action, e.entity, codes.get(e.entity_id or 0), e.before, e.after, e.summary)
            for e in session.scalars(select(AuditEvent).where(AuditEvent.entity == "project").order_by(AuditEvent.id))
            if e.entity_id in codes
        ]
        return snaps, sorted(events, key=lambda e: (e[3], e[1], str(e[5])))


def changed_copy(data: bytes) -> bytes:
    """The sample with one title changed, one code in lower case, one row removed and one project added."""
    rows = list(csv.reader(io.StringIO(data.decode())))
    header, body = rows[0], rows[1:]
    body[0][header.index("title")] += " (revised)"
    body[1][0] = body[1][0].lower()
    body[2][header.index("region")] = body[2][header.index("region")].upper()
    del body[3]
    added = list(body[4])
    added[0], added[header.index("region")] = "LM.9999", "Oceania, new"
    body.append(added)
    out = io.StringIO()
    csv.writer(out).writerows([header, *body])
    return out.getvalue().encode()


@pytest.mark.parametrize("sample", ["lm2016.csv", "lm2022.csv"])
def test_bulk_import_equals_the_orm_path(store: Store, sample: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "BATCH", 7)  # batches written during the file and in several statements each
    data = (SAMPLES / sample).read_bytes()
    second = changed_copy(data)
    reports = {}
    for name, in_bulk in (("bulk", True), ("orm", False)):
        first = run(store, data, name, in_bulk=in_bulk, monkeypatch=monkeypatch)
        again = run(store, data, name, in_bulk=in_bulk, monkeypatch=monkeypatch)
        changed = run(store, second, name, in_bulk=in_bulk, monkeypatch=monkeypatch)
        reports[name] = [report_of(r) for r in (first, again, changed)]
    assert reports["bulk"] == reports["orm"]
    assert reports["bulk"][1]["created"] == []
    assert reports["bulk"][1]["updated"] == []
    assert len(reports["bulk"][1]["unchanged"]) == len(reports["bulk"][0]["created"])
    assert reports["bulk"][2]["created"] == ["LM.9999"]
    assert len(reports["bulk"][2]["updated"]) == 1
    assert stored(store, "bulk") == stored(store, "orm")


def test_an_unchanged_reimport_writes_no_event(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    data = (SAMPLES / "lm2016.csv").read_bytes()
    run(store, data, "p", in_bulk=True, monkeypatch=monkeypatch)
    with store.session() as session:
        before = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    run(store, data, "p", in_bulk=True, monkeypatch=monkeypatch)
    with store.session() as session:
        after = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    assert before == after


def test_bulk_rows_meet_the_flush_guard() -> None:
    """Rows written by Core get the checks every ORM flush makes (the parser refuses such values first)."""
    from lmreview.portfolio.bulk import _guarded
    from lmreview.store.base import UnstorableValue
    from lmreview.text import BadText

    table = Project.__table__
    _guarded(table, [{"code": "A.1", "title": "Fine", "status": "Completed", "budget_usd": Decimal("1.25")}])  # type: ignore[arg-type]
    with pytest.raises(UnstorableValue, match=r"project\.status"):
        _guarded(table, [{"status": "x" * 81}])  # type: ignore[arg-type]
    with pytest.raises(UnstorableValue, match=r"project\.budget_usd"):
        _guarded(table, [{"budget_usd": Decimal("1.125")}])  # type: ignore[arg-type]
    with pytest.raises(BadText):
        _guarded(table, [{"title": "fine"}, {"title": "bell\x07"}])  # type: ignore[arg-type]
    _guarded(table, [{"title": "two\nlines"}])  # type: ignore[arg-type]
    with pytest.raises(BadText, match="one-line"):
        _guarded(table, [{"code": "A.1"}, {"code": "A\tB"}])  # type: ignore[arg-type]


def hashes(store: Store, portfolio: str) -> dict[str, str | None]:
    with store.session() as session:
        rows = session.execute(
            select(Project.code, Project.import_hash).join(Project.portfolio).where(Portfolio.name == portfolio)
        )
        return dict(rows.all())


def test_an_unchanged_row_is_known_by_its_hash_until_the_project_changes(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-import compares only hashes for the rows whose projects are as their last row left them; a project
    changed since through the ORM (a category put by a reviewer, a title) is compared field by field, and what the
    file gives is set back, audited."""
    from lmreview.portfolio import categories, service

    data = (SAMPLES / "lm2016.csv").read_bytes()
    run(store, data, "p", in_bulk=True, monkeypatch=monkeypatch)
    first = hashes(store, "p")
    assert len(first) == 14
    assert all(first.values())
    assert len(set(first.values())) == 14
    with store.session() as session:
        categories.set_category(session, "p", "LM.0183", "Something else", actor="cli:test")
        project = session.scalars(select(Project).where(Project.code == "LM.0181")).one()
        original = project.title
        project.title = "Edited by hand"
        session.commit()
    assert hashes(store, "p")["LM.0181"] is None  # cleared by the changes
    assert hashes(store, "p")["LM.0183"] is None
    assert hashes(store, "p")["LM.0115"] == first["LM.0115"]
    with store.session() as session:  # a revision is no change of what the row gives
        service.add_revision(session, "p", "LM.0115", type="budget", date=None, reason=None, note="more", actor="t")
        session.commit()
    assert hashes(store, "p")["LM.0115"] == first["LM.0115"]

    calls: list[list[int]] = []
    compare = bulk.snapshots
    monkeypatch.setattr(bulk, "snapshots", lambda session, ids: calls.append(list(ids)) or compare(session, ids))
    again = run(store, data, "p", in_bulk=True, monkeypatch=monkeypatch)
    assert [(u.code, [c.field for c in u.changes]) for u in again.updated] == [("LM.0181", ["title"])]
    assert len(again.unchanged) == 13  # the file has no category column: LM.0183 keeps its category
    assert len(calls) == 1
    assert len(calls[0]) == 2
    with store.session() as session:
        assert session.scalar(select(Project.title).where(Project.code == "LM.0181")) == original
        assert session.scalar(select(AuditEvent.summary).order_by(AuditEvent.id.desc()).limit(1)) == (
            "changed title by importing file.csv"
        )
    assert hashes(store, "p") == first  # both are what their rows give again

    calls.clear()
    assert len(run(store, data, "p", in_bulk=True, monkeypatch=monkeypatch).unchanged) == 14
    assert calls == []


def test_rows_without_a_stored_hash_are_compared_then_keep_their_hash(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Projects stored before hashes (or by the ORM path) are compared field by field once; a row found unchanged
    keeps its hash without touching the project (no event, the same updated_at); another header is another hash."""
    data = (SAMPLES / "lm2016.csv").read_bytes()
    run(store, data, "p", in_bulk=False, monkeypatch=monkeypatch)
    assert set(hashes(store, "p").values()) == {None}
    with store.session() as session:
        stamps = dict(session.execute(select(Project.code, Project.updated_at)).all())
        last_event = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    report = run(store, data, "p", in_bulk=True, monkeypatch=monkeypatch)
    assert (len(report.unchanged), report.updated, report.created) == (14, [], [])
    stored_hashes = hashes(store, "p")
    assert all(stored_hashes.values())
    with store.session() as session:
        assert dict(session.execute(select(Project.code, Project.updated_at)).all()) == stamps
        assert session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) == last_event

    rows = list(csv.reader(io.StringIO(data.decode())))
    rows[0] = [h.upper() for h in rows[0]]  # the same columns, another header: compared, unchanged, new hashes
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    report = run(store, out.getvalue().encode(), "p", in_bulk=True, monkeypatch=monkeypatch)
    assert (len(report.unchanged), report.updated) == (14, [])
    assert not set(hashes(store, "p").values()) & set(stored_hashes.values())


def test_a_bad_row_after_good_ones_writes_nothing(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows are written as they are read; an error on a later row rolls all of them back, and every problem of the
    file is listed."""
    from lmreview.errors import BadInput

    monkeypatch.setattr(bulk, "BATCH", 3)
    rows = ["code,title,budget_usd"] + [f"A.{i},Project {i},{i * 100}" for i in range(10)]
    rows += ["A.10,Bad,EUR 5", "A.1,Again,5", "A.11,Also bad,-1"]
    with pytest.raises(BadInput) as caught:
        run(store, "\n".join(rows).encode(), "p", in_bulk=True, monkeypatch=monkeypatch)
    assert [(p.row, p.column) for p in caught.value.problems] == [(12, "budget_usd"), (13, "code"), (14, "budget_usd")]
    assert hashes(store, "p") == {}
    with store.session() as session:
        assert session.scalar(select(Portfolio.id).where(Portfolio.name == "p")) is None
