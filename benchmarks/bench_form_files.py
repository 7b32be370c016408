"""A form reading a large attached file: adding it (reading and checking the CSV) and judging one set of answers
(a ``select_one_from_file`` filtered by ``region = ${region}``, an ``instance()`` lookup and a ``pulldata()``),
against plain Python doing the least the same work needs: ``csv.DictReader`` over the file, and one pass over its
rows per filter or lookup.

Data (generated): ``--rows`` villages (50,000 by default, the most a file may hold), two regions.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_form_files.py [--rows 50000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import platform

from _portfolio_data import timed_median

FORM = b"""| survey |
| | type | name | label | choice_filter | calculation |
| | select_one_from_file regions.csv | region | Region | | |
| | select_one_from_file villages.csv | village | Village | region = ${region} | |
| | calculate | village_label | | | instance('villages')/root/item[name = ${village}]/label |
| | calculate | village_people | | | pulldata('villages', 'people', 'name', ${village}) |
"""
REGIONS = b"name,label\nn,North\ns,South\n"


def villages(rows: int) -> bytes:
    lines = ["name,label,region,people"] + [f"v{i},Village {i},{'ns'[i % 2]},{i % 977}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from lmreview.questionnaire import engine
    from lmreview.questionnaire.xlsform import parse_form

    data = villages(args.rows)
    files = {"regions.csv": REGIONS, "villages.csv": data}
    last = f"v{args.rows - 2}"
    answers = {"region": "n", "village": last}
    today = dt.date(2026, 12, 4)
    definition = parse_form(FORM, "form.md", files=files).definition
    result = engine.evaluate(definition, answers, today=today)
    assert result.errors == {}, result.errors
    assert result.data["village_label"] == f"Village {args.rows - 2}"

    def anchor_read() -> object:
        return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))

    rows = anchor_read()
    assert isinstance(rows, list)

    def anchor_judge() -> object:
        options = [r for r in rows if r["region"] == "n"]  # the choice filter
        assert any(r["name"] == last for r in options)  # the answer is among them
        label = [r["label"] for r in rows if r["name"] == last]  # the lookup
        people = next(r["people"] for r in rows if r["name"] == last)  # pulldata
        return label, people

    add = timed_median(lambda: parse_form(FORM, "form.md", files=files), max(1, args.repeat // 2))
    read = timed_median(anchor_read, args.repeat)
    judge = timed_median(lambda: engine.evaluate(definition, answers, today=today), args.repeat)
    plain = timed_median(anchor_judge, args.repeat)
    print(f"{platform.machine()}, Python {platform.python_version()}, {args.rows:,} rows")
    print(f"add the form with the file: {add:.2f} s; csv.DictReader: {read:.3f} s; ratio {add / read:.1f} x")
    print(f"judge one set of answers: {judge * 1000:.1f} ms; plain passes: {plain * 1000:.1f} ms", end="; ")
    print(f"ratio {judge / plain:.1f} x")


if __name__ == "__main__":
    main()
