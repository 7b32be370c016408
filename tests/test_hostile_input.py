"""Hostile values at every door: each web route and each CLI command, found by walking the app's routes and the
Typer command tree (a new route or command is covered without editing this file), gets NUL bytes, line breaks,
400 digits, NaN, inf, 1e308, 9999-12-31, ids past INT4 and BIGINT, very long and non-Latin-1 text in each of its
parameters. None may answer 5xx or end in a traceback."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import typer
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount
from typer.testing import CliRunner

from lmreview.cli.main import app as cli_app
from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import SAMPLES, TEMPLATES, Cli, personal_link

PASSWORD = "correct-horse"
HOSTILE = [
    "\x00",
    "a\x00b",
    "two\r\nlines",
    "9" * 400,
    "NaN",
    "inf",
    "-Infinity",
    "1e308",
    "1e17",
    "9999-12-31",
    "0001-01-01",
    "3000000000",
    "99999999999999999999",
    "-1",
    "x" * 5000,
    "Анкета №1 😀",
]
# The subset tried on every CLI option (each run opens the store; the web gets the full list).
CLI_HOSTILE = ["a\x00b", "two\r\nlines", "9" * 400, "NaN", "1e308", "9999-12-31", "3000000000", "Анкета №1 😀"]
# To keep the suite fast, each form field and each command option gets a share of the values by default (a different
# share for each, so that every value meets many fields and options); LMREVIEW_TEST_HOSTILE=all tries them all.
ALL = os.environ.get("LMREVIEW_TEST_HOSTILE") == "all"
CLI_PER_OPTION = len(CLI_HOSTILE) if ALL else 1
WEB_PER_FIELD = len(HOSTILE) if ALL else 5
PATH_PER_NAME = len(HOSTILE) if ALL else 8


def _share(values: list[str], index: int, count: int) -> list[str]:
    """``count`` of ``values``, starting at a place that moves with ``index``."""
    return [values[(index * count + i) % len(values)] for i in range(count)]


# Commands that start a long-running server: covered through the web walk instead.
CLI_SKIP = {("serve",), ("demo",)}
# Fields the respondent's form posts without declaring them as FastAPI parameters.
RESPOND_FIELDS = ["action", "beneficiaries", "budget", "project/project_code", "project/report_date", "sustained"]


@pytest.fixture
def world(store: Store, cli: Cli, tmp_path: Path) -> dict[str, str]:
    """A portfolio, a questionnaire, a review with a respondent and their link, an admin and a second user."""
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    link = personal_link(cli, (TEMPLATES / "idf-lm-2016.md").read_text(encoding="utf-8"), tmp_path)
    forms = json.loads(cli("form", "list", "--json").stdout)
    with store.session() as session:
        add_user(session, "ada", "admin", PASSWORD, actor="test")
        add_user(session, "vic", "viewer", PASSWORD, actor="test")
    return {"token": link.removeprefix("/r/"), "form": forms[0]["form"], "folder": str(tmp_path)}


def _api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix, route
        elif isinstance(route, Mount) and isinstance(route.app, FastAPI):  # the REST API, /api/v1
            yield from _api_routes(route.app.routes, prefix + route.path)
        elif hasattr(route, "original_router"):  # an included router
            context = getattr(route, "include_context", None)
            yield from _api_routes(route.original_router.routes, prefix + getattr(context, "prefix", ""))


def _valid(path: str, param: str, world: dict[str, str]) -> str:
    """A value that reaches the route's code, so that the other parameter's hostile value is what is tested."""
    if param == "name":
        if path.startswith(("/portfolios", "/api/portfolios", "/api/v1/portfolios")):
            return "lm2016"
        if path.startswith("/forms/templates"):
            return "idf-lm-2016"
        if path.startswith(("/forms", "/api/v1/forms")):
            return world["form"]
        if path.startswith("/admin"):
            return "vic"
        return "r"
    return {
        "code": "LM.0181",
        "respondent_id": "1",
        "submission_id": "1",
        "fmt": "html" if "report" in path or "brief" in path else "csv",
        "key": "findings",
        "token": world["token"],
    }.get(param, "x")


def _url(path: str, values: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        return quote(values[match[1]], safe="/" if match[2] else "")

    return re.sub(r"\{(\w+)(:path)?\}", fill, path)


# The columns each upload reads (the first value of the first row is valid, so that the row reaches its values).
UPLOAD_COLUMNS = {
    "/import": (
        "code,title,funding_year,fund_line,budget_usd,countries,region,objective,start_date,end_date,"
        "planned_months,nce_months,status"
    ),
    "/reviews/{name}/roster": "project_code,name,email,role,office,language",
    "/reviews/{name}/ratings": "subject,criterion,source,score,rationale,weight",
}
IATI = """<?xml version="1.0" encoding="UTF-8"?>
<iati-activities version="2.03"><iati-activity default-currency="USD">
<iati-identifier>XM-1</iati-identifier><title><narrative>T {value}</narrative></title>
<activity-date type="1" iso-date="{date}"/><activity-date type="3" iso-date="{date}"/>
<budget type="1"><period-start iso-date="2014-01-01"/><period-end iso-date="2014-12-31"/>
<value currency="USD" value-date="2014-01-01">{value}</value></budget>
</iati-activity></iati-activities>"""


def _uploads(path: str, value: str) -> list[tuple[str, bytes]]:
    """Files carrying ``value`` in every column: a CSV for the route, and an IATI file for the portfolio import."""
    columns = UPLOAD_COLUMNS.get(path, "code,title")
    width = columns.count(",") + 1
    first = {"/import": "LM.9", "/reviews/{name}/roster": "LM.0181", "/reviews/{name}/ratings": "LM.0181"}
    quoted = '"' + value.replace('"', '""') + '"'
    rows = [",".join([first.get(path, quoted)] + [quoted] * (width - 1)), ",".join([quoted] * width)]
    files = [(f"{value[:60]}.csv", "\n".join([columns, *rows]).encode("utf-8", "surrogatepass"))]
    if path == "/import":
        text = value.replace("&", "&amp;").replace("<", "&lt;").replace("\x00", "")
        files.append(("activities.xml", IATI.format(value=text, date=text[:40]).encode()))
    return files


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert found is not None
    return found[1]


def _walk_web(app: FastAPI, world: dict[str, str]) -> list[str]:
    failures: list[str] = []
    with TestClient(app) as client:
        token = _csrf(client)
        response = client.post("/login", data={"name": "ada", "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 200, response.text
        token = _csrf(client)
        client.headers["X-CSRF-Token"] = token  # the REST API takes a session's CSRF token in this header

        def call(method: str, url: str, what: str, **kwargs: Any) -> None:
            try:
                response = client.request(method, url, follow_redirects=False, **kwargs)
            except Exception as exc:  # the server raised: a traceback
                failures.append(f"{method} {url[:80]!r} {what}: {type(exc).__name__}: {str(exc)[:200]}")
                return
            if response.status_code >= 500:
                failures.append(f"{method} {url[:80]!r} {what}: {response.status_code}")

        counter = 0
        for prefix, route in _api_routes(app.routes):
            path = prefix + route.path
            if path == "/logout":
                continue
            method = sorted(route.methods)[0]
            names = [p.name for p in route.dependant.path_params]
            numeric = {p.name for p in route.dependant.path_params if p.field_info.annotation is int}
            valid = {n: _valid(path, n, world) for n in names}
            queries = [p.alias for p in route.dependant.query_params]
            fields = [p.alias for p in route.dependant.body_params if p.alias not in ("csrf_token", "file")]
            files = [p.alias for p in route.dependant.body_params if p.alias == "file"]
            if path.startswith("/r/"):
                fields = RESPOND_FIELDS
            base = {"csrf_token": token} if method == "POST" else None
            for name in names:  # an id gets every value; a name a share (for a name, "NaN" is just a word)
                counter += 1
                for value in HOSTILE if name in numeric else _share(HOSTILE, counter, PATH_PER_NAME):
                    call(method, _url(path, {**valid, name: value}), f"path {name}={value[:20]!r}", data=base)
            for value in HOSTILE:
                for query in queries:
                    call(method, _url(path, valid), f"query {query}={value[:20]!r}", params={query: value})
                for field in files:
                    for filename, content in _uploads(path, value):
                        upload = {field: (filename, io.BytesIO(content))}
                        call(
                            method, _url(path, valid), f"file {filename[:20]!r} {value[:20]!r}", data=base, files=upload
                        )
            for field in fields:
                counter += 1
                for value in _share(HOSTILE, counter, WEB_PER_FIELD):
                    data = {**(base or {}), "action": "save", field: value}
                    call(method, _url(path, valid), f"form {field}={value[:20]!r}", data=data)
    return failures


def test_no_web_route_answers_5xx_to_hostile_values(store: Store, world: dict[str, str]) -> None:
    app = create_app(Settings(database_url=store.url), store)
    failures = _walk_web(app, world)
    assert not failures, f"{len(failures)} requests failed:\n" + "\n".join(failures[:40])


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every leaf command of the tree (typer vendors its own click, so groups are found by their commands)."""
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield path, command


def _cli_valid(param: Any, world: dict[str, str]) -> str:
    name = param.name or ""
    return {
        "portfolio": "lm2016",
        "review": "r",
        "form": world["form"],
        "name": "r",
        "code": "LM.0181",
        "respondent_id": "1",
    }.get(name, "x")


def test_no_cli_command_ends_in_a_traceback(
    db_url: str, world: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # commands that write files (--out, --dry-run) write them here
    root = typer.main.get_command(cli_app)
    runner = CliRunner()
    failures: list[str] = []
    tried = counter = 0
    for path, command in _commands(root):
        if path in CLI_SKIP:
            continue
        params = [p for p in command.params if not getattr(p, "is_flag", False) and p.name != "help"]
        required = [p for p in params if p.required]

        def args_for(param: Any, value: str) -> list[str]:
            if param.param_type_name == "option":
                return [param.opts[0], value]
            return [value]

        for target in params:
            counter += 1
            for value in ["\x00", *_share(CLI_HOSTILE, counter, CLI_PER_OPTION)]:
                args: list[str] = []
                for param in required if target in required else [*required, target]:
                    args += args_for(param, value if param is target else _cli_valid(param, world))
                result = runner.invoke(cli_app, ["--db", db_url, *path, *args], input="")
                tried += 1
                exc = result.exception
                if (exc is not None and not isinstance(exc, SystemExit)) or result.exit_code not in (0, 1, 2):
                    shown = f"{type(exc).__name__}: {str(exc)[:200]}" if exc else f"exit {result.exit_code}"
                    failures.append(f"{' '.join(path)} {target.name}={value[:20]!r}: {shown}")
                elif "Traceback" in result.output:
                    failures.append(f"{' '.join(path)} {target.name}={value[:20]!r}: a traceback was printed")
    assert tried > 100
    assert not failures, f"{len(failures)} commands failed:\n" + "\n".join(failures[:40])


def test_extreme_values_already_stored_break_no_page(store: Store, cli: Cli, world: dict[str, str]) -> None:
    """Dates and amounts at the edge of what the columns hold (written by an older lmreview or by hand) still
    show on every page and in ``stats``; only the doors refuse them."""
    import datetime as dt
    from decimal import Decimal

    from sqlalchemy import select

    from lmreview.portfolio.models import Portfolio, Project

    with store.session() as session:
        portfolio = session.scalars(select(Portfolio).where(Portfolio.name == "lm2016")).one()
        session.add_all(
            [
                Project(
                    portfolio_id=portfolio.id,
                    code="EDGE.1",
                    title="Open-ended",
                    start_date=dt.date.min,
                    end_date=dt.date.max,
                    budget_usd=Decimal("92233720368547758.07"),
                ),
                Project(
                    portfolio_id=portfolio.id,
                    code="EDGE.3",
                    title="Ends before it starts",
                    start_date=dt.date(2015, 1, 1),
                    end_date=dt.date(2014, 1, 1),
                ),
                Project(
                    portfolio_id=portfolio.id,
                    code="EDGE.2",
                    title="Last day",
                    start_date=dt.date(9999, 12, 1),
                    end_date=dt.date.max,
                ),
            ]
        )
    stats = cli("stats", "-p", "lm2016", "--json")
    assert stats.exit_code == 0, stats.stderr
    assert cli("portfolio", "show", "lm2016", "EDGE.1").exit_code == 0
    assert "EDGE.1" in cli("portfolio", "list", "-p", "lm2016").stdout
    app = create_app(Settings(database_url=store.url), store)
    with TestClient(app) as client:
        client.post("/login", data={"name": "ada", "password": PASSWORD, "csrf_token": _csrf(client)})
        for path in (
            "/portfolios/lm2016",
            "/portfolios/lm2016/stats",
            "/portfolios/lm2016/projects/EDGE.1",
            "/api/portfolios/lm2016/projects",
            "/api/portfolios/lm2016/stats",
            "/",
        ):
            response = client.get(path)
            assert response.status_code == 200, (path, response.text[:500])
        projects = client.get("/api/portfolios/lm2016/projects").json()
        edge = next(
            p for p in (projects if isinstance(projects, list) else projects["projects"]) if p["code"] == "EDGE.1"
        )
        assert edge["end_date"] == "9999-12-31"


# What the user reads for each class of hostile value, on both databases.


def test_control_characters_are_refused_alike_at_every_door(store: Store, cli: Cli, world: dict[str, str]) -> None:
    run = cli("respondents", "add", "Ana\x00", "--review", "r", "--email", "b@example.org")
    assert run.exit_code == 2
    assert run.stderr == (
        "error: argument 7 ('Ana\\x00') contains a control character, U+0000 (NUL), at character 4; remove it\n"
    )
    # A line break is kept on the command line (a note may have several lines) but a name is one line: the
    # respondents' own check refuses it (the store's guard would too), on SQLite as on PostgreSQL; nothing is written.
    run = cli("respondents", "add", "Ana\nBel", "--review", "r", "--email", "b@example.org")
    assert run.exit_code == 2, run.stdout
    assert 'error: respondent: name: "Ana\\nBel" is not one line: a name cannot hold a line break' in run.stderr
    assert "Bel" not in cli("respondents", "list", "--review", "r").stdout
    app = create_app(Settings(database_url=store.url), store)
    with TestClient(app) as client:
        client.post("/login", data={"name": "ada", "password": PASSWORD, "csrf_token": _csrf(client)})
        data = {"csrf_token": _csrf(client), "respondent": "Ana\x00", "email": "c@example.org"}
        response = client.post("/reviews/r/respondents", data=data)
        assert response.status_code == 422
        assert "the field &#39;respondent&#39; contains a control character, U+0000 (NUL)" in response.text
        assert client.get("/portfolios/lm%00").status_code == 422
        refused = client.post("/login", data={"name": "x\x00", "password": "p", "csrf_token": _csrf(client)})
        assert refused.status_code == 422
    table = b"code,title\nLM.9,Ctrl\x0cTitle\n"
    path = Path(world["folder"]) / "ctrl.csv"
    path.write_bytes(table)
    run = cli("portfolio", "import", str(path), "--portfolio", "lm2016")
    assert run.exit_code == 2
    assert f"{path}:2:title: the value contains a control character, U+000C" in run.stderr


def test_numbers_past_every_limit_are_refused_with_the_limit(store: Store, cli: Cli, world: dict[str, str]) -> None:
    folder = Path(world["folder"])
    budgets = folder / "budgets.csv"
    budgets.write_text(
        "code,title,budget_usd,start_date,end_date\n"
        f"LM.1,Thirty digits,{'1' * 30},2014-01-01,9999-12-31\n"
        "LM.2,Not a number,NaN,1899-12-31,2014-01-01\n",
        encoding="utf-8",
    )
    run = cli("portfolio", "import", str(budgets), "--portfolio", "lm2016")
    assert run.exit_code == 2
    assert f'{budgets}:2:budget_usd: "{"1" * 30}" is implausibly large for a project budget' in run.stderr
    assert f'{budgets}:2:end_date: "9999-12-31" is outside 1900-2200' in run.stderr
    assert f'{budgets}:3:budget_usd: "NaN" is not an amount' in run.stderr
    assert f'{budgets}:3:start_date: "1899-12-31" is outside 1900-2200' in run.stderr

    run = cli("ratings", "weights", "--review", "r", "desk=NaN")
    assert run.exit_code == 2
    assert '"NaN" is not a weight' in run.stderr
    run = cli("ratings", "scales", "--add", "wide", "--level", "1=low", "--level", "inf=high")
    assert run.exit_code == 2
    assert "inf=high" in run.stderr
    run = cli("respondents", "revoke", "99999999999999999999", "--review", "r")
    assert run.exit_code == 2
    assert "2147483647" in run.stderr
    app = create_app(Settings(database_url=store.url), store)
    with TestClient(app) as client:
        client.post("/login", data={"name": "ada", "password": PASSWORD, "csrf_token": _csrf(client)})
        for number in ("3000000000", "99999999999999999999", "0"):
            response = client.get(f"/reviews/r/submissions/{number}")
            assert response.status_code == 404, response.text[:300]
            assert "there is no page at this address" in response.text
        api = client.get("/reviews/r/submissions/3000000000", headers={"accept": "application/json"})
        assert api.status_code == 404
        assert api.json() == {"error": "there is no page at this address"}


def test_an_amount_the_column_cannot_hold_is_refused_with_its_range(store: Store, world: dict[str, str]) -> None:
    from decimal import Decimal

    from sqlalchemy import select

    from lmreview.portfolio.models import Portfolio, Project
    from lmreview.store.base import UnstorableValue

    def store_budget(amount: Decimal) -> None:
        with store.session() as session:
            portfolio = session.scalars(select(Portfolio).where(Portfolio.name == "lm2016")).one()
            session.add(Project(portfolio_id=portfolio.id, code="BIG", title="Big", budget_usd=amount))

    limits = "(-92,233,720,368,547,758.07 to 92,233,720,368,547,758.07)"
    for amount, says in (
        (Decimal("1e17"), f"1E+17 is outside the range this column stores {limits}"),
        (Decimal("9" * 400), limits),
        (Decimal("NaN"), "NaN is not a finite number"),
        (Decimal("0.001"), "0.001 has more than 2 decimals"),
    ):
        with pytest.raises(UnstorableValue) as refused:
            store_budget(amount)
        assert refused.value.message.startswith("project.budget_usd: ")
        assert says in refused.value.message
    with store.session() as session:
        assert session.scalars(select(Project).where(Project.code == "BIG")).first() is None


def test_download_names_outside_latin_1_use_rfc_6266(store: Store, cli: Cli, world: dict[str, str]) -> None:
    form = Path(world["folder"]) / "cyrillic.md"
    form.write_text((TEMPLATES / "idf-lm-2016.md").read_text(encoding="utf-8"), encoding="utf-8")
    assert cli("form", "add", str(form), "--name", "Анкета").exit_code == 0
    app = create_app(Settings(database_url=store.url), store)
    with TestClient(app) as client:
        client.post("/login", data={"name": "ada", "password": PASSWORD, "csrf_token": _csrf(client)})
        response = client.get("/forms/%D0%90%D0%BD%D0%BA%D0%B5%D1%82%D0%B0.xlsx")
        assert response.status_code == 200, response.text[:300]
        disposition = response.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="Anketa-')
        assert "filename*=UTF-8''%D0%90%D0%BD%D0%BA%D0%B5%D1%82%D0%B0-" in disposition
        split = client.get("/forms/%D0%90%D0%BD%D0%BA%D0%B5%D1%82%D0%B0.xlsx?version=1%0D%0ASet-Cookie:%20x=1")
        assert split.status_code == 422
        assert "x=1" not in split.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("folder", "is a folder, not a file"),
        ("text", "is not an SQLite database"),
        ("foo://host/db", "lmreview cannot use databases of the kind 'foo'"),
        ("mysql://user:secret@host/db", "the driver for 'mysql' is not installed"),
    ],
)
def test_a_database_option_that_is_no_database_is_one_line(tmp_path: Path, target: str, says: str) -> None:
    if target == "folder":
        target = str(tmp_path)
    elif target == "text":
        (tmp_path / "notes.txt").write_text("not a database\n", encoding="utf-8")
        target = str(tmp_path / "notes.txt")
    result = CliRunner().invoke(cli_app, ["--db", target, "portfolio", "list"])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert says in lines[0]
    assert "postgresql://user@host/dbname" in lines[0]
    assert "secret" not in result.stderr


def test_an_option_problem_reads_as_error_and_the_option(cli: Cli) -> None:
    run = cli("responses", "status")
    assert run.exit_code == 2
    assert run.stderr.splitlines()[0] == "error: --review: name the review (--review NAME) or its form (--form NAME)"
