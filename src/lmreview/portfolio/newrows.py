"""The rows of a CSV or XLSX file that create projects, read straight into what the store writes.

A portfolio repeats its values: years, dates, months, round budgets, fund lines, statuses, regions, categories and
lists of countries. :class:`NewRows` reads each distinct text of such a column once per import, with the parser,
the checks and the messages of :mod:`lmreview.portfolio.tabular`, and keeps what the row needs from it: the value
converted for the database driver and its piece of the audit snapshot as JSON text. A row is then a code, a title
and dictionary look-ups.

Only a row without any problem is taken here. A row with anything to say (an error, a warning such as an unknown
country, a value the store would refuse) is left to the general path (:meth:`TableReader.row` and the writer),
which reads it as it always has and explains it; so is every row of a file once an error was found. The project
made here is the one the general path makes: the same column values, countries and audit snapshot (the JSON text
``json.dumps`` gives for the snapshot :func:`snapshot.of_record` and :func:`bulk.new_project` build), which
``tests/test_portfolio_bulk.py`` and ``tests/test_portfolio_newrows.py`` check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from lmreview.portfolio import bulk, tabular
from lmreview.portfolio.models import Category, Project, Region
from lmreview.portfolio.snapshot import SCALARS, plain
from lmreview.portfolio.tabular import MAX_CODE, MAX_LENGTH, MAX_TEXT, TableReader
from lmreview.store.base import check_value
from lmreview.text import _CONTROL, _LINE_BREAK

_encode = json.encoder.encode_basestring_ascii  # what json.dumps does to a str
_NOT_ONE_LINE = re.compile(f"{_CONTROL.pattern}|{_LINE_BREAK.pattern}")
_CACHED = frozenset(
    {"funding_year", "fund_line", "budget_usd", "start_date", "end_date", "planned_months", "nce_months", "status"}
)
MAX_CACHED = 50_000  # distinct texts kept per column (a column of unique values starts over)
_SLOW = None  # a row the general path must read: it has something to say

# One cached text: its JSON piece of the snapshot (', "name": value'), its value for the driver, its parsed value;
# or () for a text the general path must read.
Entry = tuple[Any, ...]
_REFUSED: Entry = ()


class NewRows:
    """Rows of new projects, taken by :meth:`take` when they have nothing to say."""

    def __init__(
        self,
        reader: TableReader,
        binder: bulk.Binder,
        *,
        region: Callable[[str | None], Region | None],
        category: Callable[[str | None], Category | None],
        countries: Callable[[list[str]], None],
    ) -> None:
        self.usable = binder.json_text is not None
        self.reader = reader
        self.binder = binder
        self._region, self._category, self._ensure_countries = region, category, countries
        columns = reader.columns
        self._filename = reader.table.filename
        self._header = reader.table.header
        self._code = columns.get("code", -1)
        self._title = columns.get("title", -1)
        self._objective = columns.get("objective")
        self.usable = self.usable and self._code >= 0 and self._title >= 0
        project = Project.__table__
        self._columns = {name: project.c[name] for name in bulk.PROJECT_KEYS}
        # The values of the project (bulk.PROJECT_KEYS) and the pieces of its snapshot, as a row with empty cells
        # gives them; a row replaces those of the columns the file has.
        self._values: list[Any] = [None] * len(bulk.PROJECT_KEYS)
        self._values[bulk.PROJECT_KEYS.index("currency")] = binder.value("currency", "USD")
        self._pieces: list[str] = [f', "{name}": null' for name in SCALARS]
        self._pieces += [', "region": null', ', "category": null', ', "countries": []', ', "extra": {}']
        self._value_of = {name: bulk.PROJECT_KEYS.index(name) for name in bulk.PROJECT_KEYS}
        self._piece_of = {name: i for i, name in enumerate([*SCALARS, "region", "category", "countries", "extra"])}
        # The cached columns: (cell index, cache, how a text is read, where its value and piece go)
        self._cached: list[tuple[int, dict[str, Entry], Callable[[str], Entry], int, int]] = []
        for name in sorted(_CACHED & set(columns), key=lambda n: columns[n]):
            self._cached.append((columns[name], {}, self._reader(name), self._value_of[name], self._piece_of[name]))
        self._region_column = columns.get("region")
        self._category_column = columns.get("category")
        self._countries_column = columns.get("countries")
        self._named: list[tuple[int, dict[str, Any], Callable[[str], Any], int]] = []
        if self._region_column is not None:
            self._named.append((self._region_column, {}, self._read_region, self._piece_of["region"]))
        if self._category_column is not None:
            self._named.append((self._category_column, {}, self._read_category, self._piece_of["category"]))
        self._countries: dict[str, tuple[str, list[tuple[Any, ...]]] | None] = {}
        # Extra columns in the order the general path puts them in the snapshot (the order of ``provided``).
        self._extras = [
            (key.removeprefix("extra:"), reader.extras[key.removeprefix("extra:")])
            for key in reader.provided
            if key.startswith("extra:")
        ]
        self._empty_extra = binder.value("extra", {})
        self._values[self._value_of["extra"]] = self._empty_extra
        # Where a row's start and end dates are read again (from their caches), to compare them.
        self._dates = (
            (columns["start_date"], self._cache_of("start_date"), columns["end_date"], self._cache_of("end_date"))
            if "start_date" in columns and "end_date" in columns
            else None
        )
        self._title_convert = binder.project["title"]
        self._code_convert = binder.project["code"]

    def _cache_of(self, name: str) -> dict[str, Entry]:
        piece = self._piece_of[name]
        return next(cache for _, cache, _, _, at in self._cached if at == piece)

    def take(self, number: int, cells: list[str], digest: str) -> bulk.Prepared | None:
        """The project of a row without any problem, or None: the general path reads the row."""
        code = cells[self._code]
        if not code or len(code) > MAX_CODE or _NOT_ONE_LINE.search(code):
            return _SLOW
        title = cells[self._title]
        if not title or len(title) > MAX_TEXT:
            return _SLOW
        values = self._values.copy()
        pieces = self._pieces.copy()
        for index, cache, read, value_at, piece_at in self._cached:
            text = cells[index]
            entry = cache.get(text)
            if entry is None:
                entry = read(text)
                if len(cache) >= MAX_CACHED:
                    cache.clear()
                cache[text] = entry
            if not entry:
                return _SLOW
            pieces[piece_at], values[value_at], _ = entry
        if self._dates is not None:
            start_at, starts, end_at, ends = self._dates
            start, end = cells[start_at], cells[end_at]
            if start and end and ends[end][2] < starts[start][2]:
                return _SLOW
        named: list[Any] = []
        for index, known, resolve, piece_at in self._named:
            text = cells[index]
            if text in known:
                name_entry = known[text]
            else:
                name_entry = resolve(text)
                if len(known) >= MAX_CACHED:
                    known.clear()
                known[text] = name_entry
            if name_entry is None:
                return _SLOW
            pieces[piece_at], thing = name_entry
            named.append(thing)
        region = named[0] if self._region_column is not None else None
        category = named[-1] if self._category_column is not None else None
        countries: list[tuple[Any, ...]] = []
        if self._countries_column is not None:
            text = cells[self._countries_column]
            if text in self._countries:
                listed = self._countries[text]
            else:
                listed = self._read_countries(text)
                if len(self._countries) >= MAX_CACHED:
                    self._countries.clear()
                self._countries[text] = listed
            if listed is None:
                return _SLOW
            pieces[-2], countries = listed
        if self._objective is not None:
            objective = cells[self._objective]
            if len(objective) > MAX_TEXT:
                return _SLOW
            if objective:
                pieces[self._piece_of["objective"]] = ', "objective": ' + _encode(objective)
                values[self._value_of["objective"]] = self.binder.value("objective", objective)
        if self._extras:
            extra = {raw: cells[index] for raw, index in self._extras if cells[index]}
            if extra:
                try:
                    check_value("project", self._columns["extra"], extra)
                except Exception:
                    return _SLOW
                pieces[-1] = ', "extra": ' + json.dumps(extra)
                values[self._value_of["extra"]] = self.binder.value("extra", dict(extra))
        values[0] = code if self._code_convert is None else self._code_convert(code)
        values[1] = digest
        values[2] = title if self._title_convert is None else self._title_convert(title)
        after = "".join(['{"code": ', _encode(code), ', "title": ', _encode(title), *pieces[1:], _NO_CHILDREN])
        json_text = self.binder.json_text
        assert json_text is not None  # take is called only when usable
        return bulk.Prepared(code, tuple(values), region, category, countries, json_text(after))

    def _reader(self, name: str) -> Callable[[str], Entry]:
        """How a text of the column ``name`` is read: parsed and checked as the general path does."""
        parse = tabular._PARSERS.get(name)
        column = self._columns[name]
        limit = MAX_LENGTH.get(name)

        def read(text: str) -> Entry:
            if not text:
                return f', "{name}": null', None, None
            if parse is not None:
                try:
                    value: Any = parse(text)
                except ValueError:
                    return _REFUSED
            else:
                if limit is not None and len(text) > limit:
                    return _REFUSED
                value = text
            try:
                check_value("project", column, value)
            except Exception:
                return _REFUSED
            return f', "{name}": {json.dumps(plain(value))}', self.binder.value(name, value), value

        return read

    def _read_region(self, text: str) -> tuple[str, Region | None] | None:
        return self._named_piece("region", text, self._region)

    def _read_category(self, text: str) -> tuple[str, Category | None] | None:
        return self._named_piece("category", text, self._category)

    @staticmethod
    def _named_piece(name: str, text: str, resolve: Callable[[str | None], Any]) -> tuple[str, Any] | None:
        if not text:
            return f', "{name}": null', None
        if len(text) > MAX_LENGTH[name]:
            return _SLOW
        found = resolve(text)  # the stored one whatever its case, or a new one (added to the session)
        return f', "{name}": {_encode(found.name)}', found

    def _read_countries(self, text: str) -> tuple[str, list[tuple[Any, ...]]] | None:
        header = self._header[self._countries_column] if self._countries_column is not None else "countries"
        refs, problems = tabular._countries(self._filename, 0, text, header)
        if problems:  # an unknown country is a warning of the row: the general path reports it
            return _SLOW
        self._ensure_countries([r.iso3 for r in refs if r.iso3])
        shown = [{"name": r.name, "iso3": r.iso3, "percentage": None} for r in refs]
        convert = self.binder.country
        rows = [
            tuple(
                v if convert[key] is None else convert[key](v)
                for key, v in zip(bulk.COUNTRY_KEYS, (i, r.name, r.iso3, None), strict=True)
            )
            for i, r in enumerate(refs)
        ]
        return f', "countries": {json.dumps(shown)}', rows


_NO_CHILDREN = ', "budgets": [], "results": [], "tags": []}'
