"""Every sentence lmreview ships is its own: no run of 12 words is taken from the source documents.

The seeds (``../shared/seeds``) are the documents lmreview was designed from. Their figures and names are test data;
their sentences are not ours to ship. The measure: normalise the words of a text (lower case, runs of letters and
digits), take every run of ``RUN`` consecutive words and look it up among the runs of the seeds.

Scanned: every text file of ``src/`` (questionnaire templates, sample portfolios, report and web templates, Python
sources with their strings and docstrings), ``docs/``, ``tests/`` (fixtures and test modules), ``benchmarks/``, the
README and the CHANGELOG.

Exempt, because names and figures carry over:

* names: the project titles and country lists of the sample portfolios, the titles of the documents and
  questionnaires lmreview cites and the column headings of a table the docs quote (``NAMES``); a run that touches a
  name is not counted;
* figures: a run of which half the words or more are numbers (a table of budgets, a count with its percentage);
* gold annotations: a test module that quotes what an extraction must find in a seed (the seed's own headings and
  recommendations, as test data, never shipped) says so with the marker line ``# own-words: gold annotations``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "src" / "lmreview" / "portfolio" / "samples"
RUN = 12
GOLD_MARKER = "# own-words: gold annotations"
TEXT_SUFFIXES = {".md", ".csv", ".html", ".txt", ".py", ".css", ".js", ".json", ".xml", ".toml", ".yaml", ".yml"}
AREAS = {
    "questionnaire templates": ["src/lmreview/questionnaire/templates"],
    "sample portfolios": ["src/lmreview/portfolio/samples"],
    "reports": ["src/lmreview/report", "src/lmreview/analysis"],
    "the rest of src": ["src"],
    "docs": ["docs", "README.md", "CHANGELOG.md"],
    "tests and benchmarks": ["tests", "benchmarks"],
}
# Titles the project cites by name (the sample portfolios' project titles and country lists are read from the files).
NAMES = [
    "Review of Labour Migration Funded Projects 2011-2014",
    "Review of completed Labour Migration projects 2016-2020",
    "IOM Development Fund Questionnaire on Labour Migration Projects between 2016-2020",
    "Labour Migration Review, IDF 2016",
    "Association of Southeast Asian Nations (ASEAN) Member States",
    # Column headings of the 001 table that docs/audit.md shows as the input of an audit.
    "Geographical region",
    "Number of projects",
    "Budget allocated (USD)",
]

Run = tuple[str, ...]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def runs(items: list[str]) -> Iterator[tuple[int, Run]]:
    for start in range(len(items) - RUN + 1):
        yield start, tuple(items[start : start + RUN])


@cache
def seed_runs(seeds: Path) -> frozenset[Run]:
    found: set[Run] = set()
    for path in sorted(seeds.glob("[0-9]*.txt")):
        found.update(run for _, run in runs(words(path.read_text(encoding="utf-8"))))
    assert found, f"no source document in {seeds}"
    return frozenset(found)


@cache
def names() -> tuple[Run, ...]:
    titles = list(NAMES)
    for path in sorted(SAMPLES.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                titles += [row["title"], row.get("countries") or ""]
    titles = [title for title in titles if words(title)]
    return tuple(tuple(words(title)) for title in titles)


def name_positions(items: list[str]) -> set[int]:
    """The positions of the words that belong to a name."""
    by_first: dict[str, list[Run]] = {}
    for name in names():
        by_first.setdefault(name[0], []).append(name)
    inside: set[int] = set()
    for start, word in enumerate(items):
        for name in by_first.get(word, []):
            if tuple(items[start : start + len(name)]) == name:
                inside.update(range(start, start + len(name)))
    return inside


def copied(text: str, seeds: frozenset[Run]) -> list[str]:
    """The passages of ``text`` made of runs found in the seeds, each as its words, in the order of the text."""
    items = words(text)
    exempt = name_positions(items)
    hit = [False] * len(items)
    for start, run in runs(items):
        if run not in seeds or exempt.intersection(range(start, start + RUN)):
            continue
        if 2 * sum(word.isdigit() for word in run) >= RUN:
            continue
        hit[start : start + RUN] = [True] * RUN
    passages, current = [], []
    for word, is_hit in zip(items, hit, strict=True):
        if is_hit:
            current.append(word)
        elif current:
            passages.append(" ".join(current))
            current = []
    if current:
        passages.append(" ".join(current))
    return passages


def text_files(entries: Iterable[str]) -> Iterator[Path]:
    for entry in entries:
        path = ROOT / entry
        candidates = [path] if path.is_file() else sorted(path.rglob("*"))
        for candidate in candidates:
            if candidate.is_file() and candidate.suffix in TEXT_SUFFIXES and "__pycache__" not in candidate.parts:
                yield candidate


def area_files(area: str) -> list[Path]:
    """The files of ``area``, without those of the areas listed before it."""
    earlier: set[Path] = set()
    for name, entries in AREAS.items():
        files = list(text_files(entries))
        if name == area:
            return [f for f in files if f not in earlier]
        earlier.update(files)
    raise KeyError(area)


@pytest.mark.seeds
@pytest.mark.parametrize("area", list(AREAS))
def test_no_run_of_12_words_is_taken_from_a_seed(area: str, seeds: Path) -> None:
    runs_of_seeds = seed_runs(seeds)
    files = area_files(area)
    assert files, f"nothing to scan in {AREAS[area]}"
    found = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if path.suffix == ".py" and path.parent.name == "tests" and GOLD_MARKER in text:
            continue
        found += [f"{path.relative_to(ROOT)}: {passage}" for passage in copied(text, runs_of_seeds)]
    assert not found, "passages worded as in the seeds:\n" + "\n".join(found)


@pytest.mark.seeds
def test_the_measure_finds_a_copied_sentence_and_spares_names_and_figures(seeds: Path) -> None:
    runs_of_seeds = seed_runs(seeds)
    seed = (seeds / "000_35b290caad1e23ca.txt").read_text(encoding="utf-8")
    start = seed.index("Annex 2 – LM questionnaire")
    sentence = " ".join(words(seed[start : start + 2000])[40:60])
    assert copied(f"Our own words. {sentence.upper()}! More of ours.", runs_of_seeds) == [sentence]
    # Twelve of the twenty words are too many, eleven are not.
    twelve, eleven = " ".join(sentence.split()[:12]), " ".join(sentence.split()[:11])
    assert copied(f"zz {twelve} zz", runs_of_seeds) == [twelve]
    assert copied(f"zz {eleven} zz", runs_of_seeds) == []
    # A project title is a name, a table of figures is data.
    title = "Promoting Safe Labour Migration from Vietnam through The Establishment Of A Migrant Resource Centre"
    assert tuple(words(title)) in names()
    assert copied(title, runs_of_seeds) == []
    review = (seeds / "001_1da8830a048daebe.txt").read_text(encoding="utf-8")
    figures = review[review.index("AMERICAS AND THE CARIBBEAN\t5") :][:200]
    assert sum(run in runs_of_seeds for _, run in runs(words(figures))) > 0
    assert copied(figures, runs_of_seeds) == []
