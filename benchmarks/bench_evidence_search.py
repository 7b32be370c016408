"""Evidence search latency (p50/p95) on a generated corpus of passages, against `grep -c` over the same text, and
how the index's size and build time grow with the corpus.

The corpus is built once per size and cached under benchmarks/.cache (delete the folder to rebuild): documents and
passages inserted in bulk through the store (Core inserts; the FTS5 triggers index each passage; then the index is
merged into one segment, as ``evidence add`` does after a large batch, and timed apart), passages of
words drawn from a Zipf-like vocabulary (a few hundred common words of the field and 20,000 rarer made-up ones),
so that a query can match a third of the corpus or a handful of passages. Queries: one word, two words, a phrase
(two words that follow each other in a passage), and one word with a filter (organisation and a year range). Each
runs ``lmreview.evidence.search.search`` (20 hits, with its total and facets) as the CLI and the web UI do. Wall
time and CPU time are printed: on a shared machine the CPU time (SQLite runs in this process) is the steadier figure.

    python benchmarks/bench_evidence_search.py             # 10 k and 100 k passages
    python benchmarks/bench_evidence_search.py --scale     # 10 k, 100 k and 1 M passages (build: minutes)
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import subprocess
import time
from pathlib import Path

from _evidence_corpus import CACHE, WORDS
from _portfolio_data import machine

ORGANISATIONS = ["IOM", "ILO", "UNHCR", "UNDP", "World Bank"]
RARE = 20_000
COMMON_WORDS = [w for w in WORDS if len(w) > 3]
VOCABULARY = (
    COMMON_WORDS
    + [f"{a}{b}{n}" for n in range(RARE // 100) for a, b in zip("bcdfghklmnprstvz" * 7, "aeiou" * 23, strict=False)][
        :RARE
    ]
)


def _vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    words = list(dict.fromkeys(VOCABULARY))
    weights, total = [], 0.0
    for rank in range(1, len(words) + 1):
        total += 1.0 / rank
        weights.append(total)
    return words, weights


def passage_texts(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    words, cumulative = _vocabulary(rng)
    out = []
    for _ in range(count):
        chosen = rng.choices(words, cum_weights=cumulative, k=rng.randint(15, 45))
        out.append(" ".join(chosen).capitalize() + ".")
    return out


def build(size: int) -> tuple[Path, Path, float]:
    """The SQLite file and the plain text (one passage a line) of ``size`` passages, and the build's seconds."""
    from sqlalchemy import insert

    from lmreview.evidence.models import Document, Passage
    from lmreview.store.engine import Store
    from lmreview.store.migrate import upgrade

    folder = CACHE / f"evidence-search-{size}"
    db, plain, seconds_file = folder / "search.db", folder / "passages.txt", folder / "build-seconds.txt"
    if seconds_file.exists():
        return db, plain, float(seconds_file.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("search.db*"):
        stale.unlink()
    texts = passage_texts(size)
    plain.write_text("\n".join(texts) + "\n", encoding="utf-8")
    store = Store(f"sqlite:///{db}")
    upgrade(store)
    rng = random.Random(5)
    per_document = 500
    documents = max(1, size // per_document)
    started = time.perf_counter()
    with store.session() as session:
        session.execute(
            insert(Document),
            [
                {
                    "id": d + 1,
                    "sha256": f"{d:064x}",
                    "filename": f"report-{d}.pdf",
                    "format": "pdf",
                    "size_bytes": 1000,
                    "title": f"Report {d}",
                    "doc_type": "evaluation_report",
                    "organisation": rng.choice(ORGANISATIONS),
                    "year": rng.randint(2010, 2023),
                    "page_count": per_document // 10,
                    "actor": "bench",
                }
                for d in range(documents)
            ],
        )
        batch = 20_000
        for start in range(0, size, batch):
            session.execute(
                insert(Passage),
                [
                    {
                        "document_id": n // per_document + 1 if n // per_document < documents else documents,
                        "page": (n % per_document) // 10 + 1,
                        "seq": n % per_document,
                        "kind": "paragraph",
                        "section": None,
                        "char_start": 0,
                        "char_end": len(texts[n]),
                        "text": texts[n],
                    }
                    for n in range(start, min(size, start + batch))
                ],
            )
    seconds = time.perf_counter() - started
    store.dispose()
    seconds_file.write_text(str(seconds))
    return db, plain, seconds


def optimize(db: Path) -> float:
    """Merge the FTS5 index's segments into one (``lmreview.evidence.index.optimize``), once per cached corpus;
    its seconds. The triggers leave one segment per few hundred passages inserted; a query opens each of them."""
    seconds_file = db.parent / "optimize-seconds.txt"
    if seconds_file.exists():
        return float(seconds_file.read_text())
    from lmreview.evidence.index import optimize as merge
    from lmreview.store.engine import Store

    store = Store(f"sqlite:///{db}")
    started = time.perf_counter()
    with store.session() as session:
        merge(session)
    seconds = time.perf_counter() - started
    store.dispose()
    seconds_file.write_text(str(seconds))
    return seconds


def queries(texts_file: Path, count: int) -> dict[str, list[tuple[str, dict[str, object]]]]:
    rng = random.Random(3)
    words, _ = _vocabulary(rng)
    common, middle = words[:40], words[40:2000]
    lines = texts_file.read_text(encoding="utf-8").splitlines()[:5000]
    phrases = []
    while len(phrases) < count:
        tokens = rng.choice(lines).rstrip(".").lower().split()
        i = rng.randrange(len(tokens) - 1)
        phrases.append(f'"{tokens[i]} {tokens[i + 1]}"')
    return {
        "one word (common)": [(rng.choice(common), {}) for _ in range(count)],
        "one word (rarer)": [(rng.choice(middle), {}) for _ in range(count)],
        "two words": [(f"{rng.choice(common)} {rng.choice(middle)}", {}) for _ in range(count)],
        "phrase": [(p, {}) for p in phrases],
        "filtered (org, years)": [
            (rng.choice(common), {"organisation": rng.choice(ORGANISATIONS), "year_from": 2015, "year_to": 2018})
            for _ in range(count)
        ],
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def grep_seconds(plain: Path, words: list[str]) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds (user + system, of the child) of ``grep -c`` for each word."""
    wall, cpu = [], []
    for word in words:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(["grep", "-c", "-i", "-w", word, str(plain)], capture_output=True)
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(size: int, count: int) -> None:
    from lmreview.evidence.search import Filters, search
    from lmreview.store.engine import Store

    db, plain, build_seconds = build(size)
    optimize_seconds = optimize(db)
    size_mb = sum(p.stat().st_size for p in db.parent.glob("search.db*")) / 1e6
    text_mb = plain.stat().st_size / 1e6
    print(
        f"\n{size:,} passages: built in {build_seconds:.1f} s + index optimized in {optimize_seconds:.1f} s, "
        f"database {size_mb:.0f} MB, text {text_mb:.0f} MB"
    )
    store = Store(f"sqlite:///{db}")
    with store.session() as session:
        search(session, "migration")  # a warm cache, as a running server has
        for label, runs in queries(plain, count).items():
            times, cpu, totals = [], [], []
            for query, filters in runs:
                started, started_cpu = time.perf_counter(), time.process_time()
                result = search(session, query, Filters(**filters), limit=20)  # type: ignore[arg-type]
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
                totals.append(result.total)
            anchor, anchor_cpu = grep_seconds(plain, [q.strip('"').split()[0] for q, _ in runs[: max(5, count // 5)]])
            ms = [percentile(v, share) * 1000 for v in (times, cpu) for share in (0.5, 0.95)]
            grep = [percentile(v, 0.5) * 1000 for v in (anchor, anchor_cpu)]
            print(
                f"  {label:22} wall p50 {ms[0]:6.1f} p95 {ms[1]:6.1f} ms, CPU p50 {ms[2]:6.1f} p95 {ms[3]:6.1f} ms "
                f"({statistics.median(totals):,.0f} hits) | grep -c wall {grep[0]:6.0f}, CPU {grep[1]:6.0f} ms"
            )
    store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", action="store_true", help="also 1,000,000 passages")
    parser.add_argument("--sizes", help="comma-separated passage counts (instead of the defaults)")
    parser.add_argument("--queries", type=int, default=40, help="queries of each kind")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [10_000, 100_000]
    if args.scale and not args.sizes:
        sizes.append(1_000_000)
    print(f"Evidence search on SQLite (FTS5); {machine()}; {args.queries} queries of each kind, 20 hits each")
    for size in sizes:
        measure(size, args.queries)


if __name__ == "__main__":
    main()
