"""The demo's evidence library: made-up final reports and evaluations of projects of ``lm2022``, written for
lmreview (no sentence comes from a real report), kept as text in ``demo/documents/*.md``; ``demo/evidence.py``
renders them to PDF and DOCX.

Each text is a small markup, one block per line: ``# `` the title, ``## `` a numbered section, ``### `` a
sub-heading, ``- `` a bullet, ``| label | value`` a row of a two-column table, anything else a paragraph. The texts
follow the extraction rules of docs/evidence.md: recommendations under "Recommendation N" headings with a table of
responsible unit, priority, time and resource implication, and a "Management response" section answering each by
number (or "Recommendation N: …" paragraphs each followed by a "Management response: …" paragraph); lessons, good
practices, key findings and conclusions as lists under their headings.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class DemoDocument:
    filename: str  # its extension decides the format: .pdf or .docx
    doc_type: str
    project: str | None  # the project the document is about (other codes are read from its text)

    @property
    def text(self) -> str:
        source = resources.files("lmreview.demo") / "documents" / f"{Path(self.filename).stem}.md"
        return source.read_text(encoding="utf-8")


DOCUMENTS = (
    DemoDocument("thematic-evaluation-ethical-recruitment-2022.pdf", "evaluation_report", None),
    DemoDocument("ex-post-evaluation-lm0329.docx", "evaluation_report", "LM.0329"),
    DemoDocument("final-report-lm0301.pdf", "final_report", "LM.0301"),
    DemoDocument("final-report-lm0307.docx", "final_report", "LM.0307"),
    DemoDocument("final-report-lm0325.pdf", "final_report", "LM.0325"),
    DemoDocument("final-report-lm0333.docx", "final_report", "LM.0333"),
    DemoDocument("final-report-lm0416.pdf", "final_report", "LM.0416"),
)
