"""``lmreview``: the root command and its global options.

The command modules are imported only when a command runs (or its ``--help`` is asked for): the analysis code, the
ORM and Alembic they pull in take most of a second to import, and ``lmreview --help`` needs none of them. The root
``--help`` lists each command with the one-line help kept in :data:`COMMANDS`; ``tests/test_portfolio_startup.py``
checks that it matches the command's own help.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Annotated, Any, NamedTuple

import typer
from typer.core import TyperCommand

from lmreview import __version__
from lmreview.cli.common import ErrorHandlingGroup, State
from lmreview.errors import LmreviewError


class Lazy(NamedTuple):
    module: str  # under lmreview.cli
    attr: str  # a Typer app (a group of commands) or a command function
    group: bool
    help: str  # the first paragraph of the command's help, as its --help prints it


# In the order `lmreview --help` lists them: single commands first, then groups (Typer's order).
COMMANDS: dict[str, Lazy] = {
    "stats": Lazy(
        "stats",
        "stats",
        False,
        "Budget, duration and NCE summaries, and projects and budget by region, line, year and category.",
    ),
    "tabulate": Lazy(
        "tabulate",
        "tabulate_command",
        False,
        "Counts, shares with 95% intervals, or a numeric summary of one question, with every denominator.",
    ),
    "audit": Lazy(
        "audit",
        "audit",
        False,
        "Check the numbers of a report: shares and totals that do not add up, and figures that differ from the data.",
    ),
    "demo": Lazy("serve", "demo", False, "Load the sample portfolios (lm2016, lm2022) and serve the web UI."),
    "serve": Lazy("serve", "serve", False, "Serve the web UI (behind a reverse proxy for HTTPS; see docs/deploy.md)."),
    "worker": Lazy(
        "jobs",
        "worker",
        False,
        "Run the background jobs of the queue until stopped (Ctrl+C lets running jobs finish first).",
    ),
    "db": Lazy("db", "app", True, "Create, upgrade, back up or restore the database."),
    "portfolio": Lazy("portfolio", "app", True, "Import and browse portfolios of projects."),
    "form": Lazy("form", "app", True, "Questionnaires: add XLSForms, list them, start from a template."),
    "review": Lazy(
        "review", "review_app", True, "Reviews: a portfolio asked one questionnaire; invitations and reminders."
    ),
    "respondents": Lazy("review", "respondents_app", True, "The roster of a review: who answers for which project."),
    "responses": Lazy("review", "responses_app", True, "Responses to a review's questionnaire."),
    "ratings": Lazy("ratings", "app", True, "Criteria ratings (DAC criteria) from several sources, weighted."),
    "report": Lazy("report", "app", True, "The review report, the evaluation brief and their narrative sections."),
    "user": Lazy("user", "app", True, "Manage the users of the web UI."),
    "evidence": Lazy(
        "evidence",
        "app",
        True,
        "The evidence library: add documents, search them, list their recommendations, responses and lessons.",
    ),
    "coding": Lazy("coding", "app", True, "Qualitative coding: codebooks, codings, code matrices, agreement."),
    "tracking": Lazy("tracking", "app", True, "Follow-up: recommendations, management responses, key actions."),
    "secret": Lazy("secret", "app", True, "The web UI's session secret."),
    "jobs": Lazy("jobs", "app", True, "Background jobs: put long work on the queue, follow it, cancel it."),
}


def load_command(name: str) -> Any:  # typer's (vendored) click Command
    """Import the module of command ``name`` and build its click command."""
    from typer.main import get_command_from_info, get_group_from_info
    from typer.models import CommandInfo, TyperInfo

    lazy = COMMANDS[name]
    target: Any = getattr(importlib.import_module(f"lmreview.cli.{lazy.module}"), lazy.attr)
    # What app.add_typer / app.command would have built, with the root's settings (plain help, short errors).
    if lazy.group:
        return get_group_from_info(
            TyperInfo(target, name=name),
            pretty_exceptions_short=app.pretty_exceptions_short,
            rich_markup_mode=app.rich_markup_mode,
            suggest_commands=app.suggest_commands,
        )
    return get_command_from_info(
        CommandInfo(name=name, callback=target),
        pretty_exceptions_short=app.pretty_exceptions_short,
        rich_markup_mode=app.rich_markup_mode,
    )


class LazyCommands(MutableMapping[str, Any]):
    """The root group's ``commands``: a command is built when it is looked up (or when the mapping is walked)."""

    def __init__(self) -> None:
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            if name not in COMMANDS:
                raise KeyError(name)
            self._loaded[name] = load_command(name)
        return self._loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter([*COMMANDS, *(n for n in self._loaded if n not in COMMANDS)])

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self._loaded))


class LazyGroup(ErrorHandlingGroup):
    """The root group: commands are built on first use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: MutableMapping[str, Any] = LazyCommands()

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """Click's listing, from the one-line helps of COMMANDS instead of importing every command."""
        if not COMMANDS:
            return
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [(name, TyperCommand(name, help=lazy.help).get_short_help_str(limit)) for name, lazy in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    cls=LazyGroup,
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
    from lmreview.settings import get_settings

    try:
        settings = get_settings(database_url=db_url, user=as_user)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise LmreviewError(f"bad setting: {exc}") from None
    ctx.obj = State(settings)
    ctx.call_on_close(ctx.obj.close)


def main() -> None:
    app()
