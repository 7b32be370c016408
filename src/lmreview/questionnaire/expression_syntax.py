"""The syntax of XLSForm expressions: the tree, the tokenizer and the parser.

:mod:`lmreview.questionnaire.expressions` is the public face; this module turns text into the tree it evaluates,
or into an :class:`ExpressionError` an author can act on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

from lmreview.errors import LmreviewError
from lmreview.questionnaire.expression_regex import regex_problem

_WS = " \t\r\n"  # XML whitespace, as XPath defines it
MAX_NESTING = 100  # far beyond real forms; keeps parsing and evaluation clear of Python's recursion limit


class ExpressionError(LmreviewError, ValueError):
    """An expression a questionnaire author must fix. ``position`` is the 0-based offset of the fault in
    ``text``; the message counts characters from 1."""

    def __init__(self, what: str, text: str, position: int, hint: str = "") -> None:
        where = f' at character {position + 1} in "{text}"' if text else ""
        super().__init__(what + where + (f": {hint}" if hint else ""))
        self.text = text
        self.position = position


# --- syntax tree --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    value: str | float
    position: int


@dataclass(frozen=True, slots=True)
class Ref:  # ${name}: another question's answer
    name: str
    position: int


@dataclass(frozen=True, slots=True)
class Name:  # a bare name: a column of the choice a choice_filter decides on (parse(..., names=True))
    name: str
    position: int


@dataclass(frozen=True, slots=True)
class Current:  # `.`: the question's own answer (constraints)
    position: int


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Expr
    position: int


@dataclass(frozen=True, slots=True)
class Operation:
    """``first op e1 op e2 ...`` at one precedence level, folded left. A chain stays one node, so a 200-term
    ``or`` does not make a 200-level tree."""

    first: Expr
    rest: tuple[tuple[str, Expr], ...]
    position: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Lookup:
    """``instance('name')/root/item[predicate]/column``: the ``column`` of the items of a secondary instance (a
    choice list, or a file attached to the form) for which ``predicate`` holds; the predicate reads the item's
    columns by bare names, as a choice_filter does. A number as predicate picks the item at that position."""

    instance: str
    predicate: Expr | None
    column: str
    position: int


Expr: TypeAlias = Literal | Ref | Name | Current | Negate | Operation | Call | Lookup

# --- tokenizer ----------------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"(?P<ws>[ \t\r\n]+)|(?P<num>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)|(?P<str>'[^']*'|\"[^\"]*\")"
    r"|(?P<op>!=|<=|>=|[=<>+\-*(),])|(?P<dot>\.\.?)|(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*(?::[A-Za-z_][A-Za-z0-9_.\-]*)?)"
)
LAST_SAVED = "last-saved#"  # ${last-saved#name}: the answer to name in the respondent's previous submission
_REF_BODY = re.compile(r"[^}\r\n'\"(),=<>!+*$]*")
_QUESTION_NAME = re.compile("[A-Za-z_\u00c0-\U0010ffff][A-Za-z0-9_.\\-\u00b7\u00c0-\U0010ffff]*")
_CHAR_HINTS = {
    "/": "refer to questions as ${name}, not by path",
    "[": "predicates [...] are not supported",
    "]": "predicates [...] are not supported",
    "|": "the union operator | is not supported",
    "$": "refer to a question as ${name}",
}
_BINARY = {"or": 1, "and": 2, "=": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4, "+": 5, "-": 5}
_BINARY |= {"*": 6, "div": 6, "mod": 6}
_UNARY_BP = 7


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # num str ref dot parent name op end
    text: str
    position: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        if text.startswith("${", i):
            m = _REF_BODY.match(text, i + 2)
            name = m.group() if m else ""
            close = i + 2 + len(name)
            if not text.startswith("}", close):
                raise ExpressionError("missing closing } for the reference starting", text, i)
            if not _QUESTION_NAME.fullmatch(name.removeprefix(LAST_SAVED)):  # ${last-saved#q}: the previous answer
                raise ExpressionError(f'invalid question name "${{{name}}}"', text, i)
            tokens.append(_Token("ref", name, i))
            i = close + 1
            continue
        m = _TOKEN.match(text, i)
        if m is None and text[i] in "/[]" and "instance(" in text[:i]:  # a path after instance('name')
            tokens.append(_Token("path", text[i], i))
            i += 1
            continue
        if m is None:
            ch = text[i]
            if ch in "'\"":
                raise ExpressionError(f"missing closing {ch} for the string starting", text, i)
            raise ExpressionError(f'unexpected character "{ch}"', text, i, _CHAR_HINTS.get(ch, ""))
        kind = m.lastgroup or "ws"
        if kind == "dot" and m.group() == "..":
            # `..` only as the argument of position(..); the parser checks that the ")" follows
            if [(t.kind, t.text) for t in tokens[-2:]] != [("name", "position"), ("op", "(")]:
                raise ExpressionError('the parent reference ".." is not supported', text, i)
            kind = "parent"
        if kind != "ws":
            tokens.append(_Token(kind, m.group(), i))
        i = m.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


# --- functions: name -> (fewest, most arguments; -1 = any number) ---------------------------------------------------

_ARITY: dict[str, tuple[int, int]] = {
    "selected": (2, 2), "count-selected": (1, 1), "selected-at": (2, 2), "not": (1, 1), "true": (0, 0),
    "false": (0, 0), "boolean": (1, 1), "boolean-from-string": (1, 1), "number": (0, 1), "int": (1, 1),
    "string": (0, 1), "string-length": (0, 1), "concat": (1, -1), "join": (1, -1), "contains": (2, 2),
    "starts-with": (2, 2), "ends-with": (2, 2), "substr": (2, 3), "substring-before": (2, 2),
    "substring-after": (2, 2), "translate": (3, 3), "normalize-space": (0, 1), "regex": (2, 2), "if": (3, 3),
    "coalesce": (2, 2), "once": (1, 1), "count": (1, 1), "count-non-empty": (1, 1), "sum": (1, 1), "max": (1, -1),
    "min": (1, -1), "abs": (1, 1), "round": (1, 2), "today": (0, 0), "date": (1, 1), "decimal-date-time": (1, 1),
    "position": (1, 1), "indexed-repeat": (3, -1), "pow": (2, 2), "log": (1, 1), "log10": (1, 1), "exp": (1, 1),
    "exp10": (1, 1), "sqrt": (1, 1), "sin": (1, 1), "cos": (1, 1), "tan": (1, 1), "asin": (1, 1), "acos": (1, 1),
    "atan": (1, 1), "atan2": (2, 2), "pi": (0, 0), "floor": (1, 1), "ceiling": (1, 1), "random": (0, 0),
    "now": (0, 0), "format-date": (2, 2), "format-date-time": (2, 2), "pulldata": (4, 4), "instance": (1, 1),
    "uuid": (0, 0),
}  # fmt: skip
_INSTANCE_HINT = "write instance('list')/root/item[name = ${question}]/label"
_PREDICATE_HINT = "only instance('name')/root/item[...]/column takes a predicate"
_NODESET_ARG = {"count", "count-non-empty", "sum"}
_POSITION_HINT = "write position(..) for the number of the current repeat instance"
_INDEXED_REPEAT_ARITY = "3, 5, 7, ... arguments (a question, then a repeat and an index for each level of repeat)"


def _arity_text(low: int, high: int) -> str:
    plural = "s" if low != 1 else ""
    if high < 0 or low == high:
        return f"{'at least ' if high < 0 else ''}{low} argument{plural}" if high else "no arguments"
    return f"{low} or {high} arguments" if high == low + 1 else f"{low} to {high} arguments"


# --- parser (Pratt) -----------------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, names: bool) -> None:
        self.text = text
        self.names = names
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        """The next token; ``(``, ``)``, ``,`` and ``-`` are told by their text alone (strings keep their quotes)."""
        token = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def unexpected(self, token: _Token, hint: str = "") -> ExpressionError:
        if token.kind == "path":
            hint = _CHAR_HINTS["/"] if token.text == "/" else _PREDICATE_HINT
            return ExpressionError(f'unexpected character "{token.text}"', self.text, token.position, hint)
        what = "unexpected end of the expression" if token.kind == "end" else f'unexpected "{token.text}"'
        return ExpressionError(what, self.text, token.position, hint)

    def binary_op(self, token: _Token) -> str | None:
        if token.kind == "op" or (token.kind == "name" and token.text in ("and", "or", "div", "mod")):
            return token.text if token.text in _BINARY else None
        return None

    def expression(self, min_bp: int = 0) -> Expr:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ExpressionError(
                f"the expression is nested too deeply (more than {MAX_NESTING} levels)", self.text, self.peek().position
            )
        left = self.prefix()
        rest: list[tuple[str, Expr]] = []  # a chain of operators of one precedence level
        position = 0
        while (op := self.binary_op(self.peek())) is not None and _BINARY[op] > min_bp:
            token = self.take()
            if rest and _BINARY[rest[0][0]] != _BINARY[op]:  # a lower level: the chain so far is its left side
                left, rest = Operation(left, tuple(rest), position), []
            position = position if rest else token.position
            rest.append((op, self.expression(_BINARY[op])))
        self.depth -= 1
        return Operation(left, tuple(rest), position) if rest else left

    def prefix(self) -> Expr:
        token = self.take()
        if token.kind == "num":
            return Literal(float(token.text), token.position)
        if token.kind == "str":
            return Literal(token.text[1:-1], token.position)
        if token.kind == "ref":
            return Ref(token.text, token.position)
        if token.kind == "dot":
            return Current(token.position)
        if token.text == "-":
            return Negate(self.expression(_UNARY_BP), token.position)
        if token.text == "(":
            inner = self.expression()
            if self.peek().text != ")":
                if self.peek().kind == "end":
                    raise ExpressionError('missing ")" to close the "("', self.text, token.position)
                raise self.unexpected(self.peek(), 'expected ")"')
            self.take()
            return inner
        if token.kind == "name" and self.peek().text == "(":
            return self.call(token)
        if token.kind == "name" and self.names:
            return Name(token.text, token.position)
        if token.kind == "name" and token.text not in ("and", "or", "div", "mod"):
            call = "position(..)" if token.text == "position" else f"{token.text}()"
            known = token.text in _ARITY
            hint = f"write {call} to call the function" if known else f"refer to a question as ${{{token.text}}}"
            raise ExpressionError(f'unknown name "{token.text}"', self.text, token.position, hint)
        raise self.unexpected(token, "a value is missing" if token.kind == "end" else "")

    def call(self, name: _Token) -> Call | Lookup:
        if name.text not in _ARITY:
            raise ExpressionError(f'unknown function "{name.text}()"', self.text, name.position)
        opening = self.take()
        if name.text == "position":  # only position(..), which parses to a call without arguments
            if self.peek().kind == "parent" and self.tokens[self.i + 1].text == ")":
                self.i += 2
                return Call(name.text, (), name.position)
            raise ExpressionError("only position(..) is supported", self.text, name.position, _POSITION_HINT)
        args: list[Expr] = []
        if self.peek().text == ")":
            self.take()
        else:
            while True:
                args.append(self.expression())
                token = self.take()
                if token.text == ")":
                    break
                if token.text != ",":
                    if token.kind == "end":
                        raise ExpressionError(f'missing ")" to close {name.text}(', self.text, opening.position)
                    raise self.unexpected(token, 'expected "," or ")"')
        low, high = _ARITY[name.text]
        odd = name.text != "indexed-repeat" or len(args) % 2 == 1
        if len(args) < low or (high >= 0 and len(args) > high) or not odd:
            takes = _INDEXED_REPEAT_ARITY if name.text == "indexed-repeat" else _arity_text(low, high)
            what = f"{name.text}() takes {takes} but was given {len(args)}"
            raise ExpressionError(what, self.text, name.position)
        self.check_arguments(name, args)
        if name.text == "instance":
            return self.lookup(name, args[0])
        return Call(name.text, tuple(args), name.position)

    def lookup(self, name: _Token, source: Expr) -> Lookup:
        """The path after ``instance('name')``: ``/root/item``, an optional ``[predicate]``, then ``/column``."""
        if not isinstance(source, Literal) or not isinstance(source.value, str):
            raise ExpressionError(
                "the name in instance() must be quoted text", self.text, name.position, _INSTANCE_HINT
            )

        def expect(text: str) -> None:
            token = self.peek()
            if token.text != text or token.kind != ("path" if text in ("/", "[", "]") else "name"):
                raise ExpressionError(
                    "only instance('name')/root/item[...]/column is supported", self.text, name.position, _INSTANCE_HINT
                )
            self.take()

        for part in ("/", "root", "/", "item"):
            expect(part)
        predicate: Expr | None = None
        if self.peek().text == "[" and self.peek().kind == "path":
            self.take()
            names, self.names = self.names, True
            predicate = self.expression()
            self.names = names
            expect("]")
        expect("/")
        column = self.take()
        if column.kind != "name":
            raise ExpressionError(
                "only instance('name')/root/item[...]/column is supported", self.text, name.position, _INSTANCE_HINT
            )
        return Lookup(source.value, predicate, column.text, name.position)

    def check_arguments(self, name: _Token, args: Sequence[Expr]) -> None:
        """Catch at parse time the mistakes ODK Collect only reports while someone fills in the form."""
        if name.text in _NODESET_ARG and not isinstance(args[0], Ref):
            what = f"the argument of {name.text}() must be a question reference like ${{name}}"
            raise ExpressionError(what, self.text, name.position)
        if name.text == "indexed-repeat":
            for i, arg in enumerate(args):
                if (i == 0 or i % 2 == 1) and not isinstance(arg, Ref):
                    kind = "question" if i == 0 else "repeat"
                    what = f"the {kind} in indexed-repeat() must be a reference like ${{name}}"
                    raise ExpressionError(what, self.text, name.position)
        if name.text == "selected" and isinstance(args[1], Literal) and isinstance(args[1].value, float):
            choice = next(t.text for t in self.tokens if t.position == args[1].position)
            what = f"the choice in selected() must be quoted, like '{choice}'"
            raise ExpressionError(what, self.text, args[1].position)
        if name.text == "regex" and isinstance(args[1], Literal) and isinstance(args[1].value, str):
            problem = regex_problem(args[1].value)
            if problem is not None:
                raise ExpressionError(
                    f'invalid regular expression "{args[1].value}"', self.text, args[1].position, problem
                )


def parse(text: str, *, names: bool = False) -> Expr:
    """Parse an expression; raise :class:`ExpressionError` with a message an author can act on.

    ``names=True`` is for ``choice_filter``: a bare name such as ``state`` reads that column of the choice being
    filtered (``columns`` of :func:`evaluate`), as in ``state = ${state}``. Elsewhere a bare name is the classic slip
    for ``${state}``, hence an error."""
    if not text.strip(_WS):
        raise ExpressionError("the expression is empty", "", 0)
    parser = _Parser(text, names)
    tree = parser.expression()
    token = parser.peek()
    if token.kind != "end":
        hint = "an operator is missing before it" if token.kind in ("num", "str", "ref", "dot") else ""
        raise parser.unexpected(token, hint)
    return tree


def references(expr: Expr) -> set[str]:
    """The question names an expression uses, to check against the form."""
    if isinstance(expr, Ref):
        return {expr.name}
    if isinstance(expr, Negate):
        return references(expr.operand)
    if isinstance(expr, Operation):
        return references(expr.first).union(*(references(e) for _, e in expr.rest))
    if isinstance(expr, Call):
        return set().union(*(references(a) for a in expr.args))
    if isinstance(expr, Lookup) and expr.predicate is not None:
        return references(expr.predicate)
    return set()


def walk(expr: Expr) -> list[Expr]:
    """Every node of a tree, the root first (to find the pulldata() calls and instance() lookups of a form)."""
    found: list[Expr] = [expr]
    if isinstance(expr, Negate):
        found += walk(expr.operand)
    elif isinstance(expr, Operation):
        found += walk(expr.first)
        for _, e in expr.rest:
            found += walk(e)
    elif isinstance(expr, Call):
        for a in expr.args:
            found += walk(a)
    elif isinstance(expr, Lookup) and expr.predicate is not None:
        found += walk(expr.predicate)
    return found
