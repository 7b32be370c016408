"""`lmreview.questionnaire.exchange`: KoboToolbox / ODK Central exports in, Kobo's layout out.

The fixtures (tests/fixtures/responses/, see its README) imitate what the tools write; the same three submissions
of the bilingual_test form appear in each, so every reader must give back the same documents.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lmreview.errors import BadInput, LmreviewError
from lmreview.questionnaire.exchange import (
    ExportRow,
    ImportedSubmission,
    read_responses,
    review_state,
    sheet_name,
    write_responses,
)
from lmreview.questionnaire.xlsform import FormDefinition, parse_form
from lmreview.store import Store
from tests.conftest import Cli, join_every_review
from tests.fixtures.responses import make_fixtures

FIXTURES = Path(__file__).parent / "fixtures" / "responses"
TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "lmreview" / "questionnaire" / "templates"
S1, S2, S3 = make_fixtures.S1, make_fixtures.S2, make_fixtures.S3
VERSION = make_fixtures.VERSION
OUTCOMES_1 = [
    {"outcome": "Labour migration policy adopted by the cabinet", "related_outputs": "1.1"},
    {"outcome": "Officials trained in ethical recruitment", "related_outputs": "1.2 2.1"},
]
OUTCOMES_2 = [{"outcome": "Migrant resource centre opened"}]
D1 = {
    "project": {"project_code": "LM.0334", "report_date": "2024-05-01"},
    "beneficiaries": "120",
    "budget": "85000.5",
    "sustained": "no",
    "not_sustained_why": make_fixtures.WHY,
    "challenges": "funding other",
    "challenges_other": "Elections",
    "outcome_count": "2",
}
D2 = {
    "project": {"project_code": "LM.0181", "report_date": "2023-11-30"},
    "beneficiaries": "45",
    "budget": "12000",
    "sustained": "yes",
    "challenges": "data_access covid19",
    "outcome_count": "1",
}
D3 = {"project": {"project_code": "LM.0412"}, "beneficiaries": "0", "sustained": "yes", "outcome_count": "0"}
ODK_META = {
    "SubmitterID": "7",
    "SubmitterName": "tablet-01",
    "AttachmentsPresent": "0",
    "AttachmentsExpected": "0",
    "DeviceID": "collect:Xy12AbC3dE45fG6h",
    "FormVersion": "1",
}


def main_table_only(name: str) -> str:
    """The warning on a Kobo CSV export of the bilingual form, whose repeat it cannot hold."""
    return (
        f"{name}: warning: KoboToolbox's CSV export holds the main table only: the answers in the repeat outcomes"
        " are not in it and are not imported; export XLSX to import them"
    )


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def kobo_meta(id_: str, uuid: str, time: str, **extra: str) -> dict[str, str]:
    meta = {"_id": id_, "_uuid": uuid, "_submission_time": time, "_status": "submitted_via_web"}
    return {**meta, **extra, "__version__": VERSION, "meta/rootUuid": f"uuid:{uuid}"}


def key_order(meta: dict[str, str]) -> dict[str, str]:
    return dict(sorted(meta.items()))


def summary(subs: list[ImportedSubmission]) -> list[tuple[str, str, int, dt.datetime | None, str | None]]:
    return [(s.instance_id, s.source, s.row, s.submitted_at, s.version) for s in subs]


@pytest.fixture(scope="module")
def form() -> FormDefinition:
    path = TEMPLATES / "bilingual-test.md"
    return parse_form(path.read_bytes(), path.name).definition


def read(data: bytes, name: str, form: FormDefinition) -> tuple[list[ImportedSubmission], list[str]]:
    subs, problems = read_responses(data, name, form)
    return subs, [str(p) for p in problems]


# --- KoboToolbox ------------------------------------------------------------------------------------------------------


def test_kobo_xlsx_with_repeat_sheet_typed_cells_and_both_select_multiple_columns(form: FormDefinition) -> None:
    subs, problems = read(make_fixtures.kobo_xlsx(), "kobo.xlsx", form)
    assert problems == []
    assert summary(subs) == [
        (f"uuid:{S1}", "kobo", 2, utc(2024, 5, 2, 9, 15), VERSION),
        (f"uuid:{S2}", "kobo", 3, utc(2024, 5, 3, 14, 2, 37), VERSION),
        (f"uuid:{S3}", "kobo", 4, utc(2024, 5, 6, 8, 0), VERSION),
    ]
    assert [s.data for s in subs] == [{**D1, "outcomes": OUTCOMES_1}, {**D2, "outcomes": OUTCOMES_2}, D3]
    assert [key_order(s.meta) for s in subs] == [
        key_order(
            kobo_meta(
                "101",
                S1,
                "2024-05-02T09:15:00",
                _validation_status="validation_status_approved",
                _submitted_by="enum1",
            )
        ),
        key_order(kobo_meta("102", S2, "2024-05-03T14:02:37")),
        key_order(
            kobo_meta(
                "103",
                S3,
                "2024-05-06T08:00:00",
                _validation_status="validation_status_on_hold",
                _submitted_by="enum2",
                _tags="follow-up, budget",
            )
        ),
    ]
    assert [review_state(s) for s in subs] == ["approved", "received", "has_issues"]


def test_kobo_csv_without_group_names_and_without_repeats(form: FormDefinition) -> None:
    data = (FIXTURES / "kobo-bilingual.csv").read_bytes()
    assert data.startswith(b'"welcome";"project_code";')
    assert b"\r\n" in data
    subs, problems = read(data, "kobo.csv", form)
    assert problems == [main_table_only("kobo.csv")]
    assert summary(subs) == [
        (f"uuid:{S1}", "kobo", 2, utc(2024, 5, 2, 9, 15), VERSION),
        (f"uuid:{S2}", "kobo", 3, utc(2024, 5, 3, 14, 2, 37), VERSION),
    ]
    assert [s.data for s in subs] == [D1, D2]
    assert subs[0].meta["_validation_status"] == "validation_status_approved"


def test_kobo_select_multiple_from_the_option_columns_alone(form: FormDefinition) -> None:
    text = (FIXTURES / "kobo-bilingual.csv").read_text()
    lines = [line.split(";") for line in text.splitlines()]
    at = lines[0].index('"challenges"')
    lines = [cells[:at] + cells[at + 1 :] for cells in lines]  # "Separate columns" only
    subs, problems = read("\r\n".join(";".join(c) for c in lines).encode(), "details.csv", form)
    assert problems == [main_table_only("details.csv")]
    assert [s.data["challenges"] for s in subs] == ["funding other", "data_access covid19"]


def test_kobo_bad_values_are_located(form: FormDefinition) -> None:
    subs, problems = read((FIXTURES / "kobo-bad-values.csv").read_bytes(), "bad.csv", form)
    assert problems == [
        "bad.csv:1:district: warning: unknown column district: no question of the form bilingual_test has this name;"
        " its values are not imported",
        'bad.csv:2:sustained: "maybe" is not a choice of the list yes_no; allowed: yes, no',
        'bad.csv:3:project/report_date: "31/12/2023" is not a date (YYYY-MM-DD)',
        'bad.csv:3:beneficiaries: "about 100" is not a whole number',
        'bad.csv:3:budget: "12,5" is not a number',
        'bad.csv:3:challenges: "elections" is not a choice of the list challenge; allowed: funding, data_access,'
        " covid19, other",
        'bad.csv:4:challenges: warning: the option columns challenges/… say "funding" but challenges says "covid19";'
        " challenges is kept",
        main_table_only("bad.csv"),
    ]
    assert subs[1].data["beneficiaries"] == "about 100"  # kept as read; the caller refuses the import


def test_kobo_duplicate_uuid(form: FormDefinition) -> None:
    subs, problems = read((FIXTURES / "kobo-duplicate-uuid.csv").read_bytes(), "dup.csv", form)
    assert problems == [f"dup.csv:4:_uuid: uuid:{S1} is already on row 2", main_table_only("dup.csv")]
    assert [s.instance_id for s in subs] == [f"uuid:{S1}", f"uuid:{S2}"]


def test_kobo_orphan_repeat_row(form: FormDefinition) -> None:
    subs, problems = read(make_fixtures.kobo_orphan_xlsx(), "orphan.xlsx", form)
    assert problems == ['orphan.xlsx:outcomes:3:_parent_index: no row of the main table has _index "2"']
    assert subs[0].data["outcomes"] == OUTCOMES_1[:1]


def test_kobo_labels_export_is_refused(form: FormDefinition) -> None:
    with pytest.raises(BadInput) as caught:
        read_responses((FIXTURES / "kobo-labels.csv").read_bytes(), "labels.csv", form)
    assert caught.value.lines() == [
        "labels.csv:1:-: the headers are question labels, not names; export again from KoboToolbox with"
        " 'XML values and headers'"
    ]


# --- ODK Central -----------------------------------------------------------------------------------------------------

ODK_SUMMARY = [
    (f"uuid:{S3}", "odk", 2, dt.datetime(2024, 5, 6, 8, 0, 0, 518000, tzinfo=dt.UTC), "1"),
    (f"uuid:{S2}", "odk", 3, dt.datetime(2024, 5, 3, 14, 2, 37, 204000, tzinfo=dt.UTC), "1"),
    (f"uuid:{S1}", "odk", 4, dt.datetime(2024, 5, 2, 9, 15, 0, 412000, tzinfo=dt.UTC), "1"),
]


def odk_meta(uuid: str, date: str, id_column: str, **extra: str) -> dict[str, str]:
    meta = {"SubmissionDate": date, id_column: f"uuid:{uuid}", "KEY": f"uuid:{uuid}", **ODK_META, **extra}
    return key_order(meta)


def test_odk_zip_with_repeat_table(form: FormDefinition) -> None:
    subs, problems = read(make_fixtures.odk_zip(), "bilingual_test.csv.zip", form)
    assert problems == []
    assert summary(subs) == ODK_SUMMARY
    assert [s.data for s in subs] == [D3, {**D2, "outcomes": OUTCOMES_2}, {**D1, "outcomes": OUTCOMES_1}]
    assert [key_order(s.meta) for s in subs] == [
        odk_meta(S3, "2024-05-06T08:00:00.518Z", "meta-instanceID", ReviewState="hasIssues", Edits="0"),
        odk_meta(S2, "2024-05-03T14:02:37.204Z", "meta-instanceID", Edits="0"),
        odk_meta(S1, "2024-05-02T09:15:00.412Z", "meta-instanceID", ReviewState="approved", Edits="1"),
    ]
    assert [review_state(s) for s in subs] == ["has_issues", "received", "approved"]


def test_odk_main_table_with_split_select_multiple_and_no_group_names(form: FormDefinition) -> None:
    subs, problems = read((FIXTURES / "odk-bilingual-main.csv").read_bytes(), "bilingual_test.csv", form)
    assert problems == [
        "bilingual_test.csv: warning: bilingual_test-outcomes.csv is missing: the answers in the repeat outcomes"
        ' are not imported; export ODK Central\'s "All data tables" (a zip) to import them'
    ]
    assert summary(subs) == ODK_SUMMARY
    assert [s.data for s in subs] == [D3, D2, D1]
    assert key_order(subs[0].meta) == odk_meta(
        S3, "2024-05-06T08:00:00.518Z", "instanceID", ReviewState="hasIssues", Edits="0"
    )


def test_odk_repeat_row_without_parent(form: FormDefinition) -> None:
    root = (FIXTURES / "odk-bilingual" / "bilingual_test.csv").read_bytes()
    orphan = b"outcome,related_outputs,PARENT_KEY,KEY\nLost,,uuid:nobody,uuid:nobody/outcomes[1]\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bilingual_test.csv", root)
        archive.writestr("bilingual_test-outcomes.csv", orphan)
        archive.writestr("media/photo.jpg", b"\xff\xd8")
    _, problems = read(buffer.getvalue(), "odk.zip", form)
    assert problems == [
        'odk.zip:bilingual_test-outcomes.csv:2:PARENT_KEY: no row of the main table has KEY "uuid:nobody"'
    ]


# --- a filled one-row-per-project workbook ---------------------------------------------------------------------------


def test_project_rows_workbook(form: FormDefinition) -> None:
    subs, problems = read(make_fixtures.project_rows_xlsx(), "filled.xlsx", form)
    assert problems == [
        "filled.xlsx:Responses:1:outcomes/outcome: warning: this column belongs to the repeat outcomes, which a"
        " table of one row per submission cannot hold; it is not imported"
    ]
    ids = [f"xlsx:{hashlib.sha256(f'bilingual_test:{code}'.encode()).hexdigest()}" for code in ("LM.0334", "LM.0181")]
    assert summary(subs) == [(ids[0], "xlsx", 2, None, None), (ids[1], "xlsx", 3, None, None)]
    no_count = {k: v for k, v in D2.items() if k != "outcome_count"}
    assert [s.data for s in subs] == [{k: v for k, v in D1.items() if k != "outcome_count"}, no_count]
    assert [s.meta for s in subs] == [{}, {}]
    assert {review_state(s) for s in subs} == {"received"}


def test_project_rows_repeat_values_and_missing_code_are_errors(form: FormDefinition) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    for row in (["project_code", "sustained", "outcome"], ["LM.0334", "yes", "A"], [None, "no", None]):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    _, problems = read(buffer.getvalue(), "f.xlsx", form)
    assert problems == [
        "f.xlsx:Sheet1:1:outcome: warning: this column belongs to the repeat outcomes, which a table of one row per"
        " submission cannot hold; it is not imported",
        'f.xlsx:Sheet1:2:outcome: "A" is an answer in the repeat outcomes, which a table of one row per submission'
        " cannot hold; it is not imported",
        "f.xlsx:Sheet1:3:project_code: this row has no project_code, so it cannot be imported",
    ]


def test_a_kobo_workbook_with_a_broken_sheet_is_refused(form: FormDefinition) -> None:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(make_fixtures.kobo_xlsx()))
    workbook["outcomes"].cell(row=2, column=len(make_fixtures.REPEAT_HEADER) + 2, value="stray")
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(BadInput) as caught:
        read_responses(buffer.getvalue(), "k.xlsx", form)
    assert caught.value.lines() == ["k.xlsx:outcomes:2:-: this row has 17 values but the header has 15 columns"]


# --- export and round trips ------------------------------------------------------------------------------------------


def export_rows(subs: list[ImportedSubmission]) -> list[ExportRow]:
    states = ["approved", "received", "has_issues", "rejected"]
    return [
        ExportRow(s.instance_id, s.data, s.meta, s.submitted_at, s.version or "", "submitted", states[i % 4], 100 + i)
        for i, s in enumerate(subs)
    ]


def without_repeats(form: FormDefinition) -> FormDefinition:
    return dataclasses.replace(form, survey=[q for q in form.survey if q.type != "repeat"])


def round_trip(form: FormDefinition, rows: list[ExportRow], fmt: str, name: str) -> list[ImportedSubmission]:
    subs, problems = read_responses(write_responses(form, rows, fmt), name, form)
    assert problems == []
    assert [(s.instance_id, s.data, s.version) for s in subs] == [(r.instance_id, r.data, r.version) for r in rows]
    return subs


@pytest.mark.parametrize(("fmt", "name"), [("xlsx", "export.xlsx"), ("csv", "export.zip")])
def test_round_trip_with_repeats(form: FormDefinition, fmt: str, name: str) -> None:
    rows = export_rows(read_responses(make_fixtures.kobo_xlsx(), "kobo.xlsx", form)[0])
    subs = round_trip(form, rows, fmt, name)
    assert [review_state(s) for s in subs] == ["approved", "received", "has_issues"]
    assert [s.meta["_id"] for s in subs] == ["101", "102", "103"]  # Kobo's own _id, kept from the import
    assert subs[0].submitted_at == utc(2024, 5, 2, 9, 15)


@pytest.mark.parametrize(("fmt", "name"), [("xlsx", "export.xlsx"), ("csv", "export.csv")])
def test_round_trip_without_repeats(form: FormDefinition, fmt: str, name: str) -> None:
    flat = without_repeats(form)
    rows = export_rows(read_responses(make_fixtures.odk_zip(), "odk.zip", form)[0])
    rows = [dataclasses.replace(r, data={k: v for k, v in r.data.items() if k != "outcomes"}) for r in rows]
    rows[0].data["not_sustained_why"] = 'He said "no"; then\nleft =1+1'  # quotes, separator, newline, formula
    round_trip(flat, rows, fmt, name)


def test_csv_export_is_kobos_dialect(form: FormDefinition) -> None:
    rows = export_rows(read_responses(make_fixtures.kobo_xlsx(), "kobo.xlsx", form)[0])
    data = write_responses(without_repeats(form), rows[:1], "csv")
    header, first, end = data.decode("utf-8").split("\r\n")
    assert not data.startswith(b"\xef\xbb\xbf")
    assert end == ""
    assert header.startswith('"welcome";"project/project_code";"project/report_date";')
    assert header.endswith('"challenges";"challenges/funding";"challenges/data_access";"challenges/covid19";'
                           '"challenges/other";"challenges_other";"outcome_count";"summary";"_id";"_uuid";'
                           '"_submission_time";"_validation_status";"_notes";"_status";"_submitted_by";"__version__";'
                           '"_tags";"meta/rootUuid";"_index"')  # fmt: skip
    assert first.endswith(
        f'"101";"{S1}";"2024-05-02T09:15:00";"validation_status_approved";"";"submitted_via_web";"enum1";'
        f'"{VERSION}";"";"uuid:{S1}";"1"'
    )
    archive = zipfile.ZipFile(io.BytesIO(write_responses(form, rows, "csv")))
    assert archive.namelist() == ["Bilingual test form.csv", "outcomes.csv"]
    outcomes = archive.read("outcomes.csv").decode().split("\r\n")
    assert outcomes[0].startswith('"outcomes/outcome";"outcomes/related_outputs";"_index";"_parent_table_name";'
                                  '"_parent_index";"_submission__id";"_submission__uuid";')  # fmt: skip
    assert [line.split(";")[2:5] for line in outcomes[1:4]] == [
        ['"1"', '"Bilingual test form"', '"1"'],
        ['"2"', '"Bilingual test form"', '"1"'],
        ['"3"', '"Bilingual test form"', '"2"'],
    ]


def test_labels_export_is_for_reading_not_importing(form: FormDefinition) -> None:
    rows = export_rows(read_responses(make_fixtures.kobo_xlsx(), "kobo.xlsx", form)[0])
    data = write_responses(without_repeats(form), rows, "csv", language="Français (fr)")
    header, first = data.decode().split("\r\n")[:2]
    assert '"Projet/Code du projet"' in header
    assert '"Non"' in first
    assert '"Manque de financement Autre"' in first
    with pytest.raises(BadInput) as caught:
        read_responses(data, "labels.csv", form)
    assert "question labels" in caught.value.lines()[0]


def test_round_trip_of_a_form_with_repeats_inside_groups() -> None:
    path = TEMPLATES / "idf-lm-2022.md"
    form = parse_form(path.read_bytes(), path.name).definition
    document: dict[str, Any] = {
        "project": {"project_code": "LM.0334", "respondent_role": "other", "respondent_role_other": "Consultant"},
        "outcomes_outputs": {
            "outcomes": [{"outcome": "A", "related_outputs": "1.1"}, {"outcome": "B"}],
            "lm_objectives_yn": "yes",
            "lm_objectives": "policy_advice migrant_rights",
        },
        "sustainability": {
            "outcomes_sustained": "yes",
            "sustained_outcomes": [{"sustained_outcome": "A", "sustained_by": "Ministry"}],
            "unsustained_outcomes": [{"unsustained_outcome": "B"}],
            "lessons": {"lessons_positive": "Plan early."},
        },
    }
    rows = [
        ExportRow("uuid:a", document, {}, None, "2022", "submitted", "received", 1),
        ExportRow("uuid:b", {"project": {"project_code": "LM.0181"}}, {}, None, "2022", "submitted", "approved", 2),
    ]
    for fmt, name in (("xlsx", "idf.xlsx"), ("csv", "idf.zip")):
        round_trip(form, rows, fmt, name)


def test_unknown_export_format(form: FormDefinition) -> None:
    with pytest.raises(LmreviewError, match="unknown export format"):
        write_responses(form, [], "ods")


def test_kobo_sheet_names() -> None:
    assert sheet_name("outcomes") == "outcomes"
    assert sheet_name("This string has more than 31 characters!") == "This string has more than 31..."
    taken = ["This string has more than 31..."]
    assert sheet_name("This string has more than 31 characters!", taken) == "This string has more tha... (1)"
    assert sheet_name("a/b:c?") == "a_b_c_"
    assert sheet_name("outcomes", ["outcomes"]) == "outcomes (1)"


# --- files that are not exports --------------------------------------------------------------------------------------


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bilingual_test.csv", b"0" * (4 * 1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.csv", "the file is empty"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "report.pdf", "this is a PDF"),
        (b"PK\x03\x04\x14\x00\x00\x00garbage", "damaged.zip", "damaged"),
        (make_fixtures.odk_zip()[:200], "truncated.zip", "damaged"),
        (make_fixtures.kobo_xlsx()[:-400], "truncated.xlsx", "damaged"),
        (zip_bomb(), "bomb.zip", "expands"),
        (b"<?xml version='1.0'?><data/>", "data.xml", "XML"),
        (b"\x00\x01\x02binary", "x.csv", "binary"),
        (b"name,age\nAda,36\n", "other.csv", "neither a KoboToolbox export"),
        (b"PK\x05\x06" + b"\x00" * 18, "empty.zip", "holds no CSV table"),
    ],
    ids=["empty", "pdf", "damaged-zip", "truncated-zip", "truncated-xlsx", "zip-bomb", "xml", "binary", "plain-csv",
         "empty-zip"],
)  # fmt: skip
def test_files_that_are_not_exports_give_bad_input(form: FormDefinition, data: bytes, name: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        read_responses(data, name, form)
    assert message in " ".join(caught.value.lines())


# --- exports that do not fit the form (issue 8) ----------------------------------------------------------------------

REALWORLD = Path(__file__).resolve().parents[1].parent / "shared" / "realworld"
needs_realworld = pytest.mark.skipif(
    not (REALWORLD / "odk").is_dir(), reason="the real-world exports (../shared/realworld/odk) are not here"
)


def test_an_export_of_another_form_is_refused_naming_its_columns(form: FormDefinition) -> None:
    with pytest.raises(BadInput) as caught:
        read_responses((FIXTURES / "kobo-staff-survey.csv").read_bytes(), "staff.csv", form)
    assert caught.value.lines() == [
        "staff.csv:1:-: no column of this export is a question of the form bilingual_test (its columns:"
        " staff_unit, support_rating, topics, topics/recruitment, topics/skills, topics/protection, comment); it"
        " looks like the export of another form"
    ]
    assert caught.value.warnings == []


def test_a_partial_match_imports_and_lists_the_columns_that_match_nothing(form: FormDefinition) -> None:
    text = (FIXTURES / "kobo-bilingual.csv").read_text()
    lines = [line.split(";") for line in text.splitlines()]
    lines = [
        [*cells[:2], *extra, *cells[2:]]
        for cells, extra in zip(lines, [['"district"', '"ward"']] + [['"x"', '"y"']] * 2, strict=True)
    ]
    subs, problems = read("\r\n".join(";".join(c) for c in lines).encode(), "partial.csv", form)
    assert [s.data for s in subs] == [D1, D2]
    assert problems == [
        "partial.csv:1:-: warning: 2 columns match no question of the form bilingual_test: district, ward; their"
        " values are not imported",
        main_table_only("partial.csv"),
    ]


def test_odk_rows_of_encrypted_submissions_are_skipped_with_one_warning(form: FormDefinition) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bilingual_test.csv", (FIXTURES / "odk-encrypted.csv").read_bytes())
        archive.writestr(
            "bilingual_test-outcomes.csv", (FIXTURES / "odk-bilingual" / "bilingual_test-outcomes.csv").read_bytes()
        )
    subs, problems = read(buffer.getvalue(), "bilingual_test.zip", form)
    assert problems == [
        "bilingual_test.zip:bilingual_test.csv: Status: warning: 2 rows have missing encrypted form data and were"
        " skipped"
    ]
    assert [s.instance_id for s in subs] == [f"uuid:{S3}", f"uuid:{S2}", f"uuid:{S1}"]
    assert [s.data for s in subs] == [D3, {**D2, "outcomes": OUTCOMES_2}, {**D1, "outcomes": OUTCOMES_1}]


def test_an_odk_zip_without_a_repeat_table_names_the_missing_file(form: FormDefinition) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bilingual_test.csv", (FIXTURES / "odk-bilingual" / "bilingual_test.csv").read_bytes())
    subs, problems = read(buffer.getvalue(), "odk.zip", form)
    assert problems == [
        "odk.zip: warning: bilingual_test-outcomes.csv is missing: the answers in the repeat outcomes are not"
        ' imported; export ODK Central\'s "All data tables" (a zip) to import them'
    ]
    assert [s.data for s in subs] == [D3, D2, D1]


def test_a_root_csv_of_a_form_whose_questions_are_all_in_repeats_is_refused() -> None:
    source = (
        "| survey |\n| | type | name | label |\n| | begin repeat | visits | Visit |\n| | text | place | Place |\n"
        "| | integer | people | People met |\n| | end repeat | | |\n"
        "| settings |\n| | form_id | version |\n| | visit_log | 1 |\n"
    )
    definition = parse_form(source.encode(), "visits.md").definition
    root = b"SubmissionDate,meta-instanceID,KEY,Status\n2024-01-01T00:00:00.000Z,uuid:a,uuid:a,\n"
    with pytest.raises(BadInput) as caught:
        read_responses(root, "visit_log.csv", definition)
    assert caught.value.lines() == [
        "visit_log.csv: no column of the main table is a question of the form visit_log, and visit_log-visits.csv"
        ' is missing: the answers in the repeat visits are not imported; export ODK Central\'s "All data tables" (a'
        " zip) to import them"
    ]


@needs_realworld
@pytest.mark.parametrize(
    ("form_file", "export", "count", "warnings"),
    [
        ("simple-form.xlsx", "simple.csv", 3, []),
        ("singlerepeat-form.xlsx", "singlerepeat.zip", 3, []),
        ("multirepeat-form.xlsx", "multirepeat.zip", 3, []),
        ("nested-repeats-form.xlsx", "nested-repeats.zip", 1, []),
        ("singlerepeat-form.xlsx", "singlerepeat.csv", 3, ["singlerepeat-child.csv is missing"]),
        ("mytestform-form.xlsx", "mytestform-reviewstate-encrypted.csv", 1, ["1 row has missing encrypted form data"]),
        ("mytestform-form.xlsx", "mytestform-deviceid-encrypted.csv", 0, ["1 row has missing encrypted form data"]),
    ],
)
def test_real_odk_central_exports(form_file: str, export: str, count: int, warnings: list[str]) -> None:
    definition = parse_form((REALWORLD / "odk" / form_file).read_bytes(), form_file).definition
    subs, problems = read_responses((REALWORLD / "odk" / export).read_bytes(), export, definition)
    assert [p.severity for p in problems] == ["warning"] * len(warnings), [str(p) for p in problems]
    for problem, expected in zip(problems, warnings, strict=True):
        assert expected in problem.message
    assert len(subs) == count
    assert all(s.data for s in subs)  # no empty submission


@needs_realworld
def test_a_real_odk_export_read_as_another_form_is_refused(form: FormDefinition) -> None:
    with pytest.raises(BadInput) as caught:
        read_responses((REALWORLD / "odk" / "simple.csv").read_bytes(), "simple.csv", form)
    assert (
        "no column of this export is a question of the form bilingual_test (its columns: name, age)"
        in (caught.value.lines()[0])
    )


# --- CSV exports a spreadsheet cannot run (issue 8) ------------------------------------------------------------------


def test_csv_export_escapes_formulas_and_reads_them_back(form: FormDefinition) -> None:
    flat = without_repeats(form)
    rows = export_rows(read_responses(make_fixtures.kobo_xlsx(), "kobo.xlsx", form)[0])
    rows = [dataclasses.replace(r, data={k: v for k, v in r.data.items() if k != "outcomes"}) for r in rows]
    payloads = ["=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0"]
    rows[0].data["not_sustained_why"] = payloads[0]
    rows[1].data["not_sustained_why"] = payloads[1]
    rows[2].data["not_sustained_why"] = payloads[2]
    rows[0].data["challenges_other"] = "'=already quoted"
    rows[1].data["beneficiaries"] = "-5"  # a number runs nothing: it stays a number
    rows[2].data["budget"] = "+3.5"
    data = write_responses(flat, rows, "csv")
    cells = [line.split('";"') for line in data.decode().split("\r\n")[1:4]]
    header = data.decode().split("\r\n")[0].strip('"').split('";"')
    why, other = header.index("not_sustained_why"), header.index("challenges_other")
    assert [c[why] for c in cells] == ["'=cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"]
    assert cells[0][other] == "''=already quoted"
    assert cells[1][header.index("beneficiaries")] == "-5"
    assert cells[2][header.index("budget")] == "+3.5"
    subs = round_trip(flat, rows, "csv", "export.csv")
    assert [s.data["not_sustained_why"] for s in subs] == payloads
    archive = zipfile.ZipFile(io.BytesIO(write_responses(form, rows, "csv")))
    assert "'=cmd|' /C calc'!A0" in archive.read("Bilingual test form.csv").decode()


# --- through the CLI and the review page (issue 8) -------------------------------------------------------------------

STAFF = FIXTURES / "kobo-staff-survey.csv"
STAFF_UUIDS = [f"uuid:a1b2c3d4-000{n}-4e5f-8a9b-00000000000{n}" for n in (1, 2, 3, 4)]


@pytest.fixture
def two_forms(cli: Cli) -> Cli:
    assert cli("form", "add", str(TEMPLATES / "bilingual-test.md")).exit_code == 0
    assert cli("form", "add", str(FIXTURES / "staff-survey.md")).exit_code == 0
    return cli


def submissions_of(cli: Cli) -> dict[str, int]:
    return {f["form"]: f["submissions"] for f in json.loads(cli("form", "list", "--json").stdout)}


def test_a_column_or_two_in_common_names_no_other_form(two_forms: Cli, tmp_path: Path) -> None:
    """Only an export whose columns are mostly another form's questions is sent to that form."""
    export = tmp_path / "survey.csv"
    export.write_text(
        '"staff_unit";"district";"household_size";"water_source";"_uuid"\r\n"hq";"north";"4";"well";"u-1"\r\n',
        encoding="utf-8",
    )
    run = two_forms("form", "import-responses", str(export), "--form", "bilingual_test")
    assert run.exit_code == 2
    assert "no other form in lmreview has most of these questions either" in run.stderr
    assert "staff_survey" not in run.stderr


def test_cli_refuses_another_forms_export_and_names_that_form(two_forms: Cli) -> None:
    run = two_forms("form", "import-responses", str(STAFF), "--form", "bilingual_test")
    assert run.exit_code == 2
    assert (
        "no column of this export is a question of the form bilingual_test (its columns: staff_unit, support_rating,"
        in run.stderr
    )
    assert "7 of its columns belong to questions of the form staff_survey; import it there" in run.stderr
    assert "Traceback" not in run.stderr
    assert submissions_of(two_forms) == {"bilingual_test": 0, "staff_survey": 0}


def test_cli_form_alone_attaches_to_the_one_review_using_it(two_forms: Cli) -> None:
    assert two_forms("review", "create", "staff-2024", "--form", "staff_survey").exit_code == 0
    run = two_forms("form", "import-responses", str(STAFF), "--form", "staff_survey")
    assert run.exit_code == 0, run.stderr
    assert "4 submissions created" in run.stdout
    assert "attached to review staff-2024" in run.stdout
    result = json.loads(two_forms("tabulate", "--review", "staff-2024", "-q", "support_rating", "--json").stdout)
    assert (result["review"], result["unit"], result["units"], result["answered"]) == ("staff-2024", "submission", 4, 3)


def test_cli_form_alone_with_two_reviews_asks_which(two_forms: Cli) -> None:
    for name in ("staff-a", "staff-b"):
        assert two_forms("review", "create", name, "--form", "staff_survey").exit_code == 0
    run = two_forms("form", "import-responses", str(STAFF), "--form", "staff_survey")
    assert run.exit_code == 2
    assert "2 reviews use form staff_survey (staff-a, staff-b): name the one these answers belong to" in run.stderr
    assert submissions_of(two_forms)["staff_survey"] == 0


def test_cli_form_no_review_uses_is_tabulated_by_respondent(two_forms: Cli) -> None:
    run = two_forms("form", "import-responses", str(STAFF), "--form", "staff_survey")
    assert run.exit_code == 0, run.stderr
    assert "No review uses form staff_survey: the submissions stay with the form" in run.stdout
    result = json.loads(two_forms("tabulate", "--form", "staff_survey", "-q", "support_rating", "--json").stdout)
    assert (result["review"], result["form"], result["unit"]) == (None, "staff_survey", "respondent")
    assert result["units_rule"] == "one respondent per submission of the form: no review uses form staff_survey"
    assert (result["units"], result["responded"], result["skipped"], result["answered"]) == (4, 4, 1, 3)
    assert result["rows"]["skipped"] == [STAFF_UUIDS[3]]
    by_value = {c["value"]: c for c in result["counts"]}
    assert (by_value["5"]["n"], by_value["5"]["rows"]) == (1, [STAFF_UUIDS[0]])
    assert by_value["2"]["pct"] == pytest.approx(100 / 3)
    assert by_value["2"]["pct_units"] == pytest.approx(25.0)
    topics = json.loads(two_forms("tabulate", "--form", "staff_survey", "-q", "topics", "--json").stdout)
    assert {c["value"]: c["n"] for c in topics["counts"]} == {"recruitment": 1, "skills": 2, "protection": 1}
    text = two_forms("tabulate", "--form", "staff_survey", "-q", "support_rating").stdout
    assert "Form staff_survey (no review) · question support_rating" in text
    assert "Units: 4 respondents · responded 4" in text
    assert "Units: one respondent per submission of the form: no review uses form staff_survey." in text
    # a review that starts using the form later takes over: its own submissions, none yet
    assert two_forms("review", "create", "later", "--form", "staff_survey").exit_code == 0
    later = json.loads(two_forms("tabulate", "--form", "staff_survey", "-q", "support_rating", "--json").stdout)
    assert (later["review"], later["responded"]) == ("later", 0)
    # importing the same export again attaches the submissions stored without a review to it: counted, not lost
    again = two_forms("form", "import-responses", str(STAFF), "--form", "staff_survey")
    assert again.exit_code == 0, again.stderr
    assert "0 updated, 4 unchanged, 4 attached to review later" in again.stdout
    attached = json.loads(two_forms("tabulate", "--review", "later", "-q", "support_rating", "--json").stdout)
    assert attached["responded"] == 4


def test_cli_csv_export_escapes_the_payload_and_imports_back_unchanged(two_forms: Cli, tmp_path: Path) -> None:
    assert two_forms("form", "import-responses", str(STAFF), "--form", "staff_survey").exit_code == 0
    out = tmp_path / "staff.csv"
    exported = two_forms("form", "export-responses", "--form", "staff_survey", "--format", "csv", "--out", str(out))
    assert exported.exit_code == 0, exported.stderr
    text = out.read_text(encoding="utf-8")
    assert "\"'=cmd|' /C calc'!A0\"" in text
    assert '"=cmd' not in text
    again = two_forms("form", "import-responses", str(out), "--form", "staff_survey")
    assert again.exit_code == 0, again.stderr
    assert "0 submissions created, 0 updated, 4 unchanged" in again.stdout


def test_review_page_refuses_another_forms_export_and_escapes_its_csv(two_forms: Cli, store: Store) -> None:
    from bs4 import BeautifulSoup
    from fastapi.testclient import TestClient

    from lmreview.settings import Settings
    from lmreview.store.users import add_user
    from lmreview.web.app import create_app

    assert two_forms("review", "create", "r", "--form", "bilingual_test").exit_code == 0
    assert two_forms("review", "create", "staff", "--form", "staff_survey").exit_code == 0
    with store.session() as session:
        add_user(session, "rev", "reviewer", "correct-horse", actor="test")
    join_every_review(store, "rev")
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:

        def token(path: str) -> str:
            found = BeautifulSoup(client.get(path).text, "html.parser").find("input", {"name": "csrf_token"})
            assert found is not None
            return str(found["value"])

        client.post("/login", data={"name": "rev", "password": "correct-horse", "csrf_token": token("/login")})
        upload = {"file": ("staff.csv", STAFF.read_bytes(), "text/csv")}
        refused = client.post("/reviews/r/responses", data={"csrf_token": token("/reviews/r")}, files=upload)
        assert refused.status_code == 422
        assert "no column of this export is a question of the form bilingual_test" in refused.text
        assert "belong to questions of the form staff_survey" in refused.text
        upload = {"file": ("staff.csv", STAFF.read_bytes(), "text/csv")}
        done = client.post("/reviews/staff/responses", data={"csrf_token": token("/reviews/staff")}, files=upload)
        assert done.status_code == 200
        exported = client.get("/reviews/staff/responses.csv")
        assert exported.status_code == 200
        assert "\"'=cmd|' /C calc'!A0\"" in exported.text
    assert submissions_of(two_forms) == {"bilingual_test": 0, "staff_survey": 4}
