"""Reading documents: PDF (pypdfium2), DOCX (python-docx), text and Markdown, HTML (the standard library's parser).

Every reader turns bytes into pages of :class:`Block` s, or refuses the file with one :class:`Refused` reason a
person can act on. A block is a line of a PDF or text page (``kind`` None: :mod:`lmreview.evidence.structure`
decides what it is) or an element whose kind the format states (a DOCX heading style, an HTML ``<li>``, a table
cell). The functions here never touch the database, so that a process pool can run them.
"""

from __future__ import annotations

import ctypes
import io
import itertools
import re
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

from lmreview.tables import MAX_RATIO, MAX_UNCOMPRESSED

FORMATS = {".pdf": "pdf", ".docx": "docx", ".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md"}
FORMATS |= {".html": "html", ".htm": "html"}
MAX_BYTES = 200 * 1024 * 1024
MAX_PAGES = 5000
MIN_TEXT_CHARS = 20  # fewer characters of text in the whole file: a scan without a text layer, or nothing


class Refused(Exception):
    """A file lmreview cannot read, with the reason (``FILE: reason``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Block:
    text: str
    kind: str | None = None  # heading, paragraph, list_item, table_cell, furniture; None: decide from the text
    level: int = 0  # a heading's level, when the format states it
    size: float = 0.0  # a PDF line's font size (of its first character), in points; 0 where unknown


@dataclass
class ReadFile:
    format: str
    pages: list[list[Block]]
    title: str | None = None  # a title the file's own metadata states
    extra: dict[str, str] = field(default_factory=dict)


def format_of(filename: str) -> str | None:
    return FORMATS.get(Path(filename).suffix.lower())


def read_bytes(data: bytes, filename: str) -> ReadFile:
    """Read one file; raises :class:`Refused`."""
    fmt = format_of(filename)
    if fmt is None:
        raise Refused("not a format lmreview reads (PDF, DOCX, TXT, Markdown, HTML)")
    if not data:
        raise Refused("the file is empty")
    if len(data) > MAX_BYTES:
        raise Refused(f"the file is larger than {MAX_BYTES // 1024 // 1024} MiB")
    if fmt == "pdf":
        read = _read_pdf(data)
    elif fmt == "docx":
        read = _read_docx(data)
    elif fmt == "html":
        read = _read_html(_decode(data))
    else:
        read = ReadFile(fmt, [[Block(line) for line in page.split("\n")] for page in _decode(data).split("\f")])
    if len(read.pages) > MAX_PAGES:
        raise Refused(f"the document has {len(read.pages)} pages; lmreview reads at most {MAX_PAGES}")
    chars = sum(len(b.text.strip()) for page in read.pages for b in page if b.kind != "furniture")
    if chars < MIN_TEXT_CHARS:
        if fmt == "pdf":
            raise Refused("the PDF has no text layer (a scan?); run OCR on it first, then add it again")
        if chars == 0:
            raise Refused("the file holds no text")
        raise Refused(f"the text is too short to index ({chars} characters; at least {MIN_TEXT_CHARS} are needed)")
    return read


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Refused(f"the text is not valid UTF-8 (byte {exc.start + 1}); save the file as UTF-8") from None
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


_EMPTY_PAGE_TREE = re.compile(rb"/Count\s+0\b")
_PAGE_OBJECT = re.compile(rb"/Type\s*/Page\b")  # "/Page", not "/Pages"


def _read_pdf(data: bytes) -> ReadFile:
    import pypdfium2 as pdfium

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise Refused("this is not a PDF file (it does not start with %PDF)")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise Refused("the PDF is encrypted (it needs a password); save an unprotected copy") from None
        if _EMPTY_PAGE_TREE.search(data) and not _PAGE_OBJECT.search(data):  # pdfium refuses an empty page tree
            raise Refused("the PDF has no pages") from None
        raise Refused("the PDF is damaged and cannot be read") from None
    try:
        count = len(pdf)
        if count == 0:
            raise Refused("the PDF has no pages")
        if count > MAX_PAGES:
            raise Refused(f"the PDF has {count} pages; lmreview reads at most {MAX_PAGES}")
        title = (pdf.get_metadata_dict().get("Title") or "").strip() or None
        pages: list[list[Block]] = []
        for index in range(count):
            page = pdf[index]
            textpage = page.get_textpage()
            pages.append(_pdf_lines(textpage))
            textpage.close()
            page.close()
    except pdfium.PdfiumError:
        raise Refused("the PDF is damaged and cannot be read") from None
    finally:
        pdf.close()
    return ReadFile("pdf", pages, title=title)


_PARAGRAPH_GAP = 1.4  # lines further apart than this many times the page's usual line pitch are two paragraphs
_MARKERS = "•●▪◦‣∙·○■□➢►❖✓✔✚✦✧➤"  # bullets; a lone dash may be an empty table cell
_MARKER_LINE = re.compile(rf"(?:^|\n)[ \t]*[{_MARKERS}][ \t]*(?:\r?\n|$)")


def _pdf_lines(textpage: Any) -> list[Block]:
    """A PDF page's lines, each with the font size of its first character; list markers put back on their line."""
    import pypdfium2.raw as pdfium_c

    text = textpage.get_text_range()
    lines: list[tuple[int, str]] = []  # (index of the line's first character in the text page, line)
    offset = 0
    for line in text.split("\n"):
        lines.append((offset, line.rstrip("\r")))
        offset += len(line) + 1
    if _MARKER_LINE.search(text):
        lines = _place_markers(textpage, lines)
    blocks: list[Block] = []
    x, y = ctypes.c_double(), ctypes.c_double()
    baselines: list[float | None] = []  # each line's baseline, in points from the page's foot
    for start, line in lines:
        lead = len(line) - len(line.lstrip())
        size = pdfium_c.FPDFText_GetFontSize(textpage.raw, start + lead) if line.strip() and start >= 0 else 0.0
        found = bool(size) and pdfium_c.FPDFText_GetCharOrigin(textpage.raw, start + lead, x, y)
        baselines.append(y.value if found else None)
        clean = line.replace("\r", "").replace("\x00", "").replace("\ufffe", "")
        blocks.append(Block(clean, size=round(size, 1)))
    return _paragraph_gaps(blocks, baselines)


def _paragraph_gaps(blocks: list[Block], baselines: list[float | None]) -> list[Block]:
    """A blank line where two lines of the same font size stand further apart than the page's usual line pitch
    (the space a layout puts between paragraphs), as a text file would have it."""
    steps = [
        (i, before - after)
        for i, (before, after) in enumerate(itertools.pairwise(baselines), start=1)
        if before is not None and after is not None and blocks[i].size == blocks[i - 1].size and before > after
    ]
    if len(steps) < 2:
        return blocks
    by_size: dict[float, list[float]] = {}
    for i, step in steps:
        by_size.setdefault(blocks[i].size, []).append(step)
    body = max(by_size, key=lambda size: len(by_size[size]))  # the size of most lines, and its pitch
    pitch = sorted(by_size[body])[len(by_size[body]) // 4]  # a quarter in: most pairs of lines are in a paragraph

    def usual(size: float) -> float:  # a larger font stands on a larger pitch
        own = sorted(by_size[size])
        return own[len(own) // 4] if len(own) >= 4 else pitch * size / max(body, 1.0)

    gaps = {i for i, step in steps if step > _PARAGRAPH_GAP * usual(blocks[i].size)}
    out: list[Block] = []
    for i, block in enumerate(blocks):
        if i in gaps and out and out[-1].text:
            out.append(Block(""))
        out.append(block)
    return out


def _place_markers(textpage: Any, lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """List markers a PDF draws apart from their text (WeasyPrint draws every marker of a page after the page's
    text: the page ends with a run of lines holding one bullet each) put back before the line they stand beside:
    the first line whose first character sits at the marker's height, to its right."""
    boxes: dict[int, tuple[float, float, float] | None] = {}  # line number: (left, right, vertical middle)

    def box(number: int) -> tuple[float, float, float] | None:
        if number not in boxes:
            start, line = lines[number]
            lead = len(line) - len(line.lstrip())
            try:
                left, bottom, right, top = textpage.get_charbox(start + lead)
                boxes[number] = (left, right, (bottom + top) / 2)
            except Exception:  # a character pdfium cannot place: the marker stays where it was
                boxes[number] = None
        return boxes[number]

    markers = [n for n, (_, line) in enumerate(lines) if line.strip() and line.strip() in _MARKERS]
    by_height: dict[int, list[int]] = {}  # text lines by the rounded height of their first character
    for number, (_, line) in enumerate(lines):
        where = box(number) if line.strip() and line.strip() not in _MARKERS else None
        if where is not None:
            by_height.setdefault(round(where[2]), []).append(number)
    placed: dict[int, str] = {}
    moved: set[int] = set()
    for marker in markers:
        where = box(marker)
        if where is None:
            continue
        best: tuple[float, int] | None = None
        middle = round(where[2])
        for number in (n for height in range(middle - 4, middle + 5) for n in by_height.get(height, ())):
            other = box(number)
            if number in placed or other is None or abs(other[2] - where[2]) > 4 or other[0] < where[1]:
                continue
            if best is None or other[0] - where[1] < best[0]:
                best = (other[0] - where[1], number)
        if best is not None:
            placed[best[1]] = lines[marker][1].strip()
            moved.add(marker)
    out = []
    for number, (start, line) in enumerate(lines):
        if number in moved:
            continue
        if number in placed:  # the marker and a space before the text; the offset still finds its first character
            lead = len(line) - len(line.lstrip())
            out.append((start + lead - len(placed[number]) - 1, f"{placed[number]} {line.lstrip()}"))
        else:
            out.append((start, line))
    return out


def _check_zip(data: bytes) -> None:
    """The zip limits of lmreview.tables: a DOCX is a zip file, and a small one can expand to gigabytes."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        raise Refused("this is not a DOCX document (not a zip file, or a damaged one)") from None
    with archive:
        if "word/document.xml" not in archive.namelist():
            raise Refused("this zip file is not a DOCX document (it has no word/document.xml)")
        total = 0
        for info in archive.infolist():
            total += info.file_size
            if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                ratio = info.file_size // max(info.compress_size, 1)
                raise Refused(f"refused: {info.filename} expands {ratio} times (a zip bomb?)")
        if total > MAX_UNCOMPRESSED:
            raise Refused(
                f"refused: the document expands to {total // 1024 // 1024} MiB "
                f"(limit {MAX_UNCOMPRESSED // 1024 // 1024} MiB)"
            )


_HEADING_STYLE = re.compile(r"^(?:heading|titre|título)\s*(\d)", re.IGNORECASE)


@dataclass
class DocxPart:
    """One element of a Word document's body, in reading order: a paragraph (its text as Word holds it, its style,
    whether Word numbers or bullets it, whether a page break comes before it) or a table (its rows; each cell's text
    with its white space folded, and whether it is the cell's first row: a cell merged down the rows comes again)."""

    kind: str  # "paragraph" or "table"
    text: str = ""
    style: str = ""
    numbered: bool = False
    page_break: bool = False
    rows: list[list[tuple[str, bool]]] = field(default_factory=list)


@dataclass
class DocxBody:
    parts: list[DocxPart]
    furniture: list[str]  # the paragraphs of the headers and footers
    title: str | None


def read_docx_body(data: bytes) -> DocxBody:
    """A Word document's body, headers and footers and title, read once for the whole program: the evidence library
    (:func:`read_bytes`) and the number audit (:mod:`lmreview.analysis.documents`) both read DOCX files through
    it. Refuses (:class:`Refused`) a file that is no zip, a zip bomb, or a package python-docx cannot read."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    _check_zip(data)
    try:
        document = docx.Document(io.BytesIO(data))
        furniture: list[str] = []
        for section in document.sections:
            for part in (section.header, section.footer):
                try:
                    if part.is_linked_to_previous:
                        continue
                    furniture += [p.text for p in part.paragraphs if p.text.strip()]
                except Exception:  # a header part python-docx cannot reach is left out, not fatal
                    continue
        parts: list[DocxPart] = []
        for item in document.iter_inner_content():
            if isinstance(item, Paragraph):
                parts.append(
                    DocxPart(
                        "paragraph",
                        item.text,
                        (item.style.name if item.style is not None else "") or "",
                        item._p.pPr is not None and item._p.pPr.numPr is not None,
                        bool(item.contains_page_break and item._p.xpath(".//w:br[@w:type='page']")),
                    )
                )
            elif isinstance(item, Table):
                seen: dict[int, object] = {}  # holds the elements, so that their ids stay theirs
                rows: list[list[tuple[str, bool]]] = []
                for row in item.rows:
                    cells: list[tuple[str, bool]] = []
                    in_row: set[int] = set()
                    for cell in row.cells:
                        key = id(cell._tc)
                        if key in in_row:  # a merged cell is returned once per grid column it spans
                            continue
                        in_row.add(key)
                        cells.append((" ".join(cell.text.split()), key not in seen))
                        seen[key] = cell._tc
                    rows.append(cells)
                parts.append(DocxPart("table", rows=rows))
        title = (document.core_properties.title or "").strip() or None
    except Exception:  # python-docx raises KeyError, ValueError, lxml errors… for a damaged package
        raise Refused("the DOCX document is damaged and cannot be read") from None
    return DocxBody(parts, furniture, title)


def _read_docx(data: bytes) -> ReadFile:
    body = read_docx_body(data)
    pages: list[list[Block]] = [[]]
    for part in body.parts:
        if part.kind == "paragraph":
            if part.page_break and pages[-1]:
                pages.append([])
            text = part.text.strip()
            if not text:
                continue
            heading = _HEADING_STYLE.match(part.style)
            if heading:
                pages[-1].append(Block(text, "heading", int(heading[1])))
            elif part.style == "Title":
                pages[-1].append(Block(text, "heading", 1))
            elif "List" in part.style or part.numbered:
                pages[-1].append(Block(text, "list_item"))
            else:
                pages[-1].append(Block(text, "paragraph"))
        else:
            pages[-1] += [Block(text, "table_cell") for row in part.rows for text, first in row if first and text]
    if body.furniture:
        pages[0] = [Block(text, "furniture") for text in body.furniture] + pages[0]
    return ReadFile("docx", pages, title=body.title)


class _HtmlReader(HTMLParser):
    SKIP: ClassVar[frozenset[str]] = frozenset({"script", "style", "noscript", "template", "head", "svg", "iframe"})
    KINDS: ClassVar[dict[str, str]] = {f"h{n}": "heading" for n in range(1, 7)} | {
        "li": "list_item",
        "td": "table_cell",
        "th": "table_cell",
    }
    BLOCKS: ClassVar[frozenset[str]] = frozenset(
        [
            "p",
            "div",
            "blockquote",
            "pre",
            "section",
            "article",
            "tr",
            "table",
            "ul",
            "ol",
            "dl",
            "dt",
            "dd",
            "header",
            "footer",
            "br",
            "nav",
            "aside",
            "main",
        ]
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.kind = "paragraph"
        self.level = 0
        self.skip = 0
        self.in_title = False
        self.title = ""

    def flush(self) -> None:
        text = " ".join("".join(self.parts).split())
        if text:
            self.blocks.append(Block(text, self.kind, self.level))
        self.parts = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        if tag in self.SKIP:
            self.skip += 1
        elif (tag in self.KINDS or tag in self.BLOCKS) and not self.skip:
            self.flush()
            self.kind = self.KINDS.get(tag, "paragraph")
            self.level = int(tag[1]) if self.kind == "heading" else 0

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in self.SKIP:
            self.skip = max(self.skip - 1, 0)
        elif (tag in self.KINDS or tag in self.BLOCKS) and not self.skip:
            self.flush()
            self.kind, self.level = "paragraph", 0

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        elif not self.skip:
            self.parts.append(data)


def _read_html(text: str) -> ReadFile:
    reader = _HtmlReader()
    reader.feed(text)
    reader.close()
    reader.flush()
    title = " ".join(reader.title.split()) or None
    return ReadFile("html", [reader.blocks], title=title)


def read_pdf(data: bytes) -> ReadFile:
    """A PDF's pages as lines, without :func:`read_bytes`' checks of size and text length: the number audit's
    reader (:mod:`lmreview.analysis.documents`), so that a PDF is read one way everywhere. Raises :class:`Refused`."""
    return _read_pdf(data)
