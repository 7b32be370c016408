"""The demo's evidence library: the texts of ``demo/library.py`` rendered to PDF (WeasyPrint) and DOCX
(python-docx) and added through the evidence service, so that the extractor finds their items as it would in any
report.

Rendering is deterministic (the same bytes on every run: WeasyPrint writes no date unless told to, and the DOCX zip
entries get a fixed time), so a second ``lmreview demo`` finds every file in the library already (same content)
and adds nothing.
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


def blocks(text: str) -> list[tuple[str, str | list[str] | list[tuple[str, str]]]]:
    """The markup of ``demo/library.py`` as (kind, content): title, section, heading, paragraph, list, table."""
    out: list[tuple[str, str | list[str] | list[tuple[str, str]]]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        for prefix, kind in (("### ", "heading"), ("## ", "section"), ("# ", "title")):
            if line.startswith(prefix):
                out.append((kind, line[len(prefix) :].strip()))
                break
        else:
            if line.startswith("- "):
                if out and out[-1][0] == "list":
                    out[-1][1].append(line[2:].strip())  # type: ignore[union-attr]
                else:
                    out.append(("list", [line[2:].strip()]))
            elif line.startswith("| "):
                label, _, value = line[2:].partition(" | ")
                row = (label.strip(), value.strip())
                if out and out[-1][0] == "table":
                    out[-1][1].append(row)  # type: ignore[arg-type]
                else:
                    out.append(("table", [row]))
            else:
                out.append(("paragraph", line.strip()))
    return out


def title_of(document: DemoDocument) -> str:
    return next(str(content) for kind, content in blocks(document.text) if kind == "title")


def to_html(document: DemoDocument) -> str:
    """The document as an HTML page for WeasyPrint; bullets are text before each item, as a word processor writes
    them (a marker WeasyPrint draws apart from its text would not be read as a bullet), and a table of fields is
    written as "Label: value" lines."""
    e = html.escape
    body: list[str] = []
    for kind, content in blocks(document.text):
        if kind == "title":
            body.append(f"<h1>{e(str(content))}</h1>")
        elif kind == "section":
            body.append(f"<h2>{e(str(content))}</h2>")
        elif kind == "heading":
            body.append(f"<h3>{e(str(content))}</h3>")
        elif kind == "list":
            body.append("<ul>" + "".join(f"<li>• {e(str(item))}</li>" for item in content) + "</ul>")
        elif kind == "table":  # "Label: value" lines: a PDF reader may join the cells of a row into one line
            body.extend(f"<p>{e(a)}: {e(b)}</p>" for a, b in content)  # type: ignore[misc]
        else:
            body.append(f"<p>{e(str(content))}</p>")
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
    for kind, content in blocks(document.text):
        if kind == "title":
            out.add_heading(str(content), 0)
        elif kind == "section":
            out.add_heading(str(content), 1)
        elif kind == "heading":
            out.add_heading(str(content), 2)
        elif kind == "list":
            for item in content:
                out.add_paragraph(str(item), "List Bullet")
        elif kind == "table":
            table = out.add_table(rows=len(content), cols=2)
            for row, (label, value) in enumerate(content):  # type: ignore[misc]
                table.cell(row, 0).text, table.cell(row, 1).text = label, value
        else:
            out.add_paragraph(str(content))
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
    ``folder``, also write the files there, for a newcomer to open."""
    result = DemoLibrary()
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    for document in DOCUMENTS:
        data = render(document)
        if folder is not None:
            (folder / document.filename).write_bytes(data)
            result.files.append(folder / document.filename)
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
    counts = session.execute(
        select(Item.kind, func.count()).where(Item.document_id.in_(ids)).group_by(Item.kind)
    ).all()
    result.items = {kind: n for kind, n in counts}
    return result
