"""``lmreview``: the root command and its global options."""

from __future__ import annotations

from typing import Annotated

import typer

import lmreview.cli.coding as coding_cli
from lmreview import __version__
from lmreview.cli import (
    audit,
    db,
    evidence,
    form,
    portfolio,
    ratings,
    report,
    review,
    secret,
    serve,
    stats,
    tabulate,
    tracking,
    user,
)
from lmreview.cli.common import ErrorHandlingGroup, State
from lmreview.errors import LmreviewError
from lmreview.settings import get_settings

app = typer.Typer(
    cls=ErrorHandlingGroup,
    help="Portfolio reviews and evaluations of labour-migration projects.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lmreview {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db_url: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database: a file path (SQLite) or a URL such as postgresql://user@host/db. "
            "Default: $LMREVIEW_DATABASE_URL, else ./lmreview.db.",
            show_default=False,
        ),
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option("--user", help="Name to act as in the audit log (default: cli:<login name>)."),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    try:
        settings = get_settings(database_url=db_url, user=as_user)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise LmreviewError(f"bad setting: {exc}") from None
    ctx.obj = State(settings)


app.add_typer(db.app, name="db")
app.add_typer(portfolio.app, name="portfolio")
app.add_typer(form.app, name="form")
app.add_typer(review.review_app, name="review")
app.add_typer(review.respondents_app, name="respondents")
app.add_typer(review.responses_app, name="responses")
app.add_typer(ratings.app, name="ratings")
app.add_typer(report.app, name="report")
app.add_typer(user.app, name="user")
app.add_typer(evidence.app, name="evidence")
app.add_typer(coding_cli.app, name="coding")
app.add_typer(tracking.app, name="tracking")
app.add_typer(secret.app, name="secret")
app.command("stats")(stats.stats)
app.command("tabulate")(tabulate.tabulate_command)
app.command("audit")(audit.audit)
app.command("demo")(serve.demo)
app.command("serve")(serve.serve)


def main() -> None:
    app()
