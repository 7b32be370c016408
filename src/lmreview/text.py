"""Control characters in text that enters lmreview: one rule for every door (CLI, web, imports, the store).

PostgreSQL refuses a NUL in a text value and SQLite keeps it, so without one rule the same input behaves
differently on the two databases. The rule: NUL and the other C0/C1 control characters are refused everywhere;
tab and line breaks are kept in multi-line text (notes, narratives, descriptions) and refused in one-line text
(names, codes, e-mail addresses, anything in a URL path or a command-line argument).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from lmreview.errors import LmreviewError

# C0 controls except tab, LF and CR; DEL; C1 controls. Unicode line/paragraph separators count as line breaks.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile(r"[\t\n\r\u2028\u2029\x85]")
# Columns whose text is a single line wherever they appear (a name, a code, an address).
ONE_LINE_COLUMNS = frozenset({"name", "code", "email", "login", "actor", "iso3", "iso2", "version", "project_code"})


class BadText(LmreviewError):
    """Text with a character lmreview does not store (a NUL, another control character, a stray line break)."""

    status = 422


_NAMES = {"\x00": "NUL", "\n": "line feed", "\r": "carriage return", "\t": "tab"}


def _describe(char: str) -> str:
    name = _NAMES.get(char) or unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be stored, or None when it can."""
    found = _CONTROL.search(value)
    if found is None and not multiline:
        found = _LINE_BREAK.search(value)
    if found is None:
        return None
    if _CONTROL.match(found.group()):
        kind, where = "a control character", ""
    else:
        kind, where = "a line break or tab", " (this is one-line text)"
    return f"contains {kind}, {_describe(found.group())}, at character {found.start() + 1}{where}; remove it"


def check_text(value: str, what: str, *, multiline: bool = False) -> str:
    """``value`` unchanged, or :class:`BadText` naming ``what`` (a field, an option, a column)."""
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        raise BadText(f"{what} {problem}")
    return value


def first_problem(values: Iterable[tuple[str, str]], *, multiline: bool = False) -> str | None:
    """The first ``what: problem`` among ``(what, value)`` pairs, or None."""
    for what, value in values:
        problem = text_problem(value, multiline=multiline)
        if problem is not None:
            return f"{what} {problem}"
    return None


def stored_problem(value: Any, what: str, *, multiline: bool) -> str | None:
    """The problem with a value about to be stored (a string, or any string inside JSON), or None."""
    if isinstance(value, str):
        problem = text_problem(value, multiline=multiline)
        return f"{what} {problem}" if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = stored_problem(str(key), what, multiline=True) or stored_problem(item, what, multiline=True)
            if found:
                return found
    elif isinstance(value, list | tuple):
        for item in value:
            found = stored_problem(item, what, multiline=True)
            if found:
                return found
    return None


def is_number(text: str, digits: int = 12) -> bool:
    """Whether ``text`` is a whole number that ``int()`` reads: ASCII digits only (``str.isdigit`` also passes "²"
    and other digits ``int`` refuses) and at most ``digits`` of them (``int`` refuses more than 4,300)."""
    return 0 < len(text) <= digits and text.isascii() and text.isdigit()
