"""``lmreview user``: accounts for the web UI."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from lmreview.cli.common import ROW_ID, console, print_json, state
from lmreview.store import tokens, users

app = typer.Typer(help="Manage the users of the web UI.", no_args_is_help=True)
token_app = typer.Typer(help="Personal API tokens: a script's key to the REST API (/api/v1).", no_args_is_help=True)
app.add_typer(token_app, name="token")


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


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. the script that uses it.")],
    user: Annotated[str, typer.Option("--user", help="The user the token acts as (their role applies).")],
    expires: Annotated[
        int | None, typer.Option("--expires", help="Days until it expires (default: never).", min=1, max=3650)
    ] = None,
    scope: Annotated[str, typer.Option("--scope", help="read (GET only) or write.")] = "read",
) -> None:
    """Make a personal API token and print it once (only its hash is kept).

    Example: lmreview user token create nightly-export --user ana --expires 90 --scope read
    """
    st = state(ctx)
    with st.session() as session:
        made = tokens.create_token(session, user, name, actor=st.settings.actor, scope=scope, expires_days=expires)
        expiry = f"expires {made.token.expires_at:%Y-%m-%d}" if made.token.expires_at else "never expires"
        console.print(f"API token {made.token.id} {made.token.name!r} for {user} ({scope}, {expiry}):", markup=False)
    console.print(made.secret, markup=False, soft_wrap=True)
    console.print("Copy it now: lmreview keeps only its hash and cannot show it again.")


@token_app.command("list")
def token_list(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's tokens.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List API tokens (their first characters, never the tokens): user, scope, expiry, last use, state.

    Example: lmreview user token list --user ana
    """
    with state(ctx).session() as session:
        rows = [tokens.token_json(token, owner) for token, owner in tokens.list_tokens(session, user)]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "user", "name", "token", "scope", "created", "expires", "last used", "state")
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["user"]),
            str(r["name"]),
            f"{r['prefix']}…",
            str(r["scope"]),
            str(r["created"])[:10],
            str(r["expires"] or "never")[:10],
            str(r["last_used"] or "–")[:16],
            str(r["state"]),
        )
    console.print(table)


@token_app.command("revoke")
def token_revoke(
    ctx: typer.Context,
    token_id: Annotated[int, typer.Argument(help="The token's id (see token list).", **ROW_ID)],
) -> None:
    """Revoke an API token: requests carrying it are refused from now on.

    Example: lmreview user token revoke 3
    """
    st = state(ctx)
    with st.session() as session:
        token = tokens.revoke_token(session, token_id, actor=st.settings.actor)
        console.print(f"Revoked API token {token.id} {token.name!r}.", markup=False)
