"""``lmreview user``: accounts for the web UI."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from lmreview.cli.common import console, state
from lmreview.store import users

app = typer.Typer(help="Manage the users of the web UI.", no_args_is_help=True)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option("--role", help="admin, reviewer or viewer.")] = "viewer",
    email: Annotated[str | None, typer.Option("--email", help="E-mail address.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
    ] = False,
) -> None:
    """Add a user; asks for the password twice.

    Example: echo 's3cret-pass' | lmreview user add ana --role reviewer --password-stdin
    """
    st = state(ctx)
    password = _password(password_stdin)
    with st.session() as session:
        users.add_user(session, name, role, password, actor=st.settings.actor, email=email)
    console.print(f"Added {role} {name}.")


@app.command("password")
def password(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
    ] = False,
) -> None:
    """Set a user's password.

    Example: lmreview user password ana
    """
    st = state(ctx)
    new = _password(password_stdin)
    with st.session() as session:
        users.set_password(session, name, new, actor=st.settings.actor)
    console.print(f"Changed the password of {name}; their web sessions have ended.")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List the users and their roles.

    Example: lmreview user list
    """
    with state(ctx).session() as session:
        table = Table("name", "role", "e-mail", "active")
        for u in users.list_users(session):
            table.add_row(u.name, u.role, u.email or "–", "yes" if u.active else "no")
        console.print(table)


@app.command("set")
def set_(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str | None, typer.Option("--role", help="admin, reviewer or viewer.")] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Switch the account on or off (it is kept).")
    ] = None,
) -> None:
    """Change a user's role, or switch the account off or on (the last active admin stays).

    Example: lmreview user set ana --role viewer --inactive
    """
    st = state(ctx)
    with st.session() as session:
        user = users.update_user(session, name, actor=st.settings.actor, role=role, active=active)
        console.print(f"{user.name}: {user.role}, {'active' if user.active else 'inactive'}.")
