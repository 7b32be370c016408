"""From the blocks a reader returns to pages and passages: headings, paragraphs, list items and table cells, each
with its page and character offsets into the stored page text, and the heading it stands under.

Rules (each passage says which one made it, in ``rule``):

* running headers and footers — a line among the first or last three of a page that recurs, digits aside, on at
  least half the pages (and three or more) — and page numbers ("7", "Page 7 of 40", "- 7 -", "vii") are furniture:
  kept in the page text, never passages;
* a numbered heading is a short line "4.2 Title" without a final full stop; a labelled heading is a line
  "Recommendation 3" (also Lesson, Key finding, Good practice, Conclusion, Finding, Annex, Chapter) with at most
  a short title; an unnumbered heading is a short line after a paragraph break, starting with a capital, without
  final punctuation or a "Field: value" colon;
* a list item starts with a bullet, a dash, "(a)", "a)" or "1." followed by a sentence;
* lines of a paragraph are joined until a blank line, a heading, a list item or a line that ends a sentence
  noticeably short of the page's line width; a blank line inside a sentence (some PDF-to-text tools put one after
  every line) does not end it;
* DOCX and HTML state their kinds (heading styles, ``<h2>``, ``<li>``, ``<td>``): those are taken as given.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from lmreview.evidence.reading import ReadFile

_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(\S.*)$")
_LABEL = re.compile(
    r"^(recommendations?|lessons?(?: learned| learnt)?|good practices?|key findings?|findings?|conclusions?|annex"
    r"|chapter|section|part)\s+(\d{1,3}|[IVXLC]{1,6}|[A-Z])\b\s*[.:–-]?\s*(.*)$",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[•●▪◦‣∙·○■□➢►❖✓✔✚✦✧➤\-–—*]|\(?[a-z]\)|\(\d{1,2}\)|\d{1,2}[.)]|[ivx]{1,4}\))\s+(?=\S)")
_PAGE_NUMBER = re.compile(
    r"^(?:page\s+)?(?:\d{1,4}|[ivxlc]{1,7})(?:\s*(?:of|/)\s*\d{1,4})?$|^[-–—]\s*\d{1,4}\s*[-–—]$", re.IGNORECASE
)
_SENTENCE_END = re.compile(r"[.!?;:][\"'”’)\]]*$")
_FIELD = re.compile(r"^([^:]{2,40}):\s*\S")
_BARE_BULLET = re.compile(r"^[•●▪◦‣∙·○■□➢►❖✓✔✚✦✧➤\-–—*]$")
_LABELLED_START = re.compile(r"^[A-Z][a-z]+(?: [A-Za-z]+){0,2}: [A-Z]")  # "Efficiency: LMI has shown…"
_LABEL_ALONE = re.compile(r"^[A-Z][a-z]+(?: [a-z]+){0,2}:$")
_CAPTION = re.compile(r"^(?:[X•✓❖]\s+)?(?:Table|Figure|Box|Chart)\s+\d{1,3}[.:]\s+\S.{0,100}$")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")


@dataclass
class PassageData:
    page: int  # 1-based
    kind: str
    section: str | None
    char_start: int
    char_end: int
    text: str
    rule: str


@dataclass
class Structured:
    pages: list[str]
    passages: list[PassageData]
    headings: list[PassageData] = field(default_factory=list)


@dataclass
class _Line:
    page: int
    start: int
    end: int
    text: str  # stripped
    kind: str | None
    level: int
    size: float = 0.0  # font size of a PDF line; 0 where unknown


def _lay_out(read: ReadFile) -> tuple[list[str], list[_Line]]:
    """Page texts and every block as a located line (blank lines kept, as ``text`` "")."""
    texts: list[str] = []
    lines: list[_Line] = []
    for number, blocks in enumerate(read.pages, start=1):
        parts: list[str] = []
        offset = 0
        for block in blocks:
            separator = "" if not parts else ("\n" if block.kind is None else "\n\n")
            offset += len(separator)
            parts.append(separator + block.text)
            stripped = block.text.strip()
            lead = len(block.text) - len(block.text.lstrip())
            start = offset + lead
            lines.append(_Line(number, start, start + len(stripped), stripped, block.kind, block.level, block.size))
            offset += len(block.text)
        texts.append("".join(parts))
    return texts, lines


def _furniture(lines: list[_Line], page_count: int) -> set[int]:
    """Indices of running headers, footers and page numbers."""
    by_page: dict[int, list[int]] = {}
    for i, line in enumerate(lines):
        if line.text and line.kind in (None, "furniture"):
            by_page.setdefault(line.page, []).append(i)
    found = {i for i, line in enumerate(lines) if line.kind == "furniture"}
    candidates: dict[int, str] = {}
    for indices in by_page.values():
        for i in indices[:3] + indices[-3:]:
            candidates[i] = re.sub(r"\d+", "#", " ".join(lines[i].text.lower().split()))
            if _PAGE_NUMBER.match(lines[i].text):
                found.add(i)
    if page_count >= 3:
        threshold = max(3, page_count / 2)
        groups: dict[str, list[int]] = {}
        for i, key in candidates.items():
            groups.setdefault(key, []).append(i)
        for indices in groups.values():
            if len({lines[i].page for i in indices}) >= threshold and _running(lines, indices, threshold):
                found |= set(indices)
    return found


def _running(lines: list[_Line], indices: list[int], threshold: float) -> bool:
    """Lines alike but for their numbers are a running header or footer when one of them is the same on many
    pages, or when their number follows the page number ("Chapter 2, page 14"); a sentence that happens to differ
    only by a number on every page ("Returnees in district 12.") is text."""
    exact = Counter(lines[i].text for i in indices)
    if exact.most_common(1)[0][1] >= threshold:
        return True
    offsets: Counter[int] = Counter()
    for i in indices:
        numbers = re.findall(r"\d+", lines[i].text)
        if numbers:
            offsets[int(numbers[-1]) - lines[i].page] += 1
    return bool(offsets) and offsets.most_common(1)[0][1] >= threshold


def _wraps_heading(first: _Line, line: _Line, width: float, body: float) -> bool:
    """The line goes on the heading line before it: the same page and font size, the first line long enough to
    have been wrapped before this line's first word (in its larger font, the line holds fewer characters than the
    text's ``width``; capitals, which are wider, fewer still), and it does not start a heading of its own (a number,
    a label, a bullet)."""
    return (
        line.page == first.page
        and len(first.text) + len(line.text.split(maxsplit=1)[0]) + 1
        >= (0.45 if first.text.isupper() else 0.6) * width * body / max(first.size, 1.0)
        and line.size == first.size
        and not _NUMBERED.match(line.text)
        and not _LABEL.match(line.text)
        and not _BULLET.match(line.text)
        and len(first.text) + len(line.text) <= 200
        and not _SENTENCE_END.search(first.text)
    )


def _stands_alone(lines: list[_Line], index: int, width: float) -> bool:
    """The line at ``index``, after a blank line, reads as a heading: it does not go on a list item the blank line
    ends."""
    line = lines[index]
    following = next((x.text for x in lines[index + 1 : index + 3] if x.text), "")
    return _heading(line.text, True, following, width) is not None


def _heading(text: str, at_break: bool, following: str = "", width: float = 80) -> tuple[int, str] | None:
    """(level, rule) when the line is a heading; ``following`` is the next line, ``width`` the usual line's."""
    if len(text) > 120 or (_SENTENCE_END.search(text) and not text.endswith(":")) or text.endswith(","):
        return None
    if "\t" in text or "...." in text:  # a line of a table of contents
        return None
    label = _LABEL.match(text)
    if label and len(label[3]) <= 40 and not (label[3] and label[3][0].islower()):
        return 3, "labelled heading"
    numbered = _NUMBERED.match(text)
    if (
        numbered
        and numbered[2][0].isupper()
        and len(text.split()) <= 16
        and int(numbered[1].split(".")[0]) <= 30
        and not re.search(r"[.;]\s", numbered[2])
    ):
        return numbered[1].count(".") + 1, "numbered heading"
    if not at_break or len(text) > min(80, 0.7 * width) or len(text.split()) > 10 or not text[0].isupper():
        return None
    if following[:1].islower():  # the line goes on: the first line of a wrapped paragraph
        return None
    if text.endswith(":") or _FIELD.match(text) or "\t" in text or _BULLET.match(text):
        return None
    return (1 if text.isupper() and len(text) > 3 else 2), "unnumbered heading"


def _markdown(line: _Line) -> tuple[str, int, str, str] | None:
    """(kind, level, text, rule) of a Markdown line that states its kind."""
    heading = _MD_HEADING.match(line.text)
    if heading:
        return "heading", len(heading[1]), heading[2], "markdown heading"
    if line.text.startswith("|"):
        return "table_cell", 0, line.text, "markdown table"
    return None


def structure(read: ReadFile) -> Structured:
    texts, lines = _lay_out(read)
    furniture = _furniture(lines, len(texts))
    widths = sorted(len(line.text) for line in lines if line.kind is None and line.text)
    width = max(40.0, widths[int(len(widths) * 0.9)] if widths else 40.0)
    sizes: Counter[float] = Counter()
    for line in lines:
        if line.size and line.kind is None:
            sizes[line.size] += len(line.text)
    body = sizes.most_common(1)[0][0] if sizes else 0.0  # the font size of most of the text
    passages: list[PassageData] = []
    headings: list[PassageData] = []
    last_heading = -1  # index of the line that made the last heading (a heading wrapped over two lines goes on)
    section: str | None = None
    current: list[_Line] = []
    current_kind = "paragraph"
    current_rule = "paragraph"
    at_break = True

    def close() -> None:
        nonlocal current
        if current:
            text = " ".join(line.text for line in current)
            text = re.sub(r"(\w)- (\w)", r"\1-\2", text) if current[0].kind is None else text
            passages.append(
                PassageData(
                    current[0].page, current_kind, section, current[0].start, current[-1].end, text, current_rule
                )
            )
        current = []

    def add_heading(line: _Line, text: str, rule: str) -> None:
        nonlocal section
        close()
        section = text[:300]
        item = PassageData(line.page, "heading", section, line.start, line.end, text, rule)
        passages.append(item)
        headings.append(item)

    def add_cell(line: _Line, text: str, rule: str) -> None:
        close()
        passages.append(PassageData(line.page, "table_cell", section, line.start, line.end, text, rule))

    for i, line in enumerate(lines):
        if i in furniture:
            continue
        if line.kind is not None:  # the format said what this is
            close()
            if line.kind == "heading":
                add_heading(line, line.text, f"{read.format} heading")
            elif line.kind == "table_cell":
                add_cell(line, line.text, f"{read.format} table cell")
            elif line.text:
                current, current_kind, current_rule = [line], line.kind, f"{read.format} {line.kind.replace('_', ' ')}"
                close()
            continue
        if not line.text:
            previous = current[-1] if current else None
            ahead = next((j for j in range(i + 1, min(i + 4, len(lines))) if lines[j].text), None)
            following = lines[ahead] if ahead is not None else None
            joins = (
                previous is not None
                and following is not None
                and following.page == previous.page
                and not _SENTENCE_END.search(previous.text)
                and len(previous.text) >= 0.6 * width
                and not _BULLET.match(following.text)
                and not _LABEL.match(following.text)
                and not _LABELLED_START.match(following.text)
                and not (ahead is not None and _stands_alone(lines, ahead, width))
            )
            if not joins:
                close()
                at_break = True
            continue
        if current and line.page != current[-1].page and _SENTENCE_END.search(current[-1].text):
            close()
            at_break = True
        if read.format == "md":
            stated = _markdown(line)
            if stated is not None:
                kind, _level, text, rule = stated
                if kind == "heading":
                    add_heading(line, text, rule)
                    at_break = True
                    continue
                cells = [c.strip() for c in text.strip("|").split("|")]
                if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                    continue
                close()
                offset = line.start
                for cell in text.split("|"):
                    inner = cell.strip()
                    if inner:
                        start = offset + cell.index(inner)
                        passages.append(
                            PassageData(line.page, "table_cell", section, start, start + len(inner), inner, rule)
                        )
                    offset += len(cell) + 1
                at_break = True
                continue
        larger = body > 0 and line.size > body * 1.1  # a PDF line in a larger font than the text's
        if larger and last_heading == i - 1 and _wraps_heading(lines[last_heading], line, width, body) and headings:
            wrapped = headings[-1]  # the second line of a heading the page wrapped
            wrapped.text = f"{wrapped.text} {line.text}"
            wrapped.char_end = line.end
            section = wrapped.section = wrapped.text[:300]
            last_heading = i
            continue
        if line.text == "X":  # a check-box glyph a PDF-to-text tool wrote as a letter: the next item starts
            close()
            at_break = True
            continue
        after = next((x for x in lines[i + 1 : i + 3] if x.text), None)
        next_text = after.text if after is not None else ""
        if larger and after is not None and after.size == line.size:
            next_text = ""  # the next line in the same larger font is this heading's wrap, not a paragraph's
        grown = larger and bool(current) and line.size > current[-1].size * 1.1  # not the paragraph's next line
        heading = _heading(line.text, at_break or not current or grown, next_text, width)
        if heading is not None:
            add_heading(line, line.text, heading[1])
            last_heading = i
            at_break = True
            continue
        if _BARE_BULLET.match(line.text):  # a bullet the PDF put apart from its text
            continue
        if _CAPTION.match(line.text) and not _SENTENCE_END.search(line.text):  # "Table 1. Key evaluation questions"
            close()
            current, current_kind, current_rule = [line], "paragraph", "caption"
            close()
            at_break = True
            continue
        field_line = _FIELD.match(line.text)
        if field_line and len(field_line[1].split()) <= 4 and len(line.text) < 0.8 * width:
            close()
            current, current_kind, current_rule = [line], "paragraph", "field: value"
            close()
            at_break = True
            continue
        label = _LABEL.match(line.text)
        if _BULLET.match(line.text):
            close()
            current, current_kind, current_rule = [line], "list_item", "bullet or number"
        elif label and label[3]:
            close()
            current, current_kind, current_rule = [line], "paragraph", "labelled paragraph"
        elif current and (
            _LABELLED_START.match(line.text)
            or (_LABEL_ALONE.match(line.text) and _SENTENCE_END.search(current[-1].text))
        ):  # "Efficiency: LMI has…", "Effectiveness:" — a paragraph of its own, wherever the line before ends
            close()
            current, current_kind, current_rule = [line], "paragraph", "paragraph"
        else:
            if not current:
                current_kind, current_rule = "paragraph", "paragraph"
            current.append(line)
        at_break = False
        if _SENTENCE_END.search(line.text) and len(line.text) < 0.8 * width:
            close()
            at_break = True
    close()
    return Structured(texts, passages, headings)


def most_common_words(texts: list[str], limit: int = 200) -> Counter[str]:
    words: Counter[str] = Counter()
    for text in texts:
        words.update(w.lower() for w in re.findall(r"[^\W\d_]{2,}", text[:20000]))
        if sum(words.values()) > limit * 20:
            break
    return words
