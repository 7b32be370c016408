"""The figures of a tabulation as value objects: counts with their denominators, numeric and rating summaries, the
observations behind them, and the whole result with its JSON form (docs/analysis.md defines each figure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from lmreview.analysis.intervals import percents

RULES = {
    "pct": "100 * n / answered",
    "pct_units": "100 * n / units (in a repeat: units with the value)",
    "ci": "Wilson score interval, 95%, on n / answered",
    "bounds": "[100 * n / units, 100 * (n + units - answered) / units] (in a repeat: counted in units)",
    "responded": "units with a submitted submission, not rejected; the newest when there are several",
}


# --- figures ---------------------------------------------------------------------------------------------------------


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class Count:
    """How many answers chose ``value``, among ``answered``; for a repeat, also how many units (``units_n``)."""

    value: str
    label: str
    listed: bool  # False for a value that is not one of the question's choices
    n: int
    answered: int
    units: int
    rows: tuple[str, ...]
    units_n: int  # units with the value: n outside repeats
    units_answered: int  # units with an answer: answered outside repeats
    in_repeat: bool = False

    def as_json(self) -> dict[str, Any]:
        figures = percents(self.n, self.answered, self.units, self.units_n, self.units_answered)
        data: dict[str, Any] = {"value": self.value, "label": self.label, "n": self.n}
        data |= {k: figures[k] for k in ("pct", "pct_units", "ci_low", "ci_high", "bound_low", "bound_high")}
        data |= {"in_choices": self.listed, "rows": list(self.rows)}
        return data | ({"units_n": self.units_n} if self.in_repeat else {})


@dataclass(frozen=True, slots=True)
class Numbers:
    """n, total, mean, median, min, max and sample standard deviation of the numeric answers (exact Decimals)."""

    n: int
    of: int
    total: Decimal | None
    mean: Decimal | None
    median: Decimal | None
    min: Decimal | None
    max: Decimal | None
    sd: Decimal | None  # with n - 1; None below two values
    rows: tuple[str, ...]
    invalid: tuple[tuple[str, str], ...] = ()  # answers that are not numbers: (row, value)

    @classmethod
    def of_values(cls, values: list[tuple[str, Decimal]], of: int, invalid: Iterable[tuple[str, str]] = ()) -> Numbers:
        numbers = sorted(v for _, v in values)
        rows, bad = tuple(r for r, _ in values), tuple(invalid)
        if not numbers:
            return cls(0, of, None, None, None, None, None, None, rows, bad)
        n = len(numbers)
        total = sum(numbers, Decimal(0))
        mean = total / n
        middle = n // 2
        median = numbers[middle] if n % 2 else (numbers[middle - 1] + numbers[middle]) / 2
        sd = (sum(((x - mean) ** 2 for x in numbers), Decimal(0)) / (n - 1)).sqrt() if n > 1 else None
        return cls(n, of, total, mean, median, numbers[0], numbers[-1], sd, rows, bad)

    def as_json(self, total: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {"n": self.n, "of": self.of}
        if total:
            data["total"] = _float(self.total)
        data |= {k: _float(getattr(self, k)) for k in ("mean", "median", "min", "max", "sd")}
        data["rows"] = list(self.rows)
        if self.invalid:
            data["not_numbers"] = [{"row": r, "value": v} for r, v in self.invalid]
        return data


@dataclass(frozen=True, slots=True)
class TopBox:
    """The share rating in the top two points of a scale ("% rating 5 or 6"), among the ratings given."""

    values: tuple[str, ...]
    n: int
    of: int
    rows: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "values": list(self.values),
            "n": self.n,
            "of": self.of,
            **percents(self.n, self.of),
            "rows": list(self.rows),
        }


class Observation(NamedTuple):
    """One place a question was asked: a responded unit, or one repeat instance of it. (A named tuple: a tabulation
    makes one per unit and question, thousands, and a frozen dataclass costs four times as much to make.)"""

    unit: str
    path: str  # the instance path: "sustained", "outcomes[2]/outcome"
    state: str  # not_relevant | skipped | answered
    value: str
    in_repeat: bool

    @property
    def ref(self) -> str:
        return f"{self.unit}/{self.path}" if self.in_repeat else self.unit


@dataclass
class Block:
    """The figures of the question over a set of units: the whole review, or one group of a cross-tab."""

    units: tuple[str, ...]
    responded: tuple[str, ...]
    observations: list[Observation]
    submissions: dict[str, str]  # unit -> instance id of the submission used
    in_repeat: bool
    counts: list[Count] | None = None
    numbers: Numbers | None = None
    dates: tuple[int, str | None, str | None, tuple[str, ...]] | None = None  # n, min, max, rows
    top_box: TopBox | None = None
    texts: list[Observation] | None = None
    # geopoint, geotrace, geoshape: the answers that are places, their bounding box (south, west, north, east), rows
    places: tuple[int, tuple[float, float, float, float] | None, tuple[str, ...]] | None = None
    from_documents: tuple[str, ...] = ()  # responded units whose answers a reviewer entered from a document
    # image, audio, video, file questions: each answer's file, with the submission row holding it (None: not stored)
    files: list[tuple[Observation, int | None]] | None = None

    @property
    def responses(self) -> tuple[str, ...]:
        """The responded units that answered the questionnaire themselves (not entered from a document)."""
        if not self.from_documents:
            return self.responded
        entered = set(self.from_documents)
        return tuple(u for u in self.responded if u not in entered)

    def refs(self, state: str) -> list[str]:
        return [o.ref for o in self.observations if o.state == state]

    @property
    def answered(self) -> int:
        return sum(1 for o in self.observations if o.state == "answered")

    @property
    def units_with_answer(self) -> list[str]:
        return list(dict.fromkeys(o.unit for o in self.observations if o.state == "answered"))

    def summary_json(self) -> dict[str, Any] | None:
        if self.numbers is not None:
            data = self.numbers.as_json(total=self.top_box is None)
            if self.top_box is not None:
                data["top_box"] = self.top_box.as_json()
            return data
        if self.dates is not None:
            n, low, high, rows = self.dates
            return {"n": n, "of": self.answered, "min": low, "max": high, "rows": list(rows)}
        if self.files is not None:
            stored = [o.ref for o, submission in self.files if submission is not None]
            return {"n": len(stored), "of": self.answered, "files": True, "rows": stored}
        if self.places is not None:
            n, box, rows = self.places
            bbox = dict(zip(("south", "west", "north", "east"), box, strict=True)) if box else None
            return {"n": n, "of": self.answered, "bbox": bbox, "rows": list(rows)}
        return None

    def as_json(self) -> dict[str, Any]:
        states = {s: self.refs(s) for s in ("not_relevant", "skipped", "answered")}
        data: dict[str, Any] = {
            "units": len(self.units),
            "responded": len(self.responses),
            **({"from_documents": len(self.from_documents)} if self.from_documents else {}),
            **{s: len(refs) for s, refs in states.items()},
        }
        if self.in_repeat:
            data["instances"] = len(self.observations)
            data["units_with_answer"] = len(self.units_with_answer)
        data["counts"] = [c.as_json() for c in self.counts] if self.counts is not None else None
        data["summary"] = self.summary_json()
        if self.texts is not None:
            data["texts"] = [
                {"unit": o.unit, **({"instance": o.path} if o.in_repeat else {}), "value": o.value} for o in self.texts
            ]
        if self.files is not None:
            data["files"] = [
                {"unit": o.unit, **({"instance": o.path} if o.in_repeat else {}), "value": o.value, "submission": row}
                for o, row in self.files
            ]
        rows: dict[str, Any] = {"units": list(self.units), "responded": list(self.responses), **states}
        if self.from_documents:
            rows["from_documents"] = list(self.from_documents)
        if self.in_repeat:
            rows["units_with_answer"] = self.units_with_answer
        rows["submissions"] = {u: self.submissions[u] for u in self.responded}
        data["rows"] = rows
        return data


@dataclass(frozen=True, slots=True)
class SetAside:
    """A submitted submission the figures do not use, and why."""

    submission: str
    unit: str | None
    reason: str

    def as_json(self) -> dict[str, str | None]:
        return {"submission": self.submission, "unit": self.unit, "reason": self.reason}


@dataclass
class Group:
    value: str | None
    label: str | None
    block: Block

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, "label": self.label, **self.block.as_json()}


@dataclass
class Tabulation:
    review: str | None  # None: no review uses the form, and every submission of the form is counted
    form: str
    question: str
    label: str
    type: str
    language: str
    unit: str  # project | respondent | submission
    repeat: str | None  # the repeat the question is in
    whole: Block
    set_aside: list[SetAside]
    drafts: int
    by: str | None = None
    by_label: str | None = None
    groups: list[Group] = field(default_factory=list)
    units_rule: str = ""  # what one unit is, in words

    def as_json(self) -> dict[str, Any]:
        whole = self.whole.as_json()
        head = ("units", "responded", "not_relevant", "skipped", "answered", "counts", "summary")
        data: dict[str, Any] = {"question": self.question, "type": self.type, **{k: whole.pop(k) for k in head}}
        data["by"] = [g.as_json() for g in self.groups] if self.by is not None else None
        data |= {k: getattr(self, k) for k in ("label", "review", "form", "language", "unit", "units_rule", "repeat")}
        data |= {"likert": self.whole.top_box is not None, **whole, "by_field": self.by, "by_label": self.by_label}
        data |= {"set_aside": [a.as_json() for a in self.set_aside], "drafts": self.drafts, "rules": RULES}
        return data
