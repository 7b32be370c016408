"""Evidence extraction quality: precision and recall per item kind and document, on the seed texts and on the same
documents rendered to PDF (WeasyPrint, from HTML) and DOCX (python-docx) in this run.

The gold annotations are tests/evidence_gold.py (written by reading the seeds 000-003 in ../shared/seeds). The
renderings are built from the passages lmreview finds in the text: a heading becomes ``<h2>`` / a Word heading, a
list item an HTML ``<li>`` with the list marker WeasyPrint draws / a "List Bullet" paragraph, a table cell a cell
of a one-column table, a paragraph a paragraph. Each rendering is then read back as a user's file would be
(``lmreview.evidence.service.parse``: read, structure, extract) and measured against the same gold.

    python benchmarks/bench_evidence_quality.py                  # every seed, text + PDF + DOCX
    python benchmarks/bench_evidence_quality.py --formats txt    # the texts only (no rendering)
    python benchmarks/bench_evidence_quality.py --keep DIR       # also write the renderings to DIR

Exits 1 when a figure is under the targets of issue 9 (0.95 recommendations and responses, 0.9 key findings and
lessons); skipped (exit 0, with a message) where the seeds are absent.
"""

from __future__ import annotations

import argparse
import html
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.evidence_gold

from _portfolio_data import machine  # noqa: E402
from tests.evidence_gold import GOLD, GOLD_003_TABLES, KINDS, TARGETS, located, precision_recall  # noqa: E402

from lmreview.evidence.extract import Item  # noqa: E402
from lmreview.evidence.service import Parsed, parse  # noqa: E402
from lmreview.evidence.structure import PassageData  # noqa: E402

SEEDS = ROOT.parent / "shared" / "seeds"
CSS = "@page { size: A4; margin: 2cm } body { font-family: serif; font-size: 11pt } td { padding: 2pt 6pt }"


def render_html(passages: list[PassageData], title: str) -> str:
    out = [f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>']
    out.append(f"<style>{CSS}</style></head><body>")
    open_list = open_table = False
    for passage in passages:
        if open_list and passage.kind != "list_item":
            out.append("</ul>")
            open_list = False
        if open_table and passage.kind != "table_cell":
            out.append("</table>")
            open_table = False
        text = html.escape(passage.text)
        if passage.kind == "heading":
            out.append(f"<h2>{text}</h2>")
        elif passage.kind == "list_item":
            if not open_list:
                out.append("<ul>")
                open_list = True
            out.append(f"<li>{html.escape(_unbulleted(passage.text))}</li>")
        elif passage.kind == "table_cell":
            if not open_table:
                out.append("<table>")
                open_table = True
            out.append(f"<tr><td>{text}</td></tr>")
        else:
            out.append(f"<p>{text}</p>")
    out.append("</ul>" if open_list else "")
    out.append("</table>" if open_table else "")
    out.append("</body></html>")
    return "\n".join(out)


def _unbulleted(text: str) -> str:
    """A list item's text without the bullets the text version typed: the rendering draws its own."""
    from lmreview.evidence.extract import strip_bullets

    return strip_bullets(text)


def render_pdf(passages: list[PassageData], title: str) -> bytes:
    from weasyprint import HTML

    return bytes(HTML(string=render_html(passages, title)).write_pdf())


def render_docx(passages: list[PassageData], title: str) -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    table = None
    for passage in passages:
        if passage.kind != "table_cell":
            table = None
        if passage.kind == "heading":
            document.add_heading(passage.text, 2)
        elif passage.kind == "list_item":
            document.add_paragraph(_unbulleted(passage.text), "List Bullet")
        elif passage.kind == "table_cell":
            if table is None:
                table = document.add_table(rows=0, cols=1)
            table.add_row().cells[0].text = passage.text
        else:
            document.add_paragraph(passage.text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def as_dicts(items: list[Item], parsed: Parsed | None = None, text: str = "") -> list[dict[str, object]]:
    """The items as the measure reads them; with the parsed seed text, the line each starts on."""
    found: list[dict[str, object]] = []
    for i in items:
        item: dict[str, object] = {"kind": i.kind, "number": i.number, "text": i.text}
        if parsed is not None:
            item["lines"] = [text.count("\n", 0, parsed.passages[i.first].char_start) + 1]
        found.append(item)
    return found


def response_scores(items: list[Item]) -> tuple[float, float, int]:
    """The stances of the responses to 003's recommendations: right when the number is a gold one and the stance
    is the gold stance."""
    found = {i.number: i.response.stance for i in items if i.kind == "recommendation" and i.response is not None}
    right = sum(
        1 for number, stance in found.items() if number in GOLD_003_TABLES and GOLD_003_TABLES[number][2] == stance
    )
    precision = right / len(found) if found else 0.0
    return precision, right / len(GOLD_003_TABLES), len(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--formats", default="txt,pdf,docx", help="comma-separated: txt, pdf, docx")
    parser.add_argument("--keep", type=Path, help="write the PDF and DOCX renderings to this folder")
    args = parser.parse_args()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if not set(formats) <= {"txt", "pdf", "docx"}:
        print("--formats: txt, pdf or docx, comma-separated", file=sys.stderr)
        return 2
    seeds = {name: next(SEEDS.glob(f"{name}_*.txt"), None) for name in sorted(GOLD)}
    if not all(seeds.values()):
        print(f"skipped: the seeds are absent ({SEEDS})")
        return 0
    print(f"Evidence extraction against the gold annotations; {machine()}")
    print(
        f"{'doc':4} {'format':6} {'kind':19} {'found':>5} {'gold':>5} {'precision':>9} {'recall':>7}  target  at line"
    )
    below = 0
    for name, path in seeds.items():
        assert path is not None
        data = path.read_bytes()
        text_version = parse(data, path.name)
        assert isinstance(text_version, Parsed), text_version
        for fmt in formats:
            started = time.perf_counter()
            if fmt == "txt":
                parsed: Parsed | object = text_version
            else:
                render = render_pdf if fmt == "pdf" else render_docx
                rendered = render(text_version.passages, f"Seed {name}")
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    (args.keep / f"{name}.{fmt}").write_bytes(rendered)
                parsed = parse(rendered, f"{name}.{fmt}")
            if not isinstance(parsed, Parsed):
                print(f"{name} {fmt}: not read: {parsed}")
                below += 1
                continue
            found = as_dicts(parsed.items, parsed if fmt == "txt" else None, data.decode("utf-8-sig"))
            gold = GOLD[name]
            scores = []
            for kind in KINDS:
                precision, recall = precision_recall(found, gold, kind)
                expected = sum(1 for g in gold if g[0] == kind)
                got = sum(1 for i in found if i["kind"] == kind)
                scores.append((kind, got, expected, precision, recall))
            if name == "003":
                precision, recall, got = response_scores(parsed.items)
                scores.append(("response", got, len(GOLD_003_TABLES), precision, recall))
            for kind, got, expected, precision, recall in scores:
                target = TARGETS[kind]
                met = precision >= target and recall >= target
                below += not met
                hits, lined = located(found, gold, kind) if fmt == "txt" and kind != "response" else (0, 0)
                print(
                    f"{name:4} {fmt:6} {kind:19} {got:5} {expected:5} {precision:9.2f} {recall:7.2f}  "
                    f"{target:.2f} {'met' if met else 'BELOW'}" + (f"  {hits}/{lined}" if lined else "")
                )
            print(f"{name:4} {fmt:6} {'(read seconds)':19} {time.perf_counter() - started:.2f}")
    print("all figures meet the targets" if not below else f"{below} figures below the targets")
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
