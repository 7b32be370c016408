"""What every command shares: settings from the global options, the store, console output, error handling."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from lmreview.errors import BadInput, LmreviewError
from lmreview.text import first_problem

if TYPE_CHECKING:  # imported when used: `lmreview --help` needs neither SQLAlchemy nor the settings
    from sqlalchemy.orm import Session

    from lmreview.settings import Settings
    from lmreview.store import Store
    from lmreview.store.models import User

# The range of a row id on the command line (typer.Argument(**ROW_ID)): PostgreSQL's INTEGER (store.base.INT_MAX),
# on SQLite too.
ROW_ID: dict[str, Any] = {"min": 1, "max": 2**31 - 1}

# A line is never broken by Rich (soft_wrap): a path, an id or "FILE:ROW:COLUMN: message" stays whole for scripts
# and for copy and paste; the terminal folds what is too long. Tables still fit the width.
console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
if not console.is_terminal:  # piped or captured: do not wrap tables at 80 columns
    console.width = 160


@dataclass
class State:
    settings: Settings
    _store: Store | None = None

    def store(self) -> Store:
        if self._store is None:
            # Every stage's tables are imported when the ORM first configures its mappers (store/base.py).
            from lmreview.store import open_store

            self._store = open_store(self.settings.database_url)
        return self._store

    def close(self) -> None:
        """Close the store's connections when the command ends: the process usually ends with it, but a command run
        in-process (tests, a script calling the CLI) would otherwise keep a PostgreSQL connection per command until
        the garbage collector finds the engine."""
        if self._store is not None:
            self._store.dispose()
            self._store = None

    @contextmanager
    def session(self, *, immediate: bool = False) -> Iterator[Session]:
        """A session of the store. Run as ``--user NAME`` naming an account that is not a site admin, it finds
        only the reviews that user may use for this command (:data:`READ_ONLY` commands read; the member commands
        and those that run the roster manage; the rest write): others answer "not found", as on the web. Without
        ``--user``, or with a name that is no account, the CLI is the local operator and sees everything.

        ``immediate``: :meth:`Store.write_session`, for an import that reads and then writes while a web server or a
        worker may write too (on SQLite the write lock is taken first, so a commit of theirs cannot fail it)."""
        from lmreview import access

        store = self.store()
        with store.write_session() if immediate else store.session() as session:
            session.info[access.CLI] = True
            user = self.account(session)
            if user is not None and not access.is_admin(user):
                access.act_as(session, user, command_need())
            yield session

    def account(self, session: Session) -> User | None:
        """The account ``--user`` names, if there is one (switched off ones too: they see no review)."""
        from sqlalchemy import select

        from lmreview.store.models import User

        if not self.settings.user:
            return None
        found: User | None = session.scalar(select(User).where(User.name == self.settings.user))
        return found


# What a command needs of the reviews it names when run as --user NAME (see State.session); commands not listed
# change a review ("write") or do not touch one.
READ_ONLY = {
    "review list",
    "review members",
    "respondents list",
    "responses status",
    "form list",
    "form download",
    "form export-responses",
    "ratings summary",
    "report build",
    "report brief",
    "report sections",
    "coding list",
    "coding sources",
    "coding export",
    "coding matrix",
    "coding agreement",
    "coding disagreements",
    "coding suggest",
    "tracking recs list",
    "tracking recs show",
    "tracking status",
    "tracking export",
    "tracking report",
    "tracking lessons list",
    "tabulate",
    "audit",
    "stats",
    "jobs list",
    "jobs show",
    "jobs files",
}
MANAGE = {
    "review invite",
    "review remind",
    "jobs remind",
    "review mail",
    "review export",
    "review member add",
    "review member change",
    "review member remove",
    "respondents import",
    "respondents add",
    "respondents revoke",
    "coding compare",
    "coding consensus",
}


def command_need() -> str:
    """read, write or manage: what the running command needs of a review (from its name, e.g. "review list")."""
    from typer._click.globals import get_current_context  # typer vendors click; its context of the command

    ctx = get_current_context(silent=True)
    name = " ".join(ctx.command_path.split()[1:]) if ctx is not None else ""
    return "read" if name in READ_ONLY else "manage" if name in MANAGE else "write"


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State), "the root command sets the state"
    return obj


def _shown(value: str, width: int = 40) -> str:
    """An argument as Python would write it (control characters escaped), cut to ``width`` characters."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


class ErrorHandlingGroup(TyperGroup):
    """Turns a user's mistake into lines on stderr and exit status 2 (never a traceback)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if ctx.parent is None:  # the root command sees every argument first: one check for every command
            named = ((f"argument {n} ({_shown(a)})", a) for n, a in enumerate(args, 1))
            problem = first_problem(named, multiline=True)
            if problem is not None:
                err.print(f"error: {problem}", markup=False, soft_wrap=True)
                sys.exit(2)
        result: list[str] = super().parse_args(ctx, args)
        return result

    def invoke(self, ctx: Any) -> Any:  # typer vendors its own click Context type
        from sqlalchemy.exc import DataError, OperationalError, StatementError

        try:
            return super().invoke(ctx)
        except BadInput as exc:
            for problem in exc.problems:  # an option, a setting or a whole file: "error: --review: …"
                prefix = "error: " if problem.row == 0 else ""
                err.print(f"{prefix}{problem}", markup=False, soft_wrap=True)
            for warning in exc.warnings:
                err.print(str(warning), markup=False, soft_wrap=True)
            err.print(f"error: {exc.message}", markup=False)
            sys.exit(2)
        except LmreviewError as exc:
            err.print(f"error: {exc.message}", markup=False, soft_wrap=True)
            sys.exit(2)
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            err.print(f"error: cannot use the database ({reason})", markup=False, soft_wrap=True)
            sys.exit(1)
        except DataError as exc:  # a value the database refused; the store's guard should have caught it first
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            err.print(f"error: the database refused a value ({reason})", markup=False, soft_wrap=True)
            sys.exit(2)
        except OSError as exc:  # a file or folder named on the command line that cannot be read or written
            if exc.filename is None:
                raise
            err.print(f"error: {exc.filename}: {exc.strerror or exc}", markup=False, soft_wrap=True)
            sys.exit(2)
        except StatementError as exc:  # a value a column type refused while binding (e.g. a Scaled amount)
            if not isinstance(exc.orig, ValueError | OverflowError):
                raise
            err.print(f"error: {exc.orig}", markup=False, soft_wrap=True)
            sys.exit(2)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar on stderr for long work (hidden when stderr is not a terminal); yields the callback
    ``progress(done, total)`` that services accept."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), console=err, transient=True, disable=not err.is_terminal
    ) as progress:
        task = progress.add_task(label, total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)
