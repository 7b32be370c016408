"""Files attached to a form: the CSV, XML or GeoJSON tables that ``select_one_from_file``, ``pulldata()`` and
``instance('name')/root/item[...]`` read, as ODK Central serves them next to the XForm.

Each file is read once, when the form is added, into rows of text columns; the rows are stored in the form
version's definition, so a form version and its data cannot drift apart and a submission is always read with the
tables it was answered with. A file is named in expressions by its name without the extension (``fruits.csv`` is
``pulldata('fruits', ...)`` and ``instance('fruits')``); a select names it with its extension
(``select_one_from_file fruits.csv``).

* CSV: UTF-8 (a BOM is dropped), comma-separated, a header row naming the columns.
* XML: ODK's shape, ``<root><item><name>…</name><label>…</label></item>…</root>``; each child of an item is a
  column. A DTD (and so any entity) is refused.
* GeoJSON: a FeatureCollection; each feature is a row of its ``properties``, its ``id`` (or ``properties.id``) as
  ``name``, ``title`` as ``label``, and its geometry as ``geometry`` in ODK's ``lat lon 0 0`` form.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from lmreview.errors import BadInput, Problem
from lmreview.text import text_problem

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024  # one file; its rows go into the definition, read with every submission
MAX_ATTACHMENT_ROWS = 50_000
MAX_ATTACHMENTS = 20
EXTENSIONS = (".csv", ".xml", ".geojson")

Table = list[dict[str, str]]


def size_problem(filename: str, size: int) -> Problem | None:
    """The one-line refusal of a file too large to attach, told before it is read."""
    if size > MAX_ATTACHMENT_BYTES:
        limit = MAX_ATTACHMENT_BYTES // 1024 // 1024
        return Problem(
            filename, 0, "-", f"an attached file may hold at most {limit} MiB; this one holds {size:,} bytes"
        )
    return None


def columns(table: Table) -> set[str]:
    """Every column named in a table's rows."""
    found: set[str] = set()
    for row in table:
        found.update(row)
    return found


def instance_name(filename: str) -> str:
    """The name expressions use for an attached file: ``fruits.csv`` -> ``fruits``."""
    return PurePath(filename).stem


def read_attachment(filename: str, data: bytes) -> Table:
    """The rows of one attached file, or BadInput naming the file (and the row) with what to fix."""
    problem = size_problem(filename, len(data))
    if problem is not None:
        raise BadInput([problem])
    suffix = PurePath(filename).suffix.lower()
    if suffix not in EXTENSIONS:
        raise BadInput([Problem(filename, 0, "-", "a form can have .csv, .xml and .geojson files attached")])
    if b"\0" in data:
        line = data.count(b"\n", 0, data.index(b"\0")) + 1
        raise BadInput([Problem(filename, line, "-", "the file holds a NUL character: it is not a text file")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BadInput([Problem(filename, line, "-", "the file is not UTF-8 text; save it as UTF-8")]) from None
    rows = {".csv": _csv, ".xml": _xml, ".geojson": _geojson}[suffix](filename, text)
    if not rows:
        raise BadInput([Problem(filename, 0, "-", "the file has no rows")])
    if len(rows) > MAX_ATTACHMENT_ROWS:
        message = f"an attached file may hold at most {MAX_ATTACHMENT_ROWS:,} rows; this one holds {len(rows):,}"
        raise BadInput([Problem(filename, 0, "-", message)])
    for column in sorted(columns(rows)):
        if problem_text := text_problem(column):
            raise BadInput([Problem(filename, 1, "-", f"the column name {problem_text}")])
    if text_problem(text, multiline=True) is None:
        return rows  # no control character anywhere: no need to look cell by cell
    for number, row in enumerate(rows, start=2):
        for column, value in row.items():
            if problem_text := text_problem(value, multiline=True) or text_problem(column):
                raise BadInput([Problem(filename, number, column or "-", f"the value {problem_text}")])
    return rows


def _csv(filename: str, text: str) -> Table:
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, [])
        names = [h.strip() for h in header]
        if not any(names):
            raise BadInput([Problem(filename, 1, "-", "the first row names the columns, and it is empty")])
        doubled = sorted({n for n in names if n and names.count(n) > 1})
        if doubled:
            raise BadInput([Problem(filename, 1, doubled[0], f'the column "{doubled[0]}" is named twice')])
        return [
            {n: v.strip() for n, v in zip(names, row, strict=False) if n}
            for row in reader
            if any(v.strip() for v in row)
        ]
    except csv.Error as exc:
        raise BadInput([Problem(filename, 0, "-", f"not a readable CSV file ({exc})")]) from None


def _xml(filename: str, text: str) -> Table:
    from xml.etree.ElementTree import ParseError

    import defusedxml.ElementTree as safe_xml
    from defusedxml import DefusedXmlException

    try:
        root = safe_xml.fromstring(text)
    except DefusedXmlException:
        raise BadInput([Problem(filename, 0, "-", "the XML declares a DTD or entities, which are refused")]) from None
    except ParseError as exc:
        raise BadInput([Problem(filename, exc.position[0], "-", f"not well-formed XML ({exc})")]) from None
    return [{child.tag: (child.text or "").strip() for child in item} for item in root.iter("item")]


def _geojson(filename: str, text: str) -> Table:
    try:
        document: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput([Problem(filename, exc.lineno, "-", f"not valid JSON ({exc.msg})")]) from None
    features = document.get("features") if isinstance(document, Mapping) else None
    if not isinstance(features, list):
        raise BadInput([Problem(filename, 0, "-", 'GeoJSON here is a FeatureCollection with a "features" list')])
    rows: Table = []
    for feature in features:
        if not isinstance(feature, Mapping):
            continue
        properties = feature.get("properties")
        row = {str(k): _text(v) for k, v in properties.items()} if isinstance(properties, Mapping) else {}
        if feature.get("id") is not None:
            row.setdefault("name", _text(feature["id"]))
        if "id" in row:
            row.setdefault("name", row["id"])
        if "title" in row:
            row.setdefault("label", row["title"])
        row["geometry"] = _geometry(feature.get("geometry"))
        rows.append(row)
    return rows


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _geometry(geometry: Any) -> str:
    """A GeoJSON point, line or polygon as ODK writes a geopoint, geotrace or geoshape: ``lat lon 0 0`` ... ;"""
    if not isinstance(geometry, Mapping):
        return ""
    coordinates = geometry.get("coordinates")
    kind = geometry.get("type")
    points: list[Any] = []
    if kind == "Point":
        points = [coordinates]
    elif kind == "LineString" and isinstance(coordinates, list):
        points = coordinates
    elif kind == "Polygon" and isinstance(coordinates, list) and coordinates:
        points = coordinates[0]
    shown = []
    for point in points:
        if isinstance(point, list) and len(point) >= 2 and all(isinstance(c, int | float) for c in point[:2]):
            shown.append(f"{point[1]} {point[0]} 0 0")
    return ";".join(shown)


def read_attachments(files: Mapping[str, bytes]) -> dict[str, Table]:
    """Every attached file by its file name (``fruits.csv``); every problem of every file at once."""
    if len(files) > MAX_ATTACHMENTS:
        raise BadInput([Problem("-", 0, "-", f"a form can have at most {MAX_ATTACHMENTS} files attached")])
    tables: dict[str, Table] = {}
    problems: list[Problem] = []
    stems: dict[str, str] = {}
    for filename, data in files.items():
        name = PurePath(filename).name
        if instance_name(name) in stems:
            problems.append(
                Problem(
                    name,
                    0,
                    "-",
                    f"another attached file, {stems[instance_name(name)]}, has the same name before its extension",
                )
            )
            continue
        stems[instance_name(name)] = name
        try:
            tables[name] = read_attachment(name, data)
        except BadInput as exc:
            problems.extend(exc.problems)
    if problems:
        raise BadInput(problems)
    return tables
