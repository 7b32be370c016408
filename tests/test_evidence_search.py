"""Searching the evidence library through the CLI: ranking (the same order on SQLite and PostgreSQL), phrases,
prefixes, AND/OR/NOT, filters, queries that are no queries, and editing a document's metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from lmreview.store import Store
from lmreview.store.models import AuditEvent
from tests.conftest import Cli

ILO = """Fair recruitment in the Gulf corridor

Commissioned by: ILO
Evaluation type: final
Final report date: June 2018

Findings

Recruitment fees charged to migrant workers remain high. Recruitment fees must be abolished, and recruitment
agencies accepted the zero-fee principle.

Project GLO/06/57/UKM financed the work of the corridor.
"""
IOM = """Labour mobility in West Africa

Commissioned by: IOM
Final report date: 2021

Context

The project worked with ministries of labour, employers, trade unions, training centres, municipal offices,
diaspora associations, returnee networks, media houses and universities across four countries, and also looked at
recruitment along the way, while most of the effort went to skills, certification, job matching and referrals.

Project LM.0181 was the subject of this report. Visa fees were waived for seasonal workers.
"""
BRIEF = """Brief on migrant domestic workers

Commissioned by: IOM
Final report date: 2023

A telephone hotline for migrant domestic workers answered questions on contracts and wages.
"""


@pytest.fixture
def library(cli: Cli, tmp_path: Path) -> dict[str, int]:
    """Three documents; returns their ids by file name."""
    for name, text in (("ilo.txt", ILO), ("iom.txt", IOM), ("brief.md", BRIEF)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    run = cli("evidence", "add", str(tmp_path), "--jobs", "1")
    assert run.exit_code == 0, run.stderr
    return {d["file"]: d["id"] for d in json.loads(cli("evidence", "list", "--json").stdout)}


def hits(cli: Cli, *args: str) -> list[dict[str, object]]:
    run = cli("evidence", "search", *args, "--json")
    assert run.exit_code == 0, run.stderr
    found: list[dict[str, object]] = json.loads(run.stdout)
    return found


def test_metadata_from_the_header_lines(cli: Cli, library: dict[str, int]) -> None:
    documents = {d["file"]: d for d in json.loads(cli("evidence", "list", "--json").stdout)}
    assert {k: (d["organisation"], d["year"], d["project_codes"]) for k, d in documents.items()} == {
        "brief.md": ("IOM", 2023, []),
        "ilo.txt": ("ILO", 2018, ["GLO/06/57/UKM"]),
        "iom.txt": ("IOM", 2021, ["LM.0181"]),
    }
    assert documents["ilo.txt"]["title"] == "Fair recruitment in the Gulf corridor"


def test_ranking_is_the_same_on_both_databases(cli: Cli, library: dict[str, int]) -> None:
    found = hits(cli, "recruitment")
    # three mentions in a short paragraph rank above the title's one, above one mention in a long paragraph
    assert [(h["document"], str(h["snippet"]).split()[:3]) for h in found[:2]] == [
        (library["ilo.txt"], ["**Recruitment**", "fees", "charged"]),
        (library["ilo.txt"], ["Fair", "**recruitment**", "in"]),
    ][:2]
    assert found[2]["document"] == library["iom.txt"]
    assert "**recruitment** along the way" in str(found[2]["snippet"])  # a long passage is shown as a snippet
    assert [h["section"] for h in found] == ["Findings", "Fair recruitment in the Gulf corridor", "Context"]
    scores = [float(str(h["score"])) for h in found]
    assert scores == sorted(scores, reverse=True)
    assert scores[-1] > 0
    assert set(found[0]) == {"document", "title", "page", "section", "snippet", "score", "passage"}


def test_phrases_prefixes_and_operators(cli: Cli, library: dict[str, int]) -> None:
    assert len(hits(cli, '"recruitment fees"')) == 1
    assert len(hits(cli, '"fees recruitment"')) == 0
    assert [h["document"] for h in hits(cli, "recruit*")] == [library["ilo.txt"]] * 2 + [library["iom.txt"]]
    assert [h["document"] for h in hits(cli, "fees")] == [library["ilo.txt"], library["iom.txt"]]
    assert [h["document"] for h in hits(cli, "fees NOT visa")] == [library["ilo.txt"]]
    assert [h["document"] for h in hits(cli, "fees -visa")] == [library["ilo.txt"]]
    assert {h["document"] for h in hits(cli, "hotline OR visa")} == {library["brief.md"], library["iom.txt"]}
    assert len(hits(cli, "hotline AND visa")) == 0
    assert len(hits(cli, "domestic hotline")) == 1  # words side by side mean AND


ODD_QUERIES = [
    "*",
    '"',
    "AND",
    "OR OR",
    "((",
    "-",
    ":",
    "NEAR(",
    "^",
    "'",
    '"unclosed phrase',
    "a:b c*d",
    "NOT",
    "fee)",
]


def test_odd_queries_never_fail_the_database(cli: Cli, library: dict[str, int]) -> None:
    for query in ODD_QUERIES:
        run = cli("evidence", "search", query, "--json")
        if run.exit_code == 0:
            assert isinstance(json.loads(run.stdout), list), query
        else:
            assert run.exit_code == 2, query
            assert run.stderr.startswith("error: "), query
            assert len(run.stderr.strip().splitlines()) == 1, query
    assert len(hits(cli, '"unclosed phrase')) == 0
    assert len(hits(cli, "fee)")) == 2


def test_only_negative_words_is_explained(cli: Cli, library: dict[str, int]) -> None:
    run = cli("evidence", "search", "NOT visa")
    assert run.exit_code == 2
    assert "NOT needs a word to search for beside the words it excludes" in run.stderr


def test_filters(cli: Cli, library: dict[str, int]) -> None:
    assert {h["document"] for h in hits(cli, "workers", "--organisation", "iom")} == {
        library["iom.txt"],
        library["brief.md"],
    }
    assert {h["document"] for h in hits(cli, "workers", "--year-from", "2019", "--year-to", "2021")} == {
        library["iom.txt"]
    }
    assert {h["document"] for h in hits(cli, "workers", "--project", "GLO/06/57/UKM")} == {library["ilo.txt"]}
    assert hits(cli, "workers", "--kind", "list_item") == []
    assert [h["section"] for h in hits(cli, "workers", "--kind", "heading")] == ["Brief on migrant domestic workers"]
    assert len(hits(cli, "workers", "--limit", "1")) == 1
    text = cli("evidence", "search", "hotline")
    assert text.exit_code == 0
    assert "1 passage matches; the best 1:" in text.stdout
    assert "Brief on migrant domestic workers — p. 1" in text.stdout


def test_set_metadata_is_audited_and_checked(cli: Cli, store: Store, library: dict[str, int]) -> None:
    document = str(library["brief.md"])
    run = cli("evidence", "set", document, "--type", "evaluation_brief", "--year", "2022", "--projects", "LM.0200")
    assert run.exit_code == 0, run.stderr
    assert "(evaluation_brief, 2022)" in run.stdout
    assert {h["document"] for h in hits(cli, "hotline", "--type", "evaluation_brief", "--project", "LM.0200")} == {
        library["brief.md"]
    }
    with store.session() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "evidence_document", AuditEvent.action == "update")
        ).one()
        assert event.actor == "tester"
        assert event.before is not None
        assert event.after is not None
        assert (event.before["year"], event.after["year"]) == (2023, 2022)
        assert event.after["project_codes"] == ["LM.0200"]
    bad = cli("evidence", "set", document, "--type", "novel", "--year", "twenty")
    assert bad.exit_code == 2
    assert "type: unknown document type 'novel'" in bad.stderr
    assert "year: 'twenty' is not a year" in bad.stderr
    assert cli("evidence", "set", "99999", "--year", "2020").stderr.startswith("error: there is no document 99999")
    assert cli("evidence", "set", document).exit_code == 2
    wrong_type = cli("evidence", "add", ".", "--type", "novel")
    assert wrong_type.exit_code == 2
    assert wrong_type.stderr.startswith("error: --type: unknown document type 'novel': evaluation_report, final_report")


def test_codes_accents_and_stop_words_alike_on_both_databases(
    cli: Cli, library: dict[str, int], tmp_path: Path
) -> None:
    (tmp_path / "cafe.txt").write_text(
        "Returnee enterprises\n\nA café run by returnees in Dakar hired six apprentices under project LM.0301.\n",
        encoding="utf-8",
    )
    assert cli("evidence", "add", str(tmp_path / "cafe.txt")).exit_code == 0
    cafe = json.loads(cli("evidence", "list", "--json").stdout)[-1]["id"]
    for code in ("LM.0301", "lm.0301", '"LM.0301"'):
        assert [h["document"] for h in hits(cli, code)] == [cafe], code
    assert [h["document"] for h in hits(cli, "LM.0181")] == [library["iom.txt"]]
    for word in ("cafe", "café", "CAFÉ", "cafe*"):
        found = hits(cli, word)
        assert [h["document"] for h in found] == [cafe], word
        assert "A **café** run by returnees" in str(found[0]["snippet"]), word  # the passage's own letters marked
    assert hits(cli, "the hotline") == hits(cli, "hotline")
    assert len(hits(cli, '"hotline for migrant"')) == 1
    assert len(hits(cli, "hotline OR the")) == 1
    only = cli("evidence", "search", "the")
    assert only.exit_code == 2
    assert only.stderr.strip() == "error: the query 'the' has only common words (the), which are not searched"


def test_a_title_line_keeps_no_label(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "passports.txt").write_text(
        "Title: Skills passports for returnees\n\nThe scheme issued passports to workers returning from the Gulf.\n",
        encoding="utf-8",
    )
    assert cli("evidence", "add", str(tmp_path / "passports.txt")).exit_code == 0
    [document] = json.loads(cli("evidence", "list", "--json").stdout)
    assert document["title"] == "Skills passports for returnees"


def test_a_word_most_passages_hold_is_counted_and_ranked_up_to_the_cap(
    cli: Cli, library: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the cap, the total reads "N or more" and the best hits are those of the most recently added matches:
    the work of a query stays bounded on a large library. Under the cap, nothing changes."""
    from lmreview.evidence import search

    exact = json.loads(cli("evidence", "search", "workers OR recruitment", "--json").stdout)
    assert len(exact) == 6
    monkeypatch.setattr(search, "CAP", 2)
    run = cli("evidence", "search", "workers OR recruitment")
    assert run.exit_code == 0, run.stderr
    assert "2 or more passages match; the best 2 of the 2 most recently added (add a word or a filter" in run.stdout
    capped = json.loads(cli("evidence", "search", "workers OR recruitment", "--json").stdout)
    newest = sorted((h["passage"] for h in exact), reverse=True)[:2]
    assert [h["passage"] for h in capped] == [h["passage"] for h in exact if h["passage"] in newest]
    assert cli("evidence", "search", "hotline").stdout.startswith("1 passage matches; the best 1:")


def test_a_long_passage_is_marked_with_its_own_letters(cli: Cli, tmp_path: Path) -> None:
    filler = "The cooperative kept its accounts in order and reported to the municipality every month. " * 6
    (tmp_path / "long.txt").write_text(
        f"Enterprises\n\n{filler}Its café in Thiès hired six apprentices. {filler}\n", encoding="utf-8"
    )
    assert cli("evidence", "add", str(tmp_path / "long.txt")).exit_code == 0
    snippet = str(hits(cli, "cafe thies")[0]["snippet"])
    assert "**café** in **Thiès**" in snippet
    assert len(snippet) < 400  # an extract, not the whole passage


@pytest.mark.postgres
def test_postgres_search_uses_the_full_text_index(cli: Cli, store: Store, library: dict[str, int]) -> None:
    """The GIN index is on the accent-folded text that search matches, so the planner can use it."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("the plan of PostgreSQL's search")
    from sqlalchemy import text

    from lmreview.evidence.index import PG_INDEX
    from lmreview.evidence.search import PG_TEXT

    with store.engine.begin() as connection:
        connection.execute(text("SET LOCAL enable_seqscan = off"))  # three documents: a scan would be cheaper
        plan = connection.execute(
            text(
                "EXPLAIN SELECT p.id FROM evidence_passage p "
                f"WHERE to_tsvector('english', {PG_TEXT}) @@ to_tsquery('english', 'recruitment')"
            )
        ).scalars()
        assert any(PG_INDEX in line for line in plan)


def test_a_rarer_word_weighs_more_than_a_common_one(cli: Cli, library: dict[str, int]) -> None:
    """Each term weighs by how few passages hold it: the one passage with "hotline" ranks above the paragraph that
    says "recruitment" three times, on both databases."""
    found = hits(cli, "recruitment OR hotline")
    assert found[0]["document"] == library["brief.md"]
    assert "**hotline**" in str(found[0]["snippet"])
    assert [h["document"] for h in found[1:3]] == [library["ilo.txt"]] * 2
    scores = [float(str(h["score"])) for h in found]
    assert scores == sorted(scores, reverse=True)
    assert scores[-1] > 0


def test_a_filter_that_keeps_few_documents_finds_the_same_hits(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filter that keeps under a quarter of the documents makes SQLite walk only their passages (their id ranges);
    the hits, their order, the total and the cap are those of the filter checked on every match."""
    from lmreview.evidence import search

    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(9):
        organisation = "ILO" if n in (2, 6) else "IOM"
        lines = "\n\n".join(
            f"Paragraph {k} of report {n}: migrant workers and recruitment {'fees ' * k}." for k in range(4)
        )
        (folder / f"r{n}.txt").write_text(
            f"Report {n} on labour migration\n\nCommissioned by: {organisation}\n\n{lines}\n", encoding="utf-8"
        )
    assert cli("evidence", "add", str(folder), "--jobs", "1").exit_code == 0
    every = hits(cli, "recruitment", "--limit", "100")
    ilo = {d["id"] for d in json.loads(cli("evidence", "list", "--json").stdout) if d["organisation"] == "ILO"}
    assert len(ilo) == 2
    filtered = hits(cli, "recruitment", "--organisation", "ilo", "--limit", "100")
    assert [h["passage"] for h in filtered] == [h["passage"] for h in every if h["document"] in ilo]
    assert len(filtered) == 8
    assert "8 passages match" in cli("evidence", "search", "recruitment", "--organisation", "ILO").stdout
    monkeypatch.setattr(search, "CAP", 3)  # the three newest matches of the kept documents, then "3 or more"
    capped = hits(cli, "recruitment", "--organisation", "ilo")
    newest = sorted((h["passage"] for h in filtered), reverse=True)[:3]
    assert sorted(h["passage"] for h in capped) == sorted(newest)
    assert "3 or more passages match" in cli("evidence", "search", "recruitment", "--organisation", "ILO").stdout


def test_the_passage_count_of_the_weights_is_the_library_s(cli: Cli, store: Store, tmp_path: Path) -> None:
    """SQLite's count is read from the FTS5 index's own record (a varint, here of two bytes), PostgreSQL's counted;
    both are the number of passages, also after passages are deleted."""
    from sqlalchemy import text

    from lmreview.evidence.search import _passage_count

    body = "\n\n".join(f"Paragraph {n} on the recruitment of migrant workers." for n in range(300))
    (tmp_path / "long.txt").write_text(f"A long report\n\n{body}\n", encoding="utf-8")
    assert cli("evidence", "add", str(tmp_path / "long.txt")).exit_code == 0
    sqlite = store.engine.dialect.name == "sqlite"
    with store.session() as session:
        counted = session.execute(text("SELECT count(*) FROM evidence_passage")).scalar_one()
        assert counted > 300
        assert _passage_count(session, sqlite) == counted
        session.execute(text("DELETE FROM evidence_passage WHERE id IN (SELECT id FROM evidence_passage LIMIT 5)"))
        assert _passage_count(session, sqlite) == counted - 5
