"""Submissions in and out: KoboToolbox and ODK Central exports, and a filled one-row-per-project workbook.

A submission is one JSON document shaped like the XForm instance: a group is a dict, a repeat a list of dicts, a
value the string the XForm holds ("3", "2024-05-01", "covid19 funding"). :func:`read_responses` turns an export back
into such documents and reports every value that does not fit the form at ``FILE:ROW:COLUMN``; nothing is dropped
silently. :func:`write_responses` writes KoboToolbox's "XML values and headers" layout, which Kobo users know and
:func:`read_responses` reads back unchanged. The layouts follow the tools' code (docs/research/kobo-odk-exports.md):

* KoboToolbox (kpi + formpack): question names as headers, group paths joined by ``/`` when "Include groups in
  headers" is on; a select_multiple gives a summary column and one 0/1 column per option (``q/option``); the main
  sheet ends with ``_id … meta/rootUuid, _index``; each repeat is a sheet named after the repeat (cut to 31
  characters) whose rows point at their parent's ``_index`` with ``_parent_index``, then ``_submission_<field>``
  copies. CSV: ``;``, every field quoted, CRLF, UTF-8 without BOM, main table only.
* ODK Central: ``SubmissionDate``, the fields with group paths joined by ``-``, ``KEY, SubmitterID … FormVersion``;
  the zip holds ``<form_id>.csv`` and ``<form_id>-<repeat>.csv``, whose rows carry ``PARENT_KEY`` and ``KEY``.

The package is split by role: ``layout`` (the tools' columns and the form as tables), ``files`` (opening a CSV, a
zip or a workbook), ``reading`` (columns to questions, values checked, repeats attached) and ``writing``.
"""

from __future__ import annotations

from lmreview.questionnaire.exchange.files import Source, is_zip, media_members, media_name, open_zip
from lmreview.questionnaire.exchange.layout import (
    KOBO_COPY_FIELDS,
    KOBO_REPEAT_COLUMNS,
    ODK_META,
    VALIDATION_STATUS,
    ExportRow,
    ImportedSubmission,
    review_state,
    sheet_name,
)
from lmreview.questionnaire.exchange.reading import NoQuestionColumns, question_columns, read_responses
from lmreview.questionnaire.exchange.writing import write_responses

__all__ = [
    "KOBO_COPY_FIELDS",
    "KOBO_REPEAT_COLUMNS",
    "ODK_META",
    "VALIDATION_STATUS",
    "ExportRow",
    "ImportedSubmission",
    "NoQuestionColumns",
    "Source",
    "is_zip",
    "media_members",
    "media_name",
    "open_zip",
    "question_columns",
    "read_responses",
    "review_state",
    "sheet_name",
    "write_responses",
]
