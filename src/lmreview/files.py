"""Reading a file a user names: every failure becomes one located, actionable problem."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from lmreview.errors import BadInput, Problem


def read_input(path: Path) -> bytes:
    """The bytes of ``path``; BadInput (exit status 2) for a missing file, a folder or an unreadable file."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BadInput([Problem(str(path), 0, "-", "no such file")]) from None
    except IsADirectoryError:
        raise BadInput([Problem(str(path), 0, "-", "this is a folder, not a file")]) from None
    except OSError as exc:
        raise BadInput([Problem(str(path), 0, "-", f"cannot read the file ({exc.strerror})")]) from None


@contextmanager
def open_input(path: Path) -> Iterator[BinaryIO]:
    """``path`` opened for reading, for a file read in parts (a zip member by member); the same BadInput as
    :func:`read_input` when it cannot be opened."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise BadInput([Problem(str(path), 0, "-", "no such file")]) from None
    except IsADirectoryError:
        raise BadInput([Problem(str(path), 0, "-", "this is a folder, not a file")]) from None
    except OSError as exc:
        raise BadInput([Problem(str(path), 0, "-", f"cannot read the file ({exc.strerror})")]) from None
    with handle:
        yield handle


def read_text(path: Path) -> str:
    """A UTF-8 text file (a BOM is dropped); BadInput when it is not UTF-8."""
    data = read_input(path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BadInput([Problem(str(path), line, "-", "the file is not UTF-8 text; save it as UTF-8")]) from None
