"""``lmreview secret``: the key that signs the web UI's session cookies."""

from __future__ import annotations

import secrets

import typer

from lmreview.cli.common import console, state
from lmreview.web.security import rotate_session_secret

app = typer.Typer(help="The web UI's session secret.", no_args_is_help=True)


@app.command("rotate")
def rotate(ctx: typer.Context) -> None:
    """Replace the session secret: every web session ends once the web processes restart.

    With LMREVIEW_SECRET_KEY set, prints a new key to put in every web process's environment; otherwise replaces
    the key lmreview keeps in the database.

    Example: lmreview --db postgresql://lmreview@db/lmreview secret rotate
    """
    st = state(ctx)
    if st.settings.secret_key:
        console.print(
            "LMREVIEW_SECRET_KEY comes from the environment. Set it to this new value for every web", markup=False
        )
        console.print("process, then restart them (every user logs in again):", markup=False)
        console.print(secrets.token_urlsafe(48), markup=False, soft_wrap=True)
        return
    rotate_session_secret(st.store())
    console.print(
        "Replaced the session secret kept in the database. Restart the web processes: every user logs in again.",
        markup=False,
    )
