"""A ``default`` is an expression only when pyxform reads it as one (engine.dynamic_default): "N/A (none)" is a
plain value, not a broken expression that made the respondent's page fail; an expression lmreview cannot evaluate
is refused when the form is added, at its row."""

from __future__ import annotations

import datetime as dt

import pytest

from lmreview.errors import BadInput
from lmreview.questionnaire import engine
from lmreview.questionnaire.xlsform import parse_form

FORM = """| survey |
| | type | name | label | default |
| | text | status | Status | N/A (none) |
| | text | code | Code | $(a) |
| | date | start | Start | 2024-05-01 |
| | integer | two | Two | 1 + 1 |
| | date | asked | Asked | today() |
| | text | echo | Echo | concat('N/A', ' (none)') |
"""


def test_a_default_is_a_plain_value_unless_pyxform_reads_an_expression() -> None:
    definition = parse_form(FORM.encode(), "defaults.md").definition
    filled = engine.with_defaults(definition.survey)
    assert filled == {
        "status": "N/A (none)",
        "code": "$(a)",
        "start": "2024-05-01",
        "two": "2",
        "asked": dt.date.today().isoformat(),
        "echo": "N/A (none)",
    }


@pytest.mark.parametrize(
    ("default", "message"),
    [
        ("foo(1)", 'unknown function "foo()"'),
        ("${nothing} + 1", "nothing"),
    ],
)
def test_a_default_expression_lmreview_cannot_evaluate_is_refused_at_its_row(default: str, message: str) -> None:
    text = f"| survey |\n| | type | name | label | default |\n| | integer | n | N | {default} |\n"
    with pytest.raises(BadInput) as caught:
        parse_form(text.encode(), "bad.md")
    problems = caught.value.problems
    assert problems[0].row == 2  # the question, below the header row
    assert message in problems[0].message
