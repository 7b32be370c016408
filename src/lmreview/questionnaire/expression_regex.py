"""Regular expressions of ``regex()``: the dialect both evaluators read alike, run without backtracking.

Python's ``re`` and JavaScript's RegExp backtrack: ``^(a+)+$`` against forty "a" and a "!" takes minutes, and a
respondent's answer would hold the server. lmreview matches with RE2 (``google-re2``), whose time grows with the
length of the answer only. RE2 has no look-ahead, no back-reference and no repetition count above 1000, so
:func:`regex_problem` refuses those when a form is added (the question is named there).
"""

from __future__ import annotations

import functools
import re
import warnings
from typing import Any

import re2

MAX_REPETITION = 1000  # RE2's own limit on {n,m}
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a pattern RE2 refuses is reported to the author, not logged to stderr
_REPETITION = re.compile(r"\{([0-9]+)(?:,([0-9]*))?\}")


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` falls outside the dialect Python's ``re``, JavaScript's RegExp and RE2 read alike, or None."""
    return _checked(pattern)[0]


def regex_matches(value: str, pattern: str) -> bool:
    """``regex(value, pattern)``: the whole value matches; a pattern outside the dialect matches nothing."""
    compiled = _checked(pattern)[1]
    return compiled is not None and compiled.fullmatch(value) is not None


@functools.lru_cache(maxsize=512)
def _checked(pattern: str) -> tuple[str | None, Any]:
    problem, translated = _dialect(pattern)
    if problem is None and _python_compiles(pattern) is False:
        problem = "it is not a valid regular expression"
    if problem is not None:
        return problem, None
    try:
        return None, re2.compile(translated, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return f"RE2, the engine lmreview matches with, refuses it ({reason})", None


def _python_compiles(pattern: str) -> bool:
    """Python's ``re`` reads the pattern too: the dialect is the one both evaluators (Python, JavaScript) share."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(pattern, re.ASCII)
    except (re.error, OverflowError, RecursionError):
        return False
    return True


def _dialect(pattern: str) -> tuple[str | None, str]:
    """The first construct outside the common dialect (or None), and the pattern written for RE2 (``\\uHHHH``
    becomes ``\\x{HHHH}``, which RE2 reads)."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        c, after = pattern[i], pattern[i + 1 : i + 3]
        if c == "\\":
            if not after:
                return "it ends with a lone backslash", ""
            n = after[0]
            if n in "0123456789":
                return f'"\\{n}" (a back-reference or octal escape) is not supported', ""
            if re.fullmatch("[A-Za-z]", n) and n not in "dDwWsSbBtnrfvxu":
                return f'"\\{n}" is not supported', ""
            width = {"x": 2, "u": 4}.get(n, 0)
            digits = pattern[i + 2 : i + 2 + width]
            if width and not re.fullmatch(f"[0-9A-Fa-f]{{{width}}}", digits):
                return f'"\\{n}" must be followed by {width} hexadecimal digits', ""
            out.append(f"\\x{{{digits}}}" if n == "u" else pattern[i : i + 2 + width])
            i += 2 + width
            continue
        if in_class:
            if c == "[":
                return '"[" inside a character class must be written "\\["', ""
            in_class = c != "]"
        elif c == "[":
            in_class = True
            step = 2 if after[:1] == "^" else 1
            out.append(pattern[i : i + step])
            i += step
            if pattern[i : i + 1] == "]":
                return 'a "]" right after "[" is not supported; write "\\]"', ""
            continue
        elif c == "(" and after[:1] == "?" and after[1:2] != ":":
            if after[1:2] in ("=", "!"):
                return f'look-ahead "(?{after[1]}" is not supported (it needs backtracking)', ""
            return 'groups may start "(?:" but no other "(?"', ""
        elif c in "*+?" and after[:1] == "+":
            return f'"{c}+" (a possessive quantifier) is not supported', ""
        elif c == "{" and after[:1] == ",":
            return '"{," is not supported; write "{0,"', ""
        elif c == "{" and (m := _REPETITION.match(pattern, i)):
            counts = [n for n in m.groups() if n]
            if any(len(n) > 1 and n.startswith("0") for n in counts):
                return "a repetition count is written without leading zeros", ""  # RE2 would read it as text
            if any(_too_many(n) for n in counts):
                return f"a repetition count above {MAX_REPETITION} is not supported", ""
        out.append(c)
        i += 1
    return None, "".join(out)


def _too_many(count: str) -> bool:
    return len(count) > len(str(MAX_REPETITION)) or int(count) > MAX_REPETITION
