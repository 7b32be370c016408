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
    return {"token": link.removeprefix("/r/"), "form": forms[0]["form"]}


def _api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix, route
        elif hasattr(route, "original_router"):  # an included router
            context = getattr(route, "include_context", None)
            yield from _api_routes(route.original_router.routes, prefix + getattr(context, "prefix", ""))


def _valid(path: str, param: str, world: dict[str, str]) -> str:
    """A value that reaches the route's code, so that the other parameter's hostile value is what is tested."""
    if param == "name":
        if path.startswith("/portfolios") or path.startswith("/api/portfolios"):
            return "lm2016"
        if path.startswith("/forms/templates"):
            return "idf-lm-2016"
        if path.startswith("/forms"):
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
            valid = {n: _valid(path, n, world) for n in names}
            queries = [p.alias for p in route.dependant.query_params]
            fields = [p.alias for p in route.dependant.body_params if p.alias not in ("csrf_token", "file")]
            files = [p.alias for p in route.dependant.body_params if p.alias == "file"]
            if path.startswith("/r/"):
                fields = RESPOND_FIELDS
            base = {"csrf_token": token} if method == "POST" else None
            for value in HOSTILE:
                for name in names:
                    call(method, _url(path, {**valid, name: value}), f"path {name}={value[:20]!r}", data=base)
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
