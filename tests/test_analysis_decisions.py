"""The form engine's decisions stored per submission (answer_state, submission_decision): written on every ORM write
of a submission, kept in step when it is edited, deleted, made a draft again or moved to another form version, filled
by the migration for the submissions stored before it; and tabulation from them (options counted by a GROUP BY)
giving exactly the figures of the engine evaluating every submission.

The engine path is forced by deleting the ``answer_state`` rows inside a transaction that is rolled back (nothing
stored is then fresh) and emptying the process' kept evaluations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from lmreview.analysis import units
from lmreview.analysis.tabulate import NOT_TABULATED, tabulate
from lmreview.analysis.units import survey_of
from lmreview.demo import load_demo_review
from lmreview.questionnaire import decisions, forms, reviews, submissions
from lmreview.questionnaire.decisions import AnswerState, SubmissionDecision
from lmreview.questionnaire.models import Submission
from lmreview.store import Store
from tests.conftest import FIXTURES, SAMPLES, TEMPLATES, Cli

HERE = FIXTURES / "tabulate"


def _both_ways(store: Store, compute: Callable[[Session], Any]) -> tuple[Any, Any]:
    """``compute`` from the stored decisions, then by the engine alone (nothing stored fresh, nothing kept)."""
    units._DECIDED.clear()
    with store.session() as session:
        stored = compute(session)
    units._DECIDED.clear()
    with store.session() as session:
        session.execute(delete(AnswerState))
        fresh = decisions.fresh_ids(session.connection(), list(session.scalars(select(Submission.id))))
        assert fresh == set()
        engine = compute(session)
        session.rollback()
    units._DECIDED.clear()
    return stored, engine


def _stored_units(session: Session, review: str) -> tuple[int, int]:
    """(units read from the stored decisions, units with a submission) of a review's survey."""
    found = reviews.get_review(session, review)
    assert found.form is not None
    definition = forms.definition_of(forms.latest_version(found.form))
    survey = survey_of(session, found, found.form, definition)
    return len(survey.observer.stored), sum(1 for u in survey.units if u.submission is not None)


def _questions(store: Store, review: str) -> list[str]:
    with store.session() as session:
        found = reviews.get_review(session, review)
        assert found.form is not None
        definition = forms.definition_of(forms.latest_version(found.form))
        return [q.path for q in definition.walk() if q.type not in NOT_TABULATED]


# --- the same figures ------------------------------------------------------------------------------------------------


def test_the_demo_review_counts_the_same_from_the_stored_decisions_as_from_the_engine(cli: Cli, store: Store) -> None:
    """The demo's 27 projects (web saves, answers entered from documents, reviewers' corrections; repeats,
    select_multiple, questions skipped by relevance): every question, whole and by region and by a question."""
    assert cli("portfolio", "import", str(SAMPLES / "lm2022.csv")).exit_code == 0
    with store.session() as session:
        load_demo_review(session, actor="demo")
    review = "idf-lm-2022"
    with store.session() as session:
        stored, used = _stored_units(session, review)
        assert used == 27
        assert stored == used
    paths = _questions(store, review)
    assert any("[" in p or "outcomes/" in p for p in paths)
    by = (None, "region", "outcomes_outputs/governance_measures", "sustainability/outcomes_sustained")

    def everything(session: Session) -> list[dict[str, Any]]:
        return [tabulate(session, review, p, by=b).as_json() for p in paths for b in by]

    from_store, from_engine = _both_ways(store, everything)
    assert len(from_store) == len(paths) * len(by)
    assert from_store == from_engine
    multiple = next(t for t in from_store if t["question"] == "outcomes_outputs/governance_measures")
    assert sum(c["n"] for c in multiple["counts"]) > multiple["answered"]  # options overlap: several per unit


def test_repeats_ratings_and_relevance_count_the_same_both_ways(cli: Cli, store: Store, tmp_path: Path) -> None:
    import zipfile

    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert cli("form", "add", str(HERE / "rating-form.md")).exit_code == 0
    assert cli("review", "create", "rt", "--portfolio", "lm2016", "--form", "tabulate_test").exit_code == 0
    archive = tmp_path / "tabulate_test.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for name in ("tabulate_test.csv", "tabulate_test-activities.csv"):
            out.write(HERE / "odk" / name, name)
    run = cli("form", "import-responses", str(archive), "--form", "tabulate_test", "--review", "rt")
    assert run.exit_code == 0, run.stderr
    paths = _questions(store, "rt")
    assert "activities/held" in paths
    assert "activities/participants" in paths

    def everything(session: Session) -> list[dict[str, Any]]:
        return [tabulate(session, "rt", p, by=b).as_json() for p in paths for b in (None, "region", "relevance")]

    from_store, from_engine = _both_ways(store, everything)
    assert from_store == from_engine
    participants = next(t for t in from_store if t["question"] == "activities/participants" and t["by"] is None)
    assert participants["not_relevant"] > 0  # activities not held: the count of participants was not asked


DK_FORM = """\
| survey |
| | type | name | label | relevant |
| | select_one rate | usefulness | How useful was the training? | |
| | select_one yn | any_partner | Were partners involved? | |
| | begin repeat | partners | Partner | ${any_partner} = 'yes' |
| | select_multiple role | roles | What did the partner do? | |
| | integer | staff | Staff involved | selected(${roles}, 'funding') |
| | end repeat | | | |

| choices |
| | list_name | name | label |
| | rate | 1 | Not useful |
| | rate | 2 | Somewhat useful |
| | rate | 3 | Useful |
| | rate | 4 | Very useful |
| | rate | dk | Don't know |
| | yn | yes | Yes |
| | yn | no | No |
| | role | funding | Funding |
| | role | training | Training |
| | role | hosting | Hosting |

| settings |
| | form_title | form_id | version |
| | Don't-know test | dk_test | 1 |
"""


def _add_dk_review(session: Session) -> int:
    added = forms.add_form(session, DK_FORM.encode(), "dk.md", actor="t")
    review = reviews.create_review(session, "dk", actor="t", form=added.form)
    version = forms.latest_version(forms.get_form(session, added.form)).id
    answers: list[dict[str, Any]] = [
        {"usefulness": "dk", "any_partner": "no", "partners": [{"roles": "funding", "staff": "3"}]},
        {"usefulness": "4", "any_partner": "yes", "partners": [{"roles": "funding training", "staff": "2"}]},
        {"usefulness": "4", "any_partner": "yes", "partners": [{"roles": "hosting"}, {"roles": "training hosting"}]},
        {"usefulness": "", "any_partner": "yes", "partners": [{"roles": ""}, {"roles": "funding", "staff": ""}]},
        {"usefulness": "2", "any_partner": "", "partners": []},
        {"usefulness": "dk", "any_partner": "yes", "partners": [{"roles": "training training"}]},
        {"usefulness": "5", "any_partner": "yes", "partners": [{"roles": "lobbying"}]},  # not a choice
    ]
    for i, data in enumerate(answers):
        session.add(
            Submission(
                instance_id=f"uuid:dk-{i}",
                form_version_id=version,
                review_id=review.id,
                status="submitted",
                source="kobo",
                data=data,
                original=data,
                submitted_at=dt.datetime(2026, 1, 1 + i, tzinfo=dt.UTC),
            )
        )
    session.add(  # a draft: not decided, not counted
        Submission(instance_id="uuid:dk-draft", form_version_id=version, review_id=review.id, data={"usefulness": "1"})
    )
    session.flush()
    return review.id


def test_dont_know_select_multiple_in_a_repeat_and_skipped_answers_count_the_same(store: Store) -> None:
    with store.session() as session:
        _add_dk_review(session)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(AnswerState)) == 7  # the draft has none
        assert _stored_units(session, "dk") == (7, 7)
    paths = _questions(store, "dk")

    def everything(session: Session) -> list[dict[str, Any]]:
        return [tabulate(session, "dk", p, by=b).as_json() for p in paths for b in (None, "usefulness", "any_partner")]

    from_store, from_engine = _both_ways(store, everything)
    assert from_store == from_engine
    usefulness = from_store[0]
    assert usefulness["question"] == "usefulness"
    assert not usefulness["likert"]
    assert {c["value"]: c["n"] for c in usefulness["counts"]} == {"1": 0, "2": 1, "3": 0, "4": 2, "dk": 2, "5": 1}
    assert (usefulness["answered"], usefulness["skipped"]) == (6, 1)
    roles = next(t for t in from_store if t["question"] == "partners/roles" and t["by"] is None)
    # instances: 5 of the partners are asked (any_partner = yes), one left empty; "training training" counts once
    assert {c["value"]: (c["n"], c["units_n"]) for c in roles["counts"]} == {
        "funding": (2, 2),
        "training": (3, 3),
        "hosting": (2, 1),
        "lobbying": (1, 1),
    }
    assert (roles["not_relevant"], roles["skipped"], roles["answered"]) == (1, 1, 6)
    staff = next(t for t in from_store if t["question"] == "partners/staff" and t["by"] is None)
    assert (staff["not_relevant"], staff["skipped"], staff["answered"]) == (6, 1, 1)  # asked where funding was


# --- kept in step ----------------------------------------------------------------------------------------------------


def _review_r16(cli: Cli) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert cli("form", "add", str(TEMPLATES / "bilingual-test.md")).exit_code == 0
    assert cli("review", "create", "r16", "--portfolio", "lm2016", "--form", "bilingual_test").exit_code == 0
    source = str(HERE / "kobo-tabulate.csv")
    run = cli("form", "import-responses", source, "--form", "bilingual_test", "--review", "r16")
    assert run.exit_code == 0, run.stderr


def _decided(session: Session, instance: str, path: str) -> list[tuple[str, str]]:
    query = (
        select(SubmissionDecision.state, SubmissionDecision.value)
        .join(Submission, Submission.id == SubmissionDecision.submission_id)
        .where(Submission.instance_id == instance, SubmissionDecision.question_path == path)
        .order_by(SubmissionDecision.position)
    )
    return [(s, v) for s, v in session.execute(query)]


def _is_fresh(session: Session, instance: str) -> bool:
    found = session.scalar(select(Submission.id).where(Submission.instance_id == instance))
    assert found is not None
    return decisions.fresh_ids(session.connection(), [found]) == {found}


def _counts(session: Session, path: str) -> dict[str, int]:
    return {c.value: c.n for c in tabulate(session, "r16", path).whole.counts or []}


def test_decisions_follow_edits_deletions_drafts_and_form_versions(cli: Cli, store: Store) -> None:
    _review_r16(cli)
    with store.session() as session:
        submitted = session.scalar(select(func.count()).where(Submission.status == "submitted"))
        assert session.scalar(select(func.count()).select_from(AnswerState)) == submitted == 11
        used = tabulate(session, "r16", "sustained").as_json()["rows"]["submissions"]
        instance = used["LM.0214"]
        assert _decided(session, instance, "sustained") == [("answered", "yes"), ("chosen", "yes")]
        assert _decided(session, instance, "not_sustained_why") == [("not_relevant", "")]
        assert _counts(session, "sustained") == {"yes": 4, "no": 3}

    # a reviewer's correction: decided again at once, the question it makes relevant too
    with store.session() as session:
        found = session.scalar(select(Submission).where(Submission.instance_id == instance))
        assert found is not None
        submissions.change_answer(session, found, "sustained", "no", reason="the final report says so", actor="t")
        session.flush()
        assert _decided(session, instance, "sustained") == [("answered", "no"), ("chosen", "no")]
        assert _decided(session, instance, "not_sustained_why") == [("skipped", "")]
        assert _is_fresh(session, instance)
    with store.session() as session:
        assert _counts(session, "sustained") == {"yes": 3, "no": 4}

    # the time alone changes (a review state set by a bulk update): the same answers, still fresh
    with store.session() as session:
        later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
        session.execute(update(Submission).where(Submission.instance_id == instance).values(updated_at=later))
        assert _is_fresh(session, instance)

    # answers changed behind the ORM's back: not fresh, evaluated by the engine, counted as they are now
    with store.session() as session:
        found = session.scalar(select(Submission).where(Submission.instance_id == instance))
        assert found is not None
        data = {**found.data, "sustained": "yes"}
        session.execute(update(Submission).where(Submission.id == found.id).values(data=data))
        session.expire_all()
        assert not _is_fresh(session, instance)
        assert _counts(session, "sustained") == {"yes": 4, "no": 3}
        assert decisions.refresh(session) == 1  # the one stale submission
        assert _is_fresh(session, instance)
        assert _decided(session, instance, "sustained") == [("answered", "yes"), ("chosen", "yes")]

    # a draft again: its decisions go (tabulation does not count drafts)
    with store.session() as session:
        found = session.scalar(select(Submission).where(Submission.instance_id == instance))
        assert found is not None
        found.status = "draft"
        session.flush()
        assert _decided(session, instance, "sustained") == []
        assert session.get(AnswerState, found.id) is None
        found.status = "submitted"
        session.flush()
        assert _is_fresh(session, instance)

    # another form version: decided with it (here "not_sustained_why" is asked after "yes")
    source = (TEMPLATES / "bilingual-test.md").read_text(encoding="utf-8")
    changed = source.replace("${sustained} = 'no'", "${sustained} = 'yes'").replace(
        "| Bilingual test form | bilingual_test | 1 |", "| Bilingual test form | bilingual_test | 2 |"
    )
    assert changed.count("${sustained} = 'yes'") == 1
    assert "| bilingual_test | 2 |" in changed
    with store.session() as session:
        forms.add_form(session, changed.encode(), "bilingual-test-2.md", actor="t")
        version = forms.latest_version(forms.get_form(session, "bilingual_test"))
        found = session.scalar(select(Submission).where(Submission.instance_id == instance))
        assert found is not None
        assert found.form_version_id != version.id
        found.form_version_id = version.id
        session.flush()
        state = session.get(AnswerState, found.id)
        assert state is not None
        assert state.form_version_id == version.id
        assert _decided(session, instance, "not_sustained_why") == [("skipped", "")]

    # deleted: its rows go with it
    with store.session() as session:
        found = session.scalar(select(Submission).where(Submission.instance_id == instance))
        assert found is not None
        found_id = found.id
        session.delete(found)
        session.flush()
        assert session.scalar(select(func.count()).where(SubmissionDecision.submission_id == found_id)) == 0
        assert session.get(AnswerState, found_id) is None


def test_a_form_whose_relevance_reads_the_day_is_decided_again_another_day(store: Store) -> None:
    source = DK_FORM.replace("| ${any_partner} = 'yes' |", "| ${any_partner} = 'yes' and today() > '2000-01-01' |")
    with store.session() as session:
        _add_dk_review_from(session, source)
        ids = list(session.scalars(select(Submission.id).where(Submission.status == "submitted")))
        assert decisions.fresh_ids(session.connection(), ids) == set(ids)
        session.execute(update(AnswerState).values(decided_on=dt.date(2020, 1, 1)))
        assert decisions.fresh_ids(session.connection(), ids) == set()
        assert decisions.refresh(session) == len(ids)
        assert decisions.fresh_ids(session.connection(), ids) == set(ids)


def _add_dk_review_from(session: Session, source: str) -> None:
    global DK_FORM
    kept, DK_FORM = DK_FORM, source
    try:
        _add_dk_review(session)
    finally:
        DK_FORM = kept


def test_the_migration_decides_the_submissions_stored_before_it(cli: Cli, store: Store) -> None:
    from alembic import command

    from lmreview.store.migrate import alembic_config

    _review_r16(cli)
    with store.session() as session:
        before = tabulate(session, "r16", "challenges").as_json()
        rows = session.scalar(select(func.count()).select_from(SubmissionDecision))
    command.downgrade(alembic_config(store), "0019")  # the revision before the decisions
    command.upgrade(alembic_config(store), "head")
    units._DECIDED.clear()
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(SubmissionDecision)) == rows
        stored, used = _stored_units(session, "r16")
        assert stored == used > 0
        assert tabulate(session, "r16", "challenges").as_json() == before


@pytest.mark.parametrize("count", [0, 3])
def test_refresh_decides_submissions_inserted_in_bulk(store: Store, count: int) -> None:
    with store.session() as session:
        review_id = _add_dk_review(session)
        version = session.scalar(select(Submission.form_version_id).limit(1))
        rows = [
            {
                "instance_id": f"uuid:bulk-{i}",
                "form_version_id": version,
                "review_id": review_id,
                "status": "submitted",
                "review_state": "received",
                "source": "kobo",
                "data": {"usefulness": "3"},
                "original": {"usefulness": "3"},
                "meta": {},
            }
            for i in range(count)
        ]
        if rows:
            from sqlalchemy import insert

            session.execute(insert(Submission), rows)
        assert decisions.refresh(session) == count
        assert decisions.refresh(session) == 0
        assert _stored_units(session, "dk") == (7 + count, 7 + count)
        assert {c.value: c.n for c in tabulate(session, "dk", "usefulness").whole.counts or []}["3"] == count


def test_the_database_vouches_for_fresh_decisions_in_one_query(
    cli: Cli, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decisions written by the ORM (web saves, document entries, corrections) are found fresh by the one query that
    compares each state with its submission in the database, without reading a row of them here; a submission it
    cannot vouch for (its time changed behind the ORM, its answers the same) is checked row by row, and still fresh."""
    _review_r16(cli)
    checked: list[list[int]] = []
    check = decisions._fresh_checked

    def counted(connection: Any, ids: Any) -> set[int]:
        checked.append(sorted(ids))
        return check(connection, ids)

    monkeypatch.setattr(decisions, "_fresh_checked", counted)
    with store.session() as session:
        ids = list(session.scalars(select(Submission.id).where(Submission.status == "submitted")))
        assert len(ids) == 11
        assert decisions.fresh_ids(session.connection(), ids) == set(ids)
        assert checked == []
        later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
        session.execute(update(Submission).where(Submission.id == ids[0]).values(updated_at=later))
        assert decisions.fresh_ids(session.connection(), ids) == set(ids)
        assert checked == [[ids[0]]]
        drafts = list(session.scalars(select(Submission.id).where(Submission.status != "submitted")))
        assert decisions.fresh_ids(session.connection(), ids + drafts) == set(ids)
