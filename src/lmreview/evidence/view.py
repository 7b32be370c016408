"""What the web page of a document needs: its passages page by page, the query's words marked in them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from lmreview.errors import LmreviewError
from lmreview.evidence.models import Passage
from lmreview.evidence.search import MARK_END, MARK_START, highlight_pattern, parse_query
from lmreview.evidence.service import passages


@dataclass
class Segment:
    text: str
    marked: bool


@dataclass
class ShownPassage:
    passage: Passage
    segments: list[Segment]

    @property
    def marked(self) -> bool:
        return any(s.marked for s in self.segments)


@dataclass
class ShownPage:
    number: int
    passages: list[ShownPassage]


def split_marks(snippet: str) -> list[Segment]:
    """A snippet with marked words (between MARK_START and MARK_END) as segments, for a template that escapes text."""
    segments: list[Segment] = []
    for part in re.split(f"({MARK_START}.*?{MARK_END})", snippet, flags=re.DOTALL):
        if part.startswith(MARK_START) and part.endswith(MARK_END):
            segments.append(Segment(part[1:-1], True))
        elif part:
            segments.append(Segment(part, False))
    return segments


def _segments(text: str, pattern: re.Pattern[str] | None) -> list[Segment]:
    if pattern is None:
        return [Segment(text, False)]
    segments: list[Segment] = []
    last = 0
    for match in pattern.finditer(text):
        if match.start() > last:
            segments.append(Segment(text[last : match.start()], False))
        segments.append(Segment(match[0], True))
        last = match.end()
    if last < len(text):
        segments.append(Segment(text[last:], False))
    return segments


def document_pages(session: Session, document_id: int, query: str | None = None) -> list[ShownPage]:
    """The document's passages by page; with a query, its words are marked (a bad query marks nothing)."""
    pattern = None
    if query and query.strip():
        try:
            pattern = highlight_pattern(parse_query(query))
        except LmreviewError:
            pattern = None
    pages: dict[int, ShownPage] = {}
    for passage in passages(session, document_id):
        page = pages.setdefault(passage.page, ShownPage(passage.page, []))
        page.passages.append(ShownPassage(passage, _segments(passage.text, pattern)))
    return list(pages.values())
