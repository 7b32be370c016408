"""The rows of new projects read straight into what the store writes (portfolio/newrows.py) give exactly what the
general path (a record per row, its snapshot, its conversion) gives: the same stored values as the database holds
them, the same audit snapshots as JSON text, the same report, on SQLite and PostgreSQL. Rows with something to say
(warnings, errors) are read by the general path, with the same messages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from lmreview.errors import BadInput
from lmreview.portfolio import bulk, importing
from lmreview.portfolio.newrows import NewRows
from lmreview.store import Store
from tests.conftest import SAMPLES

MIXED = "\n".join(
    [
        "Code,Title,Funding year,Fund line,Budget USD,Countries,Region,Category,Objective,Start date,End date,"
        "Planned months,NCE months,Status,Donor,Notes",
        'A.1,First,2016,1,"USD 280,000",Kenya; Viet Nam,Africa,Cat 1,"Two\nlines",2016-06-01,2018-01-28,12,0,'
        "Completed,EU,",
        "A.2,Second,,,,,,,,,,,,,,",
        'A.3,"Third, with ""quotes"" and é",2017,2,70000.5,Atlantis; Kenya,AFRICA,cat 1,,2017-01-01,,6.5,1,,,note',
        "a.4,Fourth,2018,1,$1.25,Nepal,Asia and Oceania,Cat 2,,,2019-12-31,24,,Ongoing,UN,x",
        "A.5,Fifth,2016,1,USD 280000,Kenya; Viet Nam,Africa,Cat 1,,2016-06-01,2018-01-28,12,0,Completed,EU,",
    ]
)


def _import(store: Store, data: bytes, portfolio: str, filename: str = "file.csv") -> Any:
    with store.session() as session:
        report = importing.import_data(session, data, filename=filename, portfolio=portfolio, actor="cli:test")
        session.commit()
    return report


def _as_stored(store: Store, portfolio: str) -> dict[str, Any]:
    """The rows of the portfolio's projects, countries and events as the database holds them (JSON as text, dates
    and amounts in their stored form), without ids and times."""
    with store.engine.connect() as connection:
        pid = connection.execute(text("SELECT id FROM portfolio WHERE name = :n"), {"n": portfolio}).scalar_one()
        projects = connection.execute(
            text(
                "SELECT p.code, p.title, p.funding_year, p.fund_line, p.budget_usd, p.currency, r.name, c.name,"
                " p.objective, CAST(p.start_date AS TEXT), CAST(p.end_date AS TEXT), p.planned_start,"
                " p.planned_end, p.planned_months, p.nce_months, p.status, p.iati_identifier,"
                " CAST(p.extra AS TEXT), p.import_hash"
                " FROM project p LEFT JOIN region r ON r.id = p.region_id LEFT JOIN category c ON c.id = p.category_id"
                " WHERE p.portfolio_id = :p ORDER BY p.id"
            ),
            {"p": pid},
        ).all()
        countries = connection.execute(
            text(
                "SELECT p.code, pc.position, pc.name, pc.iso3, pc.percentage FROM project_country pc"
                " JOIN project p ON p.id = pc.project_id WHERE p.portfolio_id = :p ORDER BY pc.id"
            ),
            {"p": pid},
        ).all()
        events = connection.execute(
            text(
                'SELECT p.code, e.actor, e.user_id, e.action, e.entity, e.summary, CAST(e."before" AS TEXT),'
                ' e."before" IS NULL, CAST(e."after" AS TEXT), e.import_batch_id IS NOT NULL'
                " FROM audit_event e JOIN project p ON p.id = e.entity_id"
                " WHERE e.entity = 'project' AND p.portfolio_id = :p ORDER BY e.id"
            ),
            {"p": pid},
        ).all()
    return {"projects": projects, "countries": countries, "events": events}


def _report(report: Any) -> dict[str, Any]:
    return {
        "created": report.created,
        "updated": [(u.code, [(c.field, c.before, c.after) for c in u.changes]) for u in report.updated],
        "unchanged": report.unchanged,
        "warnings": [str(w) for w in report.warnings],
    }


def _both_ways(store: Store, data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any, int]:
    """Import ``data`` with the rows of new projects taken by NewRows (counted) and with every row read by the
    general path, into two portfolios; their reports and stored rows."""
    taken = 0
    take = NewRows.take

    def counted(self: NewRows, number: int, cells: list[str], digest: str) -> Any:
        nonlocal taken
        found = take(self, number, cells, digest)
        taken += found is not None
        return found

    monkeypatch.setattr(NewRows, "take", counted)
    fast = _report(_import(store, data, "fast"))
    monkeypatch.setattr(NewRows, "take", lambda *args: None)
    general = _report(_import(store, data, "general"))
    return (fast, _as_stored(store, "fast")), (general, _as_stored(store, "general")), taken


@pytest.mark.parametrize("sample", ["lm2016.csv", "lm2022.csv", "mixed"])
def test_new_rows_are_stored_as_the_general_path_stores_them(
    store: Store, sample: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "BATCH", 2)  # several batches, rows of both kinds in one batch
    data = MIXED.encode() if sample == "mixed" else (SAMPLES / sample).read_bytes()
    fast, general, taken = _both_ways(store, data, monkeypatch)
    assert taken > 0
    assert fast[0] == general[0]
    assert fast[1] == general[1]
    events = fast[1]["events"]
    assert len(events) == len(fast[0]["created"])
    for event in events:  # the snapshot text is what json.dumps gives for it, and "before" a JSON null
        assert event[8] == json.dumps(json.loads(event[8]))
        assert event[6] in ("null", None)
        assert event[6] == general[1]["events"][0][6]
    if sample == "mixed":
        assert taken == 4  # A.3 names an unknown country, a warning: the general path reads that row
        assert fast[0]["warnings"] == [  # row 5 of the file: A.1's objective has two lines
            'file.csv:5:Countries: warning: "Atlantis" is not a country lmreview knows; kept as written'
        ]
        assert fast[0]["created"] == ["A.1", "A.2", "A.3", "a.4", "A.5"]


def test_a_file_with_problems_is_refused_with_every_problem(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows before, between and after bad rows: nothing is written, each problem named by row and column, as the
    general path names them."""
    rows = [
        "code,title,budget_usd,start_date,end_date,countries",
        "B.1,Good,100,2016-01-01,2017-01-01,Kenya",
        "B.2,Late end,100,2016-01-01,2015-01-01,Kenya",
        "B.3,Good too,100,,,Kenya",
        "b.1,Same code,100,,,",
        "B.4,,EUR 5,,,",
        "B.5,Good again,100,,,Kenya",
    ]
    found = []
    for _ in ("fast", "general"):
        with pytest.raises(BadInput) as caught:
            _import(store, "\n".join(rows).encode(), "p")
        found.append([str(p) for p in caught.value.problems])
        monkeypatch.setattr(NewRows, "take", lambda *args: None)
    assert found[0] == found[1]
    assert found[0][:2] == [
        "file.csv:3:end_date: the end date 2015-01-01 is before the start date 2016-01-01",
        'file.csv:5:code: "b.1" is already on row 2; codes must be unique',
    ]
    assert [p.split(":")[1:3] for p in found[0][2:]] == [["6", "budget_usd"], ["6", "title"]]
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM project")).scalar_one() == 0
        assert connection.execute(text("SELECT count(*) FROM portfolio")).scalar_one() == 0


def test_new_rows_and_the_reimport(store: Store) -> None:
    """Projects created here are unchanged by the same file again (by their hash) and compared field by field
    once changed by hand: the stored hash is the general path's."""
    data = MIXED.encode()
    _import(store, data, "p")
    again = _import(store, data, "p")
    assert (again.created, again.updated, len(again.unchanged)) == ([], [], 5)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE project SET import_hash = NULL"))
    again = _import(store, data, "p")
    assert (again.created, again.updated, len(again.unchanged)) == ([], [], 5)
