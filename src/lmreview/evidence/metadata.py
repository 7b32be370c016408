"""Metadata read from a document's first pages where the text states it: the title, the document and evaluation
type, the organisation, the evaluators, the period, the year, the language and project codes. Everything here is
a suggestion a reviewer can edit (``lmreview evidence set``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lmreview.errors import LmreviewError
from lmreview.evidence.reading import ReadFile
from lmreview.evidence.structure import Structured, most_common_words

# Project codes: IOM ("LM.0181"), ILO ("GLO/06/57/UKM"), IATI activity identifiers ("XM-DAC-47066-LM.0181").
PROJECT_PATTERNS = (
    re.compile(r"\b[A-Z]{2}-[A-Z0-9]{2,}-[A-Z0-9]+-[A-Z]{2}\.\d{4}\b"),
    re.compile(r"(?<![\w.])[A-Z]{2}\.\d{4}\b"),
    re.compile(r"\b[A-Z]{3}/\d{2}/\d{2}/[A-Z]{3}\b"),
)
_FIELDS = {
    "evaluation_type": r"evaluation type|type of evaluation",
    "evaluators": r"evaluators?(?:\s*\(s\))?|evaluation team|consultants?",
    "period": r"evaluation period|period covered|period of evaluation|project period",
    "date": r"final report date|report date|date of (?:the )?report|date",
    "organisation": r"commissioned by|organi[sz]ation|evaluation manager|managed by",
}
_FIELD_LINE = {
    key: re.compile(rf"^\s*(?:{pattern})\s*:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
    for key, pattern in _FIELDS.items()
}
_EVALUATION_TYPES = (
    ("high-level", r"high[- ]level evaluation"),
    ("mid-term", r"mid[- ]?term (?:evaluation|review)"),
    ("ex-post", r"ex[- ]post evaluation"),
    ("thematic", r"thematic evaluation"),
    ("final", r"final (?:independent )?evaluation"),
    ("synthesis", r"synthesis review|evaluation synthesis"),
)
_DOCUMENT_TYPES = (
    ("evaluation_brief", r"evaluation brief"),
    ("final_report", r"final (?:narrative )?report(?! date)"),
    ("evaluation_report", r"evaluation"),
    ("review", r"\breview\b"),
)
_ORGANISATIONS = (
    ("ILO", r"\bILO\b|International Labour (?:Organization|Office)"),
    ("IOM", r"\bIOM\b|International Organization for Migration"),
    ("UNDP", r"\bUNDP\b"),
    ("UNHCR", r"\bUNHCR\b"),
    ("UNICEF", r"\bUNICEF\b"),
    ("UN Women", r"\bUN Women\b"),
    ("European Commission", r"European Commission"),
)
_STOPWORDS = {
    "en": {"the", "and", "of", "to", "in", "is", "for", "with", "that"},
    "fr": {"le", "la", "les", "et", "des", "du", "est", "pour", "dans"},
    "es": {"el", "la", "los", "las", "y", "del", "para", "por", "con"},
}


@dataclass
class Metadata:
    title: str
    doc_type: str = "other"
    evaluation_type: str | None = None
    organisation: str | None = None
    evaluators: str | None = None
    period: str | None = None
    year: int | None = None
    language: str | None = None
    project_codes: list[str] = field(default_factory=list)


MAX_PATTERNS = 20  # patterns of project codes a setting may add


def code_patterns(patterns: Sequence[str]) -> list[Any]:
    """Compile an organisation's own patterns of project codes (setting ``project_code_patterns``) with RE2, which
    matches in linear time whatever the pattern; a pattern RE2 cannot read is the user's mistake, with its reason."""
    import re2

    if len(patterns) > MAX_PATTERNS:
        raise LmreviewError(
            f"project_code_patterns: {len(patterns)} patterns; at most {MAX_PATTERNS} are read for project codes"
        )
    options = re2.Options()
    options.log_errors = False
    compiled = []
    for pattern in patterns:
        if not pattern.strip() or len(pattern) > 200:
            raise LmreviewError(f"project_code_patterns: {pattern[:40]!r} is not a pattern of 1 to 200 characters")
        try:
            compiled.append(re2.compile(pattern, options))
        except re2.error as exc:
            reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else exc
            raise LmreviewError(f"project_code_patterns: {pattern!r} is not a regular expression ({reason})") from None
    return compiled


def project_codes(text: str, extra: Sequence[Any] = ()) -> list[str]:
    """The codes the built-in patterns find in ``text``, then those of ``extra`` (:func:`code_patterns`)."""
    found: list[str] = []
    for pattern in (*PROJECT_PATTERNS, *extra):
        for match in pattern.finditer(text):
            code = match.group(0).strip()
            if code and code not in found:
                found.append(code)
    return found


def _years(text: str) -> list[int]:
    now = dt.date.today().year
    return [int(y) for y in re.findall(r"\b(19[89]\d|20\d\d)\b", text) if int(y) <= now + 1]


def read_metadata(read: ReadFile, structured: Structured, filename: str, patterns: Sequence[str] = ()) -> Metadata:
    """The metadata the text states; ``patterns``: more patterns of project codes (setting
    ``project_code_patterns``)."""
    head = "\n".join(structured.pages[:3])[:8000]
    title = re.sub(r"^Microsoft (?:Word|PowerPoint) - ", "", read.title or "").strip()
    if re.search(r"\.(?:docx?|pdf|pptx?)$", title, re.IGNORECASE):  # a file name, not a title
        title = ""
    if not title or title.lower() in {"untitled", "microsoft word", "document", "title"}:
        first = next((p for p in structured.passages if p.page == 1 and len(p.text) >= 4), None)
        title = first.text if first is not None and len(first.text) <= 300 else ""
        title = re.sub(r"^(?:document\s+)?title\s*:\s*", "", title, flags=re.IGNORECASE)  # "Title: …" keeps no label
    meta = Metadata(title=(title or filename)[:500])
    fields = {key: m[1] for key, pattern in _FIELD_LINE.items() if (m := pattern.search(head))}
    lower = head.lower()
    meta.doc_type = next((name for name, pattern in _DOCUMENT_TYPES if re.search(pattern, lower)), "other")
    stated_type = fields.get("evaluation_type")
    meta.evaluation_type = next(
        (name for name, pattern in _EVALUATION_TYPES if re.search(pattern, lower)),
        stated_type.lower()[:80] if stated_type else None,
    )
    if "organisation" in fields:
        meta.organisation = fields["organisation"][:200]
    else:
        counts = {name: len(re.findall(pattern, head)) for name, pattern in _ORGANISATIONS}
        best = max(counts, key=lambda name: counts[name])
        meta.organisation = best if counts[best] else None
    meta.evaluators = fields.get("evaluators", "")[:500] or None
    period = fields.get("period")
    if period is None:
        span = re.search(r"\b((?:19|20)\d\d)\s*[-–]\s*((?:19|20)?\d\d)\b", meta.title)
        period = span[0] if span else None
    meta.period = re.sub(r"\s*[-–]\s*", "–", period)[:80] if period else None
    dated = _years(fields.get("date", ""))
    years = dated or _years(structured.pages[0][:3000] if structured.pages else "")
    meta.year = max(years) if years else None
    words = most_common_words(structured.pages)
    scores = {lang: sum(words[w] for w in stop) for lang, stop in _STOPWORDS.items()}
    best_lang = max(scores, key=lambda lang: scores[lang])
    meta.language = best_lang if scores[best_lang] >= 5 else None
    meta.project_codes = project_codes("\n".join(structured.pages), code_patterns(patterns))[:50]
    return meta
