"""Reading files for the evidence library, without the database: what worker processes run.

This module imports neither SQLAlchemy nor the models, so that ``lmreview evidence add`` can start its worker
processes first and open the database while they read (the imports of the database side are a second of CPU,
during which the other cores would wait).
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from lmreview.errors import Problem
from lmreview.evidence.extract import Item as ExtractedItem
from lmreview.evidence.extract import extract
from lmreview.evidence.metadata import Metadata, read_metadata
from lmreview.evidence.reading import FORMATS, Refused, read_bytes
from lmreview.evidence.structure import PassageData, structure


@dataclass
class Parsed:
    """What reading one file gives, ready to write (picklable, so that worker processes can return it)."""

    filename: str
    sha256: str
    format: str
    size: int
    pages: list[str]
    passages: list[PassageData]
    metadata: Metadata
    items: list[ExtractedItem]


def parse(data: bytes, filename: str, patterns: Sequence[str] = ()) -> Parsed | Problem:
    """Read, structure and describe one file; a file lmreview cannot read gives its one-line problem. ``patterns``:
    more patterns of project codes than the built-in ones (setting ``project_code_patterns``)."""
    try:
        read = read_bytes(data, filename)
        structured = structure(read)
    except Refused as exc:
        return Problem(filename, 0, "-", exc.reason)
    except RecursionError:
        return Problem(filename, 0, "-", "the document is nested too deeply to read")
    except Exception as exc:  # a reader library's own error on a file it cannot handle: one file, not the batch
        return Problem(filename, 0, "-", f"lmreview could not read this file ({type(exc).__name__}: {exc})")
    if not structured.passages:
        return Problem(filename, 0, "-", "the file holds no text")
    return Parsed(
        filename,
        hashlib.sha256(data).hexdigest(),
        read.format,
        len(data),
        structured.pages,
        structured.passages,
        read_metadata(read, structured, Path(filename).name, patterns),
        extract(list(structured.passages)),
    )


def _parse_path(path: str, patterns: Sequence[str] = ()) -> Parsed | Problem:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return Problem(path, 0, "-", f"cannot read the file ({exc.strerror or exc})")
    return parse(data, path, patterns)


def expand(paths: Iterable[Path]) -> tuple[list[Path], list[Problem], list[Path]]:
    """Files named, and the files of folders named (recursively; hidden files left out), and the files of folders
    in a format lmreview does not read (skipped)."""
    files: list[Path] = []
    problems: list[Problem] = []
    skipped: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            files += [p for p in found if p.suffix.lower() in FORMATS]
            skipped += [p for p in found if p.suffix.lower() not in FORMATS]
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(path), 0, "-", "no such file or folder"))
    return files, problems, skipped


class Reading:
    """Files being read: those named and those of the folders named (``expand``), read by ``jobs`` worker processes
    from the moment this is made, in order (``results``). Use it as a context manager: leaving it stops the workers,
    also when the batch stops early."""

    def __init__(self, paths: Sequence[Path], jobs: int, patterns: Sequence[str] = ()) -> None:
        files, self.problems, self.skipped = expand(paths)
        self.names = [str(f) for f in files]
        read = functools.partial(_parse_path, patterns=tuple(patterns))
        self._pool: ProcessPoolExecutor | None = None
        self.results: Iterable[Parsed | Problem]
        if jobs > 1 and len(self.names) > 1:
            if any(n.lower().endswith(".pdf") for n in self.names):
                import pypdfium2  # noqa: F401  (imported once here, not once in each worker)
            self._pool = ProcessPoolExecutor(max_workers=min(jobs, len(self.names)))
            chunk = max(1, min(16, len(self.names) // (jobs * 4)))  # several files per task: fewer round trips
            self.results = self._pool.map(read, self.names, chunksize=chunk)
        else:
            self.results = map(read, self.names)

    def __enter__(self) -> Reading:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def default_jobs() -> int:
    return os.cpu_count() or 1
