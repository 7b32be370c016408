"""``${last-saved#name}`` defaults inside repeats: a new instance (Add, or one a ``repeat_count`` asks for) starts
from the same instance of the respondent's previous submission; plain defaults fill a counted instance too."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from lmreview.questionnaire import engine
from lmreview.questionnaire.xlsform import parse_form
from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.web.app import create_app
from tests.conftest import SAMPLES, Cli, personal_link
from tests.test_questionnaire_respond import page, post

FORM = """| survey |
| | type | name | label | default | repeat_count |
| | text | project_code | Project code | | |
| | integer | n_sites | Sites | ${last-saved#n_sites} | |
| | begin repeat | sites | Site | | ${n_sites} |
| | text | site_name | Site name | ${last-saved#site_name} | |
| | integer | staff | Staff | 10 | |
| | end repeat | | | | |
| | begin repeat | visits | Visit | | |
| | text | office | Office | ${last-saved#office} | |
| | begin group | who | Who | | |
| | text | officer | Officer | ${last-saved#officer} | |
| | end group | | | | |
| | end repeat | | | | |
| settings |
| | form_id | version |
| | yearly_sites | 1 |
"""


def _value(html: object, name: str) -> str:
    tag = page(html).find("input", {"name": name})
    assert tag is not None, name
    return str(tag.get("value", ""))


def test_a_new_instance_starts_from_the_same_instance_of_the_last_submission(
    cli: Cli, store: Store, tmp_path: Path
) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    first = personal_link(cli, FORM, tmp_path, review="y1")
    assert cli("review", "create", "y2", "--portfolio", "lm2016", "--form", "yearly_sites").exit_code == 0
    run = cli("respondents", "add", "Ana S", "--review", "y2", "--email", "A@example.org", "--project", "LM.0183")
    assert run.exit_code == 0, run.stderr
    outbox = tmp_path / "y2-outbox"
    assert cli("review", "invite", "y2", "--dry-run", str(outbox)).exit_code == 0
    token = re.search(rb"/r/([A-Za-z0-9_\-]+)", next(outbox.glob("*.eml")).read_bytes())
    assert token is not None
    second = f"/r/{token[1].decode()}"
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        counted = post(client, first, [("project_code", "LM.0181"), ("n_sites", "2")], "save")
        assert _value(counted, "sites[2]/staff") == "10"  # a plain default fills an instance the count asks for
        assert _value(counted, "sites[2]/site_name") == ""  # nothing submitted before
        fields = [
            ("project_code", "LM.0181"),
            ("n_sites", "2"),
            ("sites.count", "2"),
            ("sites[1]/site_name", "Well A"),
            ("sites[2]/site_name", "Well B"),
            ("visits.count", "2"),
            ("visits[1]/office", "Dakar"),
            ("visits[1]/who/officer", "Awa"),
            ("visits[2]/office", "Thiès"),
            ("visits[2]/who/officer", "Binta"),
        ]
        assert post(client, first, fields, "submit").status_code == 303
        opened = client.get(second)  # next year: two sites, as last year, each with its name
        assert _value(opened, "n_sites") == "2"
        assert (_value(opened, "sites[1]/site_name"), _value(opened, "sites[2]/site_name")) == ("Well A", "Well B")
        added = post(client, second, [("visits.count", "0")], "add:visits")
        assert (_value(added, "visits[1]/office"), _value(added, "visits[1]/who/officer")) == ("Dakar", "Awa")
        fields = [("visits.count", "1"), ("visits[1]/office", "Dakar"), ("visits[1]/who/officer", "Awa")]
        added = post(client, second, fields, "add:visits")
        assert (_value(added, "visits[2]/office"), _value(added, "visits[2]/who/officer")) == ("Thiès", "Binta")
        fields += [("visits[2]/office", "Thiès"), ("visits[2]/who/officer", "Binta")]
        third = post(client, second, [*fields, ("visits.count", "2")], "add:visits")
        assert _value(third, "visits[3]/office") == ""  # last year had two visits


def test_instance_defaults_read_the_same_instance_then_the_answers_outside() -> None:
    definition = parse_form(FORM.encode(), "f.md").definition
    visits = definition.by_name()["visits"]
    previous = {"n_sites": "1", "visits": [{"office": "Dakar", "who": {"officer": "Awa"}}]}
    assert engine.instance_defaults(visits, "visits[1]", previous) == {"office": "Dakar", "who": {"officer": "Awa"}}
    assert engine.instance_defaults(visits, "visits[2]", previous) == {}
    assert engine.last_saved_in(previous, "visits[2]") == {"n_sites": "1"}
    sites = definition.by_name()["sites"]
    assert engine.instance_defaults(sites, "sites[1]") == {"staff": "10"}


EXPRESSION_FORM = """| survey |
| | type | name | label | default | relevant | constraint | calculation |
| | text | project_code | Project code | | | | |
| | text | office | Office | concat(${last-saved#office}, '') | | | |
| | integer | staff | Staff | | | . >= ${last-saved#staff} or ${last-saved#staff} = '' | |
| | text | why_moved | Why moved? | | ${last-saved#office} != '' and ${office} != ${last-saved#office} | | |
| | calculate | growth | | | | | ${staff} - ${last-saved#staff} |
| settings |
| | form_id | version |
| | yearly_expr | 1 |
"""


def test_expressions_read_the_last_submission(cli: Cli, store: Store, tmp_path: Path) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    first = personal_link(cli, EXPRESSION_FORM, tmp_path, review="e1")
    assert cli("review", "create", "e2", "--portfolio", "lm2016", "--form", "yearly_expr").exit_code == 0
    run = cli("respondents", "add", "Ana S", "--review", "e2", "--email", "a@example.org", "--project", "LM.0183")
    assert run.exit_code == 0, run.stderr
    outbox = tmp_path / "e2-outbox"
    assert cli("review", "invite", "e2", "--dry-run", str(outbox)).exit_code == 0
    token = re.search(rb"/r/([A-Za-z0-9_\-]+)", next(outbox.glob("*.eml")).read_bytes())
    assert token is not None
    second = f"/r/{token[1].decode()}"
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        opened = page(client.get(first))
        assert opened.find("div", {"data-name": "why_moved"}).has_attr("hidden")  # type: ignore[union-attr]
        assert opened.find("script", {"id": "lm-last-saved"}) is None  # nothing submitted before
        fields = [("project_code", "LM.0181"), ("office", "Dakar"), ("staff", "4")]
        assert post(client, first, fields, "submit").status_code == 303
        soup = page(client.get(second))
        assert _value(client.get(second), "office") == "Dakar"  # a default computed from the last answer
        assert soup.find("script", {"id": "lm-last-saved"}) is not None  # for the page's script
        fewer = post(client, second, [("project_code", "LM.0183"), ("office", "Dakar"), ("staff", "3")], "submit")
        assert fewer.status_code == 422
        assert "This answer is not accepted." in page(fewer).get_text()  # fewer staff than last year's 4
        moved = post(client, second, [("project_code", "LM.0183"), ("office", "Thiès"), ("staff", "6")], "save")
        assert not page(moved).find("div", {"data-name": "why_moved"}).has_attr("hidden")  # type: ignore[union-attr]
        fields = [("project_code", "LM.0183"), ("office", "Thiès"), ("staff", "6"), ("why_moved", "rent")]
        assert post(client, second, fields, "submit").status_code == 303
    from sqlalchemy import select

    from lmreview.questionnaire.models import Submission

    with store.session() as session:
        data = session.scalars(select(Submission.data).order_by(Submission.id)).all()
    assert data[-1]["growth"] == "2"  # 6 this year, 4 last year


def test_without_a_previous_submission_last_saved_reads_empty() -> None:
    definition = parse_form(EXPRESSION_FORM.encode(), "f.md").definition
    judged = engine.evaluate(definition, {"office": "Dakar", "staff": "3"})
    assert judged.errors == {}
    assert judged.fields["why_moved"].relevant is False
    judged = engine.evaluate(definition, {"office": "Dakar", "staff": "3"}, previous={"office": "Dakar", "staff": "5"})
    assert "staff" in judged.errors
    assert judged.data["growth"] == "-2"
