"""XLSForm expressions: the shared cases against Python and (in Chromium) against the browser's copy."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lmreview.errors import LmreviewError
from lmreview.questionnaire.expressions import (
    ExpressionError,
    evaluate,
    interpolate,
    parse,
    references,
    regex_problem,
    to_number,
    to_string,
    truthy,
)
from tests.conftest import CHROMIUM
from tests.conftest import CHROMIUM_ARGS as ARGS

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-11-23T10:20:30.000+01:00"  # what now() gives in the cases, unless a case says otherwise
CASES: list[dict[str, Any]] = json.loads((Path(__file__).parent / "fixtures/expressions/cases.json").read_text("utf-8"))
JS = ROOT / "src/lmreview/web/static/xlsform-expr.js"


def _normalise(value: Any) -> tuple[str, Any]:
    """A result as (type, value), NaN and infinities as text, so Python and JavaScript results compare alike."""
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, int | float):
        return ("number", value if math.isfinite(value) else to_string(float(value)))
    if isinstance(value, list):
        return ("list", value)
    return ("string", value)


def _matches(result: tuple[str, Any], expect: Any) -> bool:
    kind, value = result
    if expect == "NaN" and result == ("number", "NaN"):
        return True
    wanted_kind, wanted = _normalise(expect)
    if kind != wanted_kind:
        return False
    return _same((kind, value), (wanted_kind, wanted))


def _same(a: tuple[str, Any], b: tuple[str, Any]) -> bool:
    """Two normalised outcomes agree: same type, numbers within 1e-9, anything else equal."""
    if a[0] != b[0]:
        return False
    if a[0] == "number" and not isinstance(a[1], str) and not isinstance(b[1], str):
        return bool(abs(a[1] - b[1]) <= 1e-9)
    return bool(a[1] == b[1])


def _run(case: dict[str, Any]) -> tuple[str, Any]:
    """A case's outcome as ("error", message) or a normalised result."""
    try:
        expr = parse(case["expr"], names=case.get("names", False))
    except ExpressionError as exc:
        return ("error", str(exc))
    today = dt.date.fromisoformat(case.get("today", "2026-11-23"))
    values, current = case.get("values", {}), case.get("current")
    return _normalise(
        evaluate(
            expr,
            values,
            current,
            today,
            columns=case.get("columns"),
            position=case.get("position"),
            instances=case.get("instances"),
            now=case.get("now", NOW),
        )
    )


def _check(case: dict[str, Any], outcome: tuple[str, Any]) -> None:
    if "error" in case:
        assert outcome[0] == "error", f"{case['expr']!r} parsed, but should fail with {case['error']!r}"
        assert case["error"] in outcome[1]
    else:
        assert _matches(outcome, case["expect"]), f"{case['expr']!r} gave {outcome}, expected {case['expect']!r}"


def test_the_cases_are_many_and_well_formed() -> None:
    assert len(CASES) >= 120
    for case in CASES:
        known = {"expr", "values", "current", "today", "expect", "error", "names", "columns", "position"}
        assert set(case) <= known | {"instances", "now"}
        assert ("expect" in case) != ("error" in case), case
        assert case.get("position") is None or (type(case["position"]) is int and case["position"] >= 1), case


@pytest.mark.parametrize("case", CASES, ids=[c["expr"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    _check(case, _run(case))


# --- error messages -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("${a} = )", 'unexpected ")" at character 8 in "${a} = )"', 7),
        (
            "${age} > 5 and",
            'unexpected end of the expression at character 15 in "${age} > 5 and": a value is missing',
            14,
        ),
        (
            "round(${a}, 1, 2)",
            'round() takes 1 or 2 arguments but was given 3 at character 1 in "round(${a}, 1, 2)"',
            0,
        ),
        ("coalesce(${a}, 'x'", 'missing ")" to close coalesce( at character 9 in "coalesce(${a}, \'x\'"', 8),
        ("${a} = yes", 'unknown name "yes" at character 8 in "${a} = yes": refer to a question as ${yes}', 7),
        ("digest(${a})", 'unknown function "digest()" at character 1 in "digest(${a})"', 0),
        (
            "1 + position(.)",
            'only position(..) is supported at character 5 in "1 + position(.)": '
            "write position(..) for the number of the current repeat instance",
            4,
        ),
        ("${a} = ..", 'the parent reference ".." is not supported at character 8 in "${a} = .."', 7),
        (
            "indexed-repeat(${q}, ${r})",
            "indexed-repeat() takes 3, 5, 7, ... arguments (a question, then a repeat and an index for each level of "
            'repeat) but was given 2 at character 1 in "indexed-repeat(${q}, ${r})"',
            0,
        ),
        (
            "indexed-repeat(${q}, 'r', 1)",
            "the repeat in indexed-repeat() must be a reference like ${name} at character 1 in "
            "\"indexed-repeat(${q}, 'r', 1)\"",
            0,
        ),
        ("", "the expression is empty", 0),
    ],
)
def test_error_messages_say_what_and_where(text: str, message: str, position: int) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert str(caught.value) == message
    assert caught.value.position == position


def test_an_expression_error_is_a_user_error_and_a_value_error() -> None:
    with pytest.raises(LmreviewError):
        parse("1 +")
    with pytest.raises(ValueError, match="unexpected end"):
        parse("1 +")


def test_nesting_has_a_limit_far_beyond_real_forms() -> None:
    assert evaluate(parse("(" * 99 + "1" + ")" * 99), {}) == 1
    assert evaluate(parse("-" * 99 + "1"), {}) == -1
    for text in ("(" * 5000 + "1" + ")" * 5000, "-" * 5000 + "1", "not(" * 3000 + "1" + ")" * 3000):
        with pytest.raises(ExpressionError, match="nested too deeply"):
            parse(text)


def test_a_long_chain_is_not_deep() -> None:
    terms = 3000
    assert evaluate(parse(" + ".join(["1"] * terms)), {}) == terms
    assert evaluate(parse(" or ".join(f"${{q{i}}} = 'x'" for i in range(terms))), {"q2999": "x"}) is True


def test_bare_names_are_only_for_choice_filters() -> None:
    with pytest.raises(ExpressionError, match="refer to a question as"):
        parse("state = ${state}")
    expr = parse("state = ${state}", names=True)
    assert references(expr) == {"state"}
    assert evaluate(expr, {"state": "north"}, columns={"state": "north"}) is True
    assert evaluate(expr, {"state": "north"}) is False


# --- references, conversions, labels --------------------------------------------------------------------------------


def test_references_lists_the_questions_used() -> None:
    text = "if(selected(${a}, 'x'), -${b} + count(${rep}), concat(., ${a}, 'literal ${not_a_ref}'))"
    assert references(parse(text)) == {"a", "b", "rep"}
    assert references(parse("today() > '2026-01-01'")) == set()
    assert references(parse("indexed-repeat(${outcome}, ${outcomes}, position(..))")) == {"outcome", "outcomes"}


def test_position_and_indexed_repeat_read_the_repeat_instance() -> None:
    expr = parse("indexed-repeat(${outcome}, ${outcomes}, position(..))")
    values: dict[str, str | list[str]] = {"outcome": ["A", "B", "C"], "outcomes": ["", "", ""]}
    assert [evaluate(expr, values, position=n) for n in (1, 2, 3, 4)] == ["A", "B", "C", ""]
    assert evaluate(expr, values) == ""  # outside a repeat position(..) is NaN, and so no index
    assert to_string(evaluate(parse("position(..)"), {})) == "NaN"
    assert evaluate(parse("position(..)"), {}, position=2) == 2


def test_conversions_follow_xpath() -> None:
    assert to_string(3.0) == "3"
    assert to_string(math.nan) == "NaN"
    assert to_string(1e-7) == "0.0000001"
    assert to_string(["a", "b"]) == "a"
    assert to_string([]) == ""
    assert to_string(False) == "false"
    assert math.isnan(to_number(""))
    assert math.isnan(to_number("twelve"))
    assert to_number(" 12.5 ") == 12.5
    assert to_number("1970-01-11") == 10
    assert to_number(True) == 1
    assert not truthy("")
    assert truthy("false")
    assert not truthy(math.nan)
    assert not truthy(0.0)
    assert not truthy([])
    assert truthy([""])


def test_today_defaults_to_the_local_date() -> None:
    assert evaluate(parse("today()"), {}) == dt.date.today().isoformat()


def test_interpolate_fills_labels() -> None:
    values = {"name": "Ana", "children": ["Bo", "Cy"], "blank": ""}
    label = "Hello ${name}, about ${children} (${blank}${missing})."
    assert interpolate(label, values) == "Hello Ana, about Bo, Cy ()."
    assert interpolate("no references", values) == "no references"


def test_regex_dialect_is_the_common_subset() -> None:
    for fine in (
        "[0-9]{3}",
        r"^\+?[0-9 ]+$",
        r"(?:ab)+c?",
        r"\w+@\w+\.[a-z]{2,}",
        r"[\]\[-]",
        r"\x41\u00e9",
    ):
        assert regex_problem(fine) is None, fine
    for bad in (
        "(?P<x>a)",
        "(?<=a)b",
        "a(?!b)",
        "a(?=b)",
        "a{1001}",
        "(?:a{100}){100}",
        r"\Aabc\Z",
        r"\p{L}",
        "a*+",
        "[[:alpha:]]",
        r"(a)\1",
        "[]a]",
        "(",
        r"\x4",
    ):
        assert regex_problem(bad) is not None, bad


# --- no traceback for any input -------------------------------------------------------------------------------------

ALPHABET = [
    "${a}", "${b}", "${rep}", ".", "(", ")", ",", "'x'", '"y"', "'2026-01-05'", "1", "2.5", "0", "=", "!=", "<",
    "<=", ">", ">=", "+", "-", "*", "div", "mod", "and", "or", " ", "selected(", "count(", "if(", "concat(", "not(",
    "today()", "substr(", "regex(", "'[a-z]+'", "'(?<x>'", "round(", "max(", "date(", "int(", "sum(", "foo(",
    "${", "}", "'", '"', "..", "/", "|", "$", "[", "]", "@", "é", "😀", "\t", "true()", "name", "coalesce(",
    "position(", "position(..)", "indexed-repeat(",
]  # fmt: skip


OPERANDS = [
    "${a}", "${b}", "${rep}", ".", "'x'", "'2026-01-05'", "1", "2.5", "-3", "today()", "true()", "''", "position(..)",
    "indexed-repeat(${rep}, ${r}, position(..))", "indexed-repeat(${rep}, ${r}, 2)",
]  # fmt: skip
OPERATORS = ["=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div", "mod", "and", "or"]
CALLS = {
    "selected": 2, "count-selected": 1, "selected-at": 2, "not": 1, "concat": 3, "substr": 3, "regex": 2,
    "if": 3, "coalesce": 2, "round": 2, "max": 2, "min": 1, "date": 1, "int": 1, "string": 1, "number": 1,
    "translate": 3, "normalize-space": 1, "string-length": 1, "boolean": 1, "join": 2, "abs": 1,
    "indexed-repeat": 3,
}  # fmt: skip


def _grammatical(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth > 3 or roll < 0.35:
        return rng.choice(OPERANDS)
    if roll < 0.7:
        left, right = _grammatical(rng, depth + 1), _grammatical(rng, depth + 1)
        text = f"{left} {rng.choice(OPERATORS)} {right}"
        return f"({text})" if rng.random() < 0.5 else text
    name = rng.choice(sorted(CALLS))
    return f"{name}({', '.join(_grammatical(rng, depth + 1) for _ in range(CALLS[name]))})"


def _random_expressions(count: int, seed: int) -> list[str]:
    """Token soup, well-formed expressions, and well-formed expressions with one character dropped."""
    rng = random.Random(seed)
    texts = []
    for n in range(count):
        if n % 3 == 0:
            texts.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 16))))
            continue
        text = _grammatical(rng)
        if n % 3 == 2 and len(text) > 1:
            cut = rng.randrange(len(text))
            text = text[:cut] + text[cut + 1 :]
        texts.append(text)
    return texts


def _fuzz_values() -> dict[str, str | list[str]]:
    return {"a": "3", "b": "apple banana", "rep": ["1", "", "2026-01-05"]}


def test_parse_raises_only_expression_errors_and_evaluate_never_raises() -> None:
    parsed, misplaced = 0, []
    for text in _random_expressions(600, seed=20261123):
        try:
            expr = parse(text)
        except ExpressionError as exc:
            if not 0 <= exc.position <= len(text):
                misplaced.append(text)
            continue
        parsed += 1
        result = evaluate(expr, _fuzz_values(), current="x", today=dt.date(2026, 11, 23), position=2)
        assert isinstance(result, str | float | bool | list), text
    assert not misplaced
    assert parsed > 200  # evaluation is exercised too


# --- the browser's copy ------------------------------------------------------------------------------------------

RUN_IN_PAGE = """([cases, fuzz]) => {
  const normalise = (r) => {
    if (typeof r === "number" && !Number.isFinite(r)) return ["number", String(r)];
    return [Array.isArray(r) ? "list" : typeof r, r];
  };
  const run = (c) => {
    try {
      const expr = LmExpr.parse(c.expr, {names: Boolean(c.names)});
      const today = c.today || "2026-11-23";
      const extra = {instances: c.instances, now: c.now || "%s"};
      return normalise(LmExpr.evaluate(expr, c.values || {}, c.current, today, c.columns, c.position, extra));
    } catch (e) {
      if (!(e instanceof LmExpr.ExpressionError)) return ["crash", String(e && e.stack || e)];
      return ["error", e.message, e.position];
    }
  };
  return [cases.map(run), fuzz.map(run)];
}""".replace("%s", "2026-11-23T10:20:30.000+01:00")


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it where it can)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.set_content("<html><body></body></html>")
        page.add_script_tag(content=JS.read_text("utf-8"))
        yield page
        browser.close()


@pytest.mark.browser
def test_javascript_passes_every_case_and_agrees_with_python(page: Any) -> None:
    fuzz = [
        {"expr": text, "values": _fuzz_values(), "current": "x", "today": "2026-11-23", "position": n % 3 or None}
        for n, text in enumerate(_random_expressions(400, seed=7))
    ]
    in_cases, in_fuzz = page.evaluate(RUN_IN_PAGE, [CASES, fuzz])
    failures = []
    for case, js in zip(CASES, in_cases, strict=True):
        python = _run(case)
        try:
            _check(case, (js[0], js[1]))
        except AssertionError as exc:
            failures.append(f"JS: {exc}")
        if js[0] == "error" and python[0] == "error" and js[1] != python[1]:
            failures.append(f"{case['expr']!r}: JS says {js[1]!r}, Python {python[1]!r}")
    for case, js in zip(fuzz, in_fuzz, strict=True):
        python = _run(case)
        if not _same((js[0], js[1]), python):
            failures.append(f"{case['expr']!r}: JS {js[:2]} but Python {python}")
    assert not failures, "\n".join(failures[:40])
