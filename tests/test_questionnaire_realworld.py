"""Real-world forms and exports (``../shared/realworld``, see its README): every XLSForm pyxform converts is served
or refused in one line naming what lmreview lacks; the table in docs/questionnaires.md is current; and every Kobo
and ODK export of a served form imports with each answer in place (checked cell by cell against the file) and
exports back to the same cells, multi-version projects and repeats included."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from lmreview.questionnaire import engine, forms
from lmreview.questionnaire.models import Submission
from lmreview.questionnaire.xlsform import FormDefinition, parse_form
from lmreview.questionnaire.xlsform_sheets import _text
from lmreview.store import Store
from tests.conftest import Cli
from tests.fixtures import realworld_forms

REALWORLD = realworld_forms.REALWORLD
ONE_REASON = "lmreview cannot serve this form: it uses "


@pytest.fixture(scope="module")
def outcomes() -> list[realworld_forms.Outcome]:
    if not REALWORLD.is_dir():
        pytest.skip(f"the real-world files are not beside the project ({REALWORLD})")
    return [realworld_forms.judge(path) for path in realworld_forms.form_files()]


def test_every_form_pyxform_converts_is_served_or_refused_for_one_named_reason(
    outcomes: list[realworld_forms.Outcome],
) -> None:
    assert len(outcomes) > 60
    for outcome in outcomes:
        if outcome.pyxform is not None:
            assert not outcome.served, f"{outcome.name}: pyxform refuses it, lmreview serves it"
            continue
        if outcome.served:
            data, files = outcome.path.read_bytes(), realworld_forms.stand_ins(outcome.path)
            definition = parse_form(data, outcome.path.name, files=files).definition
            engine.evaluate(definition, engine.with_defaults(definition.survey))  # it can be answered
            continue
        assert outcome.message.startswith(ONE_REASON), f"{outcome.name}: {outcome.message}"
        assert " / " not in outcome.message, f"{outcome.name}: more than one line"
    served = [o.name for o in outcomes if o.served]
    assert "xlsform/pyxform_tutorial.xls" in served
    assert "odk/all-data-types-form.xlsx" in served
    assert "kobo/select_one_from_previous_answers-form.xlsx" in served


def test_the_table_in_the_docs_is_current(outcomes: list[realworld_forms.Outcome]) -> None:
    assert realworld_forms.table(outcomes) == realworld_forms.current_table(), (
        "regenerate it: PYTHONPATH=src python -m tests.fixtures.realworld_forms --write"
    )


# --- exports -------------------------------------------------------------------------------------------------------

KOBO = ["auto_report_extended_fields", "customer_satisfaction", "dietary_needs", "favorite_coffee"]
KOBO += ["grouped_repeatable", "grouped_translated", "literacy_test", "long_names", "or_other"]
KOBO += ["quotes_newlines_and_long_urls", "restaurant_profile", "select_one_from_previous_answers"]
KOBO += ["simple_nested_grouped_repeatable", "site_inspection"]
# The exports whose refusal is right: what the file holds cannot be imported as it is.
REFUSED = {
    "sanitation_report-kobo-meta": '"A" is not a choice of the list xy3qc67',  # the fixture's data, not the form's
    "nested_grouped_repeatable-kobo-meta": "is already on row 2",  # one submission listed under two versions
}


def _add_forms(cli: Cli, tool: str, name: str) -> str:
    folder = REALWORLD / tool
    if not folder.is_dir():
        pytest.skip(f"the real-world files are not beside the project ({folder})")
    versions = sorted(folder.glob(f"{name}-form-v*.xlsx"))
    for path in [*versions, folder / f"{name}-form.xlsx"]:
        run = cli("form", "add", str(path))
        assert run.exit_code == 0, run.stderr
    added = run.stdout.split("orm ", 1)[1].split(":")[0].split(" ")[0]
    return added


def _tables(data: bytes, name: str) -> list[tuple[str, list[dict[str, str]]]]:
    """Each table of an export as rows of {header: text}."""
    if name.endswith(".xlsx"):
        book = load_workbook(io.BytesIO(data), read_only=True)
        tables = []
        for sheet in book.worksheets:
            rows = [[_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
            tables.append((str(sheet.title), [dict(zip(rows[0], r, strict=False)) for r in rows[1:] if any(r)]))
        return tables
    if name.endswith(".zip"):
        archive = zipfile.ZipFile(io.BytesIO(data))
        return [(n, _csv(archive.read(n))) for n in archive.namelist() if n.endswith(".csv")]
    return [(name, _csv(data))]


def _csv(data: bytes) -> list[dict[str, str]]:
    text = data.decode("utf-8-sig")
    dialect = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    return list(csv.DictReader(io.StringIO(text), delimiter=dialect))


def _stored(store: Store) -> dict[str, dict[str, Any]]:
    with store.session() as session:
        return {s.instance_id: s.data for s in session.scalars(select(Submission))}


def _check_root_cells(definition: FormDefinition, rows: list[dict[str, str]], stored: dict[str, Any], tool: str) -> int:
    """Every answer cell of the root table is the stored answer at its path; returns the cells compared."""
    paths = definition.by_path()
    compared = 0
    for row in rows:
        key = row.get("_uuid") if tool == "kobo" else row.get("KEY")
        data = stored[key if key and ":" in key else f"uuid:{key}"]
        for header, cell in row.items():
            path = header.replace("-", "/") if tool == "odk" else header
            question = paths.get(path) or next((q for q in paths.values() if q.name == header), None)
            if question is None or question.type in ("note", "group", "repeat"):
                continue
            assert engine.get_path(data, question.path) == (cell or None), (header, cell, data)
            compared += 1
    return compared


def _option_column(definition: FormDefinition, header: str) -> bool:
    question = definition.by_path().get(header.rpartition("/")[0])
    return question is not None and question.type == "select_multiple"


@pytest.mark.parametrize("name", KOBO)
@pytest.mark.parametrize("suffix", ["-kobo-meta.xlsx", "-kobo-meta.csv"])
def test_a_kobo_export_imports_cell_by_cell_and_exports_the_same_cells(
    cli: Cli, store: Store, tmp_path: Path, name: str, suffix: str
) -> None:
    form = _add_forms(cli, "kobo", name)
    source = REALWORLD / "kobo" / f"{name}{suffix}"
    run = cli("form", "import-responses", str(source), "--form", form)
    if suffix.endswith(".csv") and name == "simple_nested_grouped_repeatable":  # every question is in a repeat
        assert run.exit_code == 2
        assert "export XLSX to import them" in run.stderr or "are missing" in run.stderr
        return
    assert run.exit_code == 0, run.stderr
    if name != "literacy_test":  # the literacy widget's own columns are the one thing not imported (reported)
        assert "match no question" not in run.stderr
        assert "unknown column" not in run.stderr  # a question only older versions have is read too
    stored = _stored(store)
    original = _tables(source.read_bytes(), source.name)

    with store.session() as session:
        definition = forms.definition_of(forms.latest_version(forms.get_form(session, form)))
    compared = _check_root_cells(definition, original[0][1], stored, "kobo")
    assert compared > 0 or all(q.type == "repeat" for q in definition.survey)  # else every question is in a repeat
    fmt = "xlsx" if suffix.endswith(".xlsx") else "csv"
    out = tmp_path / f"export.{'zip' if fmt == 'csv' and any(q.type == 'repeat' for q in definition.walk()) else fmt}"
    assert cli("form", "export-responses", "--form", form, "--format", fmt, "--out", str(out)).exit_code == 0
    exported = _tables(out.read_bytes(), out.name)
    for (sheet, rows), (_, ours) in zip(original, exported, strict=False):
        assert len(ours) == len(rows), sheet
        for theirs, mine in zip(rows, ours, strict=True):
            common = [h for h in theirs if h in mine and h != "meta/rootUuid"]
            if not theirs.get("__version__", "x"):  # no version named: Kobo's option columns follow whichever it took
                common = [h for h in common if not _option_column(definition, h)]
            assert {h: theirs[h] for h in common} == {h: mine[h] for h in common}, sheet
    assert cli("form", "import-responses", str(out), "--form", form).stdout.count("0 updated") == 1


@pytest.mark.parametrize(("export", "reason"), sorted(REFUSED.items()))
def test_a_kobo_export_that_does_not_fit_its_form_is_refused_at_its_cells(cli: Cli, export: str, reason: str) -> None:
    name = export.removesuffix("-kobo-meta")
    form = _add_forms(cli, "kobo", name)
    run = cli("form", "import-responses", str(REALWORLD / "kobo" / f"{export}.csv"), "--form", form)
    assert run.exit_code == 2
    assert reason in run.stderr
    assert "nothing was written" in run.stderr


def test_a_kobo_export_without_instance_ids_is_refused(cli: Cli) -> None:
    form = _add_forms(cli, "kobo", "dietary_needs")
    run = cli("form", "import-responses", str(REALWORLD / "kobo" / "dietary_needs-kobo.csv"), "--form", form)
    assert run.exit_code == 2
    assert "dietary_needs-kobo.csv:2:_uuid: this row has no _uuid, so it cannot be imported" in run.stderr


ODK = [
    ("all-data-types", "all-data-types.csv"),
    ("multirepeat", "multirepeat.zip"),
    ("mytestform", "mytestform-flat.csv"),
    ("mytestform-geopoint", "mytestform-geopoint.csv"),
    ("nested-repeats", "nested-repeats.zip"),
    ("pathprefix", "pathprefix.zip"),
    ("selectMultiple", "selectMultiple.csv"),
    ("simple", "simple.csv"),
    ("singlerepeat", "singlerepeat.zip"),
    ("structuredform", "structuredform.csv"),
]


@pytest.mark.parametrize(("name", "export"), ODK)
def test_an_odk_export_imports_cell_by_cell(cli: Cli, store: Store, name: str, export: str) -> None:
    form = _add_forms(cli, "odk", name)
    source = REALWORLD / "odk" / export
    run = cli("form", "import-responses", str(source), "--form", form)
    assert run.exit_code == 0, run.stderr
    assert "match no question" not in run.stderr
    assert "unknown column" not in run.stderr
    stored = _stored(store)
    tables = _tables(source.read_bytes(), source.name)
    root = next(rows for table, rows in tables if "PARENT_KEY" not in (rows[0] if rows else {}))

    with store.session() as session:
        definition = forms.definition_of(forms.latest_version(forms.get_form(session, form)))
    _check_root_cells(definition, [r for r in root if r.get("Status") != "missing encrypted form data"], stored, "odk")
    repeated = sum(len(rows) for table, rows in tables if rows and "PARENT_KEY" in rows[0])
    counted = 0
    for data in stored.values():
        stack: list[Any] = [data]
        while stack:
            node = stack.pop()
            for value in node.values() if isinstance(node, dict) else []:
                if isinstance(value, list):
                    counted += len(value)
                    stack.extend(value)
                elif isinstance(value, dict):
                    stack.append(value)
    assert counted == repeated
