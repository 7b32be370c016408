"""Generated evidence corpora for the benchmarks (fixed seeds): evaluation-report-like PDFs (WeasyPrint) and
passages for a search index. Cached under benchmarks/.cache (gitignored) so that a second run reuses them."""

from __future__ import annotations

import hashlib
import html
import random
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
WORDS = [
    "migration",
    "labour",
    "workers",
    "recruitment",
    "fees",
    "employers",
    "agencies",
    "ministry",
    "training",
    "skills",
    "certificate",
    "border",
    "return",
    "reintegration",
    "remittances",
    "diaspora",
    "policy",
    "framework",
    "capacity",
    "officials",
    "survey",
    "respondents",
    "project",
    "outcome",
    "output",
    "indicator",
    "baseline",
    "target",
    "monitoring",
    "evaluation",
    "sustainability",
    "relevance",
    "coherence",
    "efficiency",
    "effectiveness",
    "impact",
    "gender",
    "youth",
    "women",
    "rural",
    "urban",
    "corridor",
    "country",
    "region",
    "mission",
    "office",
    "partner",
    "donor",
    "budget",
    "funding",
    "extension",
    "timeline",
    "delay",
    "assessment",
    "study",
    "report",
    "guideline",
    "manual",
    "curriculum",
    "pilot",
    "scheme",
    "register",
    "database",
    "data",
    "access",
    "protection",
    "rights",
    "contract",
    "wage",
    "inspection",
    "complaint",
    "mechanism",
    "dialogue",
    "cooperation",
    "agreement",
    "bilateral",
    "regional",
    "national",
    "local",
    "community",
    "association",
    "union",
    "federation",
    "network",
    "awareness",
    "campaign",
    "information",
    "centre",
    "service",
    "referral",
    "health",
    "insurance",
    "pension",
    "housing",
    "language",
    "exam",
]
CODES = [f"LM.{n:04d}" for n in range(100, 400)]


def sentence(rng: random.Random, low: int = 8, high: int = 24) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    if rng.random() < 0.15:
        words.insert(rng.randrange(len(words)), rng.choice(CODES))
    if rng.random() < 0.2:
        words.insert(rng.randrange(len(words)), f"{rng.randint(2, 98)} per cent")
    return " ".join(words).capitalize() + "."


def report_html(rng: random.Random, number: int, chapters: int) -> str:
    """One report: a title page, chapters of paragraphs, lists and a table, a recommendations chapter."""
    out = [
        '<!doctype html><html><head><meta charset="utf-8">',
        f"<title>Evaluation of labour migration project {number}</title>",
        "<style>@page { size: A4; margin: 2cm; @bottom-center { content: counter(page) } }"
        " body { font-family: serif; font-size: 11pt } h2 { break-before: page } td { padding: 2pt 6pt }</style>",
        f"</head><body><h1>Evaluation of labour migration project {number}</h1>",
        f"<p>Commissioned by: IOM</p><p>Evaluation period: 20{rng.randint(10, 19)}-2022</p>",
    ]
    for chapter in range(1, chapters + 1):
        out.append(f"<h2>{chapter}. {' '.join(rng.choice(WORDS) for _ in range(3)).capitalize()}</h2>")
        for section in range(1, 4):
            out.append(f"<h3>{chapter}.{section} {' '.join(rng.choice(WORDS) for _ in range(2)).capitalize()}</h3>")
            for _ in range(rng.randint(3, 5)):
                out.append("<p>" + " ".join(sentence(rng) for _ in range(rng.randint(3, 6))) + "</p>")
            if rng.random() < 0.5:
                out.append("<ul>" + "".join(f"<li>{sentence(rng)}</li>" for _ in range(rng.randint(3, 6))) + "</ul>")
            if rng.random() < 0.3:
                rows = "".join(
                    f"<tr><td>{html.escape(rng.choice(WORDS))}</td><td>{rng.randint(1, 999)}</td>"
                    f"<td>{rng.randint(1, 99)}%</td></tr>"
                    for _ in range(rng.randint(3, 8))
                )
                out.append(f"<table>{rows}</table>")
    out.append(f"<h2>{chapters + 1}. Recommendations</h2>")
    for n in range(1, rng.randint(4, 9)):
        out.append(f"<h3>Recommendation {n}</h3><p>{sentence(rng)} {sentence(rng)}</p>")
    out.append("</body></html>")
    return "\n".join(out)


def pdf_corpus(min_pages: int, seed: int = 9) -> tuple[list[Path], int]:
    """PDF reports of ``min_pages`` pages or more in all (cached); the files and their page count."""
    import pypdfium2 as pdfium
    from weasyprint import HTML

    folder = CACHE / f"evidence-pdfs-{seed}-{min_pages}"
    done = folder / "pages.txt"
    if done.exists():
        return sorted(folder.glob("*.pdf")), int(done.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    pages = 0
    number = 0
    while pages < min_pages:
        number += 1
        path = folder / f"report-{number:03d}.pdf"
        HTML(string=report_html(rng, number, rng.randint(8, 16))).write_pdf(path)
        pdf = pdfium.PdfDocument(path)
        pages += len(pdf)
        pdf.close()
    done.write_text(str(pages))
    return sorted(folder.glob("*.pdf")), pages


def passage_rows(count: int, seed: int = 11) -> list[str]:
    """``count`` passage texts (two to five sentences each)."""
    rng = random.Random(seed)
    return [" ".join(sentence(rng) for _ in range(rng.randint(2, 5))) for _ in range(count)]


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:12]
