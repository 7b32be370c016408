"""The demo's evidence library: the texts of ``demo/library.py`` rendered to PDF (WeasyPrint) and DOCX
(python-docx) and added through the evidence service, so that the extractor finds their items as it would in any
report.

Rendering is deterministic (the same bytes on every run: WeasyPrint writes no date unless told to, and the DOCX zip
entries get a fixed time), and a document whose name and title the library holds already is not rendered again,
so a second ``lmreview demo`` adds nothing.
"""

from __future__ import annotations

import html
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lmreview.demo.library import DOCUMENTS, DemoDocument
from lmreview.evidence import service
from lmreview.evidence.models import Document, Item

FIXED_TIME = (2022, 1, 1, 0, 0, 0)
STYLE = (
    "@page { size: A5; margin: 1.8cm } body { font-family: sans-serif; font-size: 9.5pt; line-height: 1.35 } "
    "h1 { font-size: 14pt } h2 { font-size: 12pt; break-before: page } h3 { font-size: 10.5pt } "
    "td { padding: 2pt 8pt; vertical-align: top } ul { list-style: none; padding-left: 0 }"
)


@dataclass
class DemoLibrary:
    documents: list[Document] = field(default_factory=list)
    added: int = 0
    files: list[Path] = field(default_factory=list)
    items: dict[str, int] = field(default_factory=dict)  # kind -> items of the demo's documents

    @property
    def item_total(self) -> int:
        return sum(self.items.values())


@dataclass
class Block:
    kind: str  # title, section, heading, paragraph, list, table
    text: str = ""
    items: list[str] = field(default_factory=list)
    rows: list[tuple[str, str]] = field(default_factory=list)


def blocks(text: str) -> list[Block]:
    """The markup of ``demo/library.py`` as blocks."""
    out: list[Block] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        for prefix, kind in (("### ", "heading"), ("## ", "section"), ("# ", "title")):
            if line.startswith(prefix):
                out.append(Block(kind, line[len(prefix) :].strip()))
                break
        else:
            if line.startswith("- "):
                if not out or out[-1].kind != "list":
                    out.append(Block("list"))
                out[-1].items.append(line[2:].strip())
            elif line.startswith("| "):
                label, _, value = line[2:].partition(" | ")
                if not out or out[-1].kind != "table":
                    out.append(Block("table"))
                out[-1].rows.append((label.strip(), value.strip()))
            else:
                out.append(Block("paragraph", line.strip()))
    return out


def title_of(document: DemoDocument) -> str:
    return next(b.text for b in blocks(document.text) if b.kind == "title")


def to_html(document: DemoDocument) -> str:
    """The document as an HTML page for WeasyPrint; bullets are text before each item, as a word processor writes
    them (a marker WeasyPrint draws apart from its text would not be read as a bullet), and a table of fields is
    written as "Label: value" lines (a PDF reader may join the cells of a row into one line)."""
    e = html.escape
    tags = {"title": "h1", "section": "h2", "heading": "h3", "paragraph": "p"}
    body: list[str] = []
    for block in blocks(document.text):
        if block.kind == "list":
            body.append("<ul>" + "".join(f"<li>• {e(item)}</li>" for item in block.items) + "</ul>")
        elif block.kind == "table":
            body.extend(f"<p>{e(label)}: {e(value)}</p>" for label, value in block.rows)
        else:
            tag = tags[block.kind]
            body.append(f"<{tag}>{e(block.text)}</{tag}>")
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{e(title_of(document))}</title>'
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>"
    )


def to_pdf(document: DemoDocument) -> bytes:
    from weasyprint import HTML

    data = HTML(string=to_html(document)).write_pdf()
    assert data is not None
    return bytes(data)


def to_docx(document: DemoDocument) -> bytes:
    import docx

    out = docx.Document()
    props = out.core_properties
    props.title = title_of(document)
    props.author = "lmreview demo"
    levels = {"title": 0, "section": 1, "heading": 2}
    for block in blocks(document.text):
        if block.kind in levels:
            out.add_heading(block.text, levels[block.kind])
        elif block.kind == "list":
            for item in block.items:
                out.add_paragraph(item, "List Bullet")
        elif block.kind == "table":
            table = out.add_table(rows=len(block.rows), cols=2)
            for row, (label, value) in enumerate(block.rows):
                table.cell(row, 0).text, table.cell(row, 1).text = label, value
        else:
            out.add_paragraph(block.text)
    buffer = io.BytesIO()
    out.save(buffer)
    return _fixed_times(buffer.getvalue())


def _fixed_times(data: bytes) -> bytes:
    """The same zip with every entry dated FIXED_TIME, so that the same text gives the same bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, source.read(info))
    return buffer.getvalue()


def render(document: DemoDocument) -> bytes:
    return to_pdf(document) if Path(document.filename).suffix == ".pdf" else to_docx(document)


def load_library(session: Session, *, actor: str, folder: Path | None = None) -> DemoLibrary:
    """Add the demo's documents to the evidence library (those not there yet) and count their items; with
    ``folder``, also write the files there (those missing), for a newcomer to open.

    A document is there already when the library holds a file of its name and title (so that a font of the
    machine that renders it slightly differently after an update does not add it twice), or its very bytes."""
    result = DemoLibrary()
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    for document in DOCUMENTS:
        path = folder / document.filename if folder is not None else None
        there = session.scalar(
            select(Document)
            .where(Document.filename == document.filename, Document.title == title_of(document))
            .order_by(Document.id)
            .limit(1)
        )
        if there is not None and (path is None or path.exists()):
            result.documents.append(there)
            continue
        data = render(document)
        if path is not None:
            path.write_bytes(data)
            result.files.append(path)
        if there is not None:
            result.documents.append(there)
            continue
        report = service.add_files(
            session,
            [(document.filename, data)],
            actor=actor,
            doc_type=document.doc_type,
            project=document.project,
        )
        if report.refused:
            problem = report.refused[0]
            raise RuntimeError(f"the demo document {problem.file} was refused: {problem.message}")
        result.added += len(report.added)
        found = report.added or [service.get_document(session, report.duplicates[0][1])]
        result.documents.extend(found)
    ids = [d.id for d in result.documents]
    counts = session.execute(select(Item.kind, func.count()).where(Item.document_id.in_(ids)).group_by(Item.kind)).all()
    result.items = {str(kind): int(n) for kind, n in counts}
    return result
