"""``lmreview serve`` and ``lmreview demo``: the web UI, and a workspace loaded with the sample portfolios."""

from __future__ import annotations

import contextlib
import os
from decimal import Decimal
from importlib import resources
from typing import Annotated, Any

import typer

from lmreview.cli.common import State, console, state
from lmreview.cli.portfolio import print_import_report
from lmreview.errors import Conflict
from lmreview.figures import fmt_number, fmt_pct
from lmreview.portfolio import importing
from lmreview.portfolio.stats import portfolio_stats
from lmreview.store import users

SAMPLES = ("lm2016", "lm2022")
DEMO_USER, DEMO_PASSWORD = "demo", "demo-password"

Host = Annotated[str, typer.Option("--host", help="Address to listen on.")]
Port = Annotated[int, typer.Option("--port", help="Port to listen on.")]


Workers = Annotated[
    int, typer.Option("--workers", min=1, help="Web processes to run (several for a team; see docs/deploy.md).")
]


def _serve(st: State, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    from lmreview.web.app import create_app
    from lmreview.web.middleware import configure_logging
    from lmreview.web.security import session_secret

    settings = st.settings
    store = st.store()  # creates or upgrades an SQLite file once, before any worker starts
    session_secret(store, settings.secret_key)  # likewise the stored session secret the workers share
    configure_logging(settings)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
    }
    if settings.log_format == "json":  # lmreview writes the request lines itself, as JSON
        options |= {"log_config": None, "access_log": False, "log_level": "info"}
    else:
        options["log_level"] = "warning"
    processes = f" with {workers} worker processes" if workers > 1 else ""
    console.print(f"lmreview is serving http://{host}:{port}/{processes}  (Ctrl+C to stop)")
    if workers == 1:
        uvicorn.run(create_app(settings, store), **options)
        return
    # Worker processes import the application by name and build it from the environment.
    os.environ["LMREVIEW_DATABASE_URL"] = settings.database_url
    if settings.user:
        os.environ["LMREVIEW_USER"] = settings.user
    store.dispose()
    uvicorn.run("lmreview.web.server:app_from_environment", factory=True, workers=workers, **options)


def serve(ctx: typer.Context, host: Host = "127.0.0.1", port: Port = 8000, workers: Workers = 1) -> None:
    """Serve the web UI (behind a reverse proxy for HTTPS; see docs/deploy.md).

    Example: lmreview --db postgresql://lmreview@db/lmreview serve --host 0.0.0.0 --workers 4
    """
    _serve(state(ctx), host, port, workers)


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
            s = portfolio_stats(session, name, rows=False)
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


def load_demo_review(st: State) -> None:
    """Build the demo's 2022 review (once) and print how far it has got."""
    from lmreview.demo import PORTFOLIO, load_demo_review

    with st.session() as session:
        result = load_demo_review(session, actor=st.settings.actor)
    done = "built" if result.created else "already there"
    console.print(f"Review {result.review} (portfolio {PORTFOLIO}, {done}):", markup=False)
    rate = f" ({fmt_pct(Decimal(100) * result.answered / result.projects, 0)})" if result.projects else ""
    line = f"  {result.answered} of {result.projects} projects answered{rate}"
    if result.from_documents:
        line += f"; {result.from_documents} entered from final reports"
    console.print(line + "; sample answers generated by lmreview demo", markup=False)
    pages = [f"/reviews/{result.review}", f"/reviews/{result.review}/analysis", f"/reviews/{result.review}/report"]
    console.print("  in the web UI: " + " · ".join(pages), markup=False)


def load_past_review(st: State) -> None:
    """Build the demo's completed 2016 review (once) and say how many answered."""
    from lmreview.demo.past import PORTFOLIO, load_past_review

    with st.session() as session:
        result = load_past_review(session, actor=st.settings.actor)
    done = "built" if result.created else "already there"
    console.print(
        f"Review {result.review} (portfolio {PORTFOLIO}, {done}, completed): {result.answered} of {result.projects} "
        "projects answered; sample answers generated by lmreview demo",
        markup=False,
    )


def load_demo_stages(st: State) -> None:
    """The evidence library, the coding and the follow-up register of the demo (each once), a line per stage."""
    from pathlib import Path

    from lmreview.demo import REVIEW, coding, evidence, followup

    db_file = st.store().sqlite_path
    folder = (Path(db_file).parent if db_file else Path(".")) / "evidence"
    with st.session() as session:
        library = evidence.load_library(session, actor=st.settings.actor, folder=folder)
        codings = coding.load_coding(session, REVIEW, actor=st.settings.actor)
        follow = followup.load_followup(session, REVIEW, actor=st.settings.actor)
    kinds = ", ".join(f"{n} {kind.replace('_', ' ')}s" for kind, n in sorted(library.items.items()))
    done = f"{library.added} added" if library.added else "already there"
    console.print(
        f"Evidence library: {len(library.documents)} documents ({done}; the PDF and DOCX files in {folder}), "
        f"{library.item_total} items: {kinds}",
        markup=False,
    )
    console.print("  in the web UI: /evidence · /evidence/items · /evidence/search?q=recruitment", markup=False)
    overall = codings.overall
    kappa = "–" if overall is None or overall.kappa is None else f"{overall.kappa:.2f}"
    console.print(
        f"Coding (codebook {codings.codebook}): {codings.codings} codings of answers and report passages by "
        f"{' and '.join(coding.CODERS)}; Cohen's kappa {kappa} over the {overall.units if overall else 0} units "
        f"both coded; {codings.consensus} consensus decisions",
        markup=False,
    )
    console.print(
        f"  in the web UI: /coding/reviews/{REVIEW} · /coding/reviews/{REVIEW}/agreement?codebook={codings.codebook}",
        markup=False,
    )
    s = follow.status
    rate = (
        f"{len(s.completed_due)} of {len(s.due)} key actions due completed "
        f"({fmt_pct(Decimal(100) * len(s.completed_due) / len(s.due), 0)})"
        if s.due
        else "no key action due yet"
    )
    console.print(
        f"Follow-up: {len(s.recommendations)} recommendations, {s.total} key actions, {len(s.late)} overdue; "
        f"{rate}; {follow.lessons} lessons and good practices",
        markup=False,
    )
    console.print("  in the web UI: /tracking · /tracking/actions · /tracking/lessons", markup=False)
    from lmreview.demo.jobs import load_jobs

    job_id, status = load_jobs(st.store(), st.settings, REVIEW, actor=st.settings.actor)
    console.print(f"Jobs: the report of {REVIEW} built as job {job_id} ({status})", markup=False)
    console.print(f"  in the web UI: /jobs · /jobs/{job_id}", markup=False)
    for name, password in coding.CODERS.items():
        if name in codings.users_created:
            console.print(f"Coder {name} / {password} (reviewer).", markup=False)
        else:
            console.print(f"Coder {name} (the user existed already: its password is the one last set).", markup=False)


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
    load_demo_review(st)  # the 2016-2020 review of lm2022 in flight (docs/index.md, "The demo")
    load_past_review(st)  # the completed 2016 review of lm2016, every mission's answers
    from lmreview.cli.report import demo_report  # the report stage is heavy (matplotlib): load it when used

    demo_report(st)
    load_demo_stages(st)  # evidence, coding, follow-up
    if created:
        console.print(f"Log in as {DEMO_USER} / {DEMO_PASSWORD}.")
    else:
        console.print(f"Log in as {DEMO_USER} (the user existed already: its password is the one last set).")
    if not no_serve:
        _serve(st, host, port)
