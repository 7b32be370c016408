"""``lmreview serve`` and ``lmreview demo``: the web UI, and a workspace loaded with the sample portfolios."""

from __future__ import annotations

import contextlib
from importlib import resources
from typing import Annotated

import typer

from lmreview.cli.common import State, console, state
from lmreview.cli.portfolio import print_import_report
from lmreview.errors import Conflict
from lmreview.figures import fmt_number
from lmreview.portfolio import importing
from lmreview.portfolio.stats import portfolio_stats
from lmreview.store import users

SAMPLES = ("lm2016", "lm2022")
DEMO_USER, DEMO_PASSWORD = "demo", "demo-password"

Host = Annotated[str, typer.Option("--host", help="Address to listen on.")]
Port = Annotated[int, typer.Option("--port", help="Port to listen on.")]


def _serve(st: State, host: str, port: int) -> None:
    import uvicorn

    from lmreview.web.app import create_app

    app = create_app(st.settings, st.store())
    console.print(f"lmreview is serving http://{host}:{port}/  (Ctrl+C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def serve(ctx: typer.Context, host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Serve the web UI.

    Example: lmreview --db reviews.db serve --port 8080
    """
    _serve(state(ctx), host, port)


def load_samples(st: State) -> bool:
    """Import the sample portfolios shipped with lmreview (again: a re-run changes nothing).

    True when this run created the demo user (so its password is the documented one).
    """
    created = False
    samples = resources.files("lmreview.portfolio") / "samples"
    with st.session() as session:
        for name in SAMPLES:
            data = (samples / f"{name}.csv").read_bytes()
            report = importing.import_data(
                session, data, filename=f"{name}.csv", portfolio=name, actor=st.settings.actor
            )
            print_import_report(report)
        with contextlib.suppress(Conflict):
            users.add_user(session, DEMO_USER, "admin", DEMO_PASSWORD, actor=st.settings.actor)
            created = True
        for name in SAMPLES:
            s = portfolio_stats(session, name)
            parts = [f"{s.projects} projects"]
            if s.budget_usd.n:
                parts.append(
                    f"budget USD {fmt_number(s.budget_usd.total)} (mean {fmt_number(s.budget_usd.mean, 2)}, "
                    f"median {fmt_number(s.budget_usd.median)}, n={s.budget_usd.n})"
                )
            if s.duration_months.n:
                parts.append(
                    f"length incl. NCE mean {fmt_number(s.duration_months.mean, 1)} months (n={s.duration_months.n})"
                )
            top = s.breakdowns["category"][0] if s.breakdowns["category"] else None
            if top is not None and top.value is not None:
                parts.append(f"largest category {top.value}: {top.projects} of {top.of}")
            console.print(f"  {name}: " + "; ".join(parts), markup=False)
    return created


def demo(
    ctx: typer.Context,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Load the samples and stop.")] = False,
    host: Host = "127.0.0.1",
    port: Port = 8000,
) -> None:
    """Load the sample portfolios (lm2016, lm2022) and serve the web UI.

    Example: lmreview --db workspace/demo.db demo
    """
    st = state(ctx)
    path = st.store().sqlite_path
    console.print(f"Workspace: {path or st.store().engine.url.render_as_string(hide_password=True)}")
    created = load_samples(st)
    from lmreview.cli.report import demo_report  # the report stage is heavy (matplotlib): load it when used

    demo_report(st)
    if created:
        console.print(f"Log in as {DEMO_USER} / {DEMO_PASSWORD}.")
    else:
        console.print(f"Log in as {DEMO_USER} (the user existed already: its password is the one last set).")
    if not no_serve:
        _serve(st, host, port)
