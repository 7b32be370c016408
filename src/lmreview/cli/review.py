"""``lmreview review``, ``lmreview respondents``, ``lmreview responses``: run the questionnaire of a review."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from lmreview import access
from lmreview.cli.common import ROW_ID, State, console, err, print_json, progress_bar, state
from lmreview.figures import fmt_pct, plural
from lmreview.files import read_input, read_text
from lmreview.questionnaire import invitations, media, respondents, reviews

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

review_app = typer.Typer(
    help="Reviews: a portfolio asked one questionnaire; invitations and reminders.", no_args_is_help=True
)
respondents_app = typer.Typer(help="The roster of a review: who answers for which project.", no_args_is_help=True)
responses_app = typer.Typer(help="Responses to a review's questionnaire.", no_args_is_help=True)

member_app = typer.Typer(help="Add, change or remove a member of a review.", no_args_is_help=True)
review_app.add_typer(member_app, name="member")

ReviewName = Annotated[str, typer.Argument(help="Review name.")]
UserName = Annotated[str, typer.Argument(help="User name (see lmreview user list).")]
MemberRole = Annotated[str, typer.Option("--role", help="manager, reviewer or reader.")]
DryRun = Annotated[
    Path | None, typer.Option("--dry-run", help="Write the messages as .eml files in this folder; send nothing.")
]


@review_app.command("create")
def create(
    ctx: typer.Context,
    name: ReviewName,
    portfolio: Annotated[str | None, typer.Option("--portfolio", "-p", help="Portfolio of the projects asked.")] = None,
    form: Annotated[str | None, typer.Option("--form", help="Questionnaire (a form already added).")] = None,
    template: Annotated[str | None, typer.Option("--template", help="Start from a shipped template.")] = None,
    title: Annotated[str | None, typer.Option("--title", help="Title used in e-mails and reports.")] = None,
) -> None:
    """Create a review of a portfolio with a questionnaire.

    Example: lmreview review create lm2022-review --portfolio lm2022 --template idf-lm-2022
    """
    st = state(ctx)
    with st.session() as session:
        review = reviews.create_review(
            session, name, actor=st.settings.actor, portfolio=portfolio, form=form, template=template, title=title
        )
        access.make_manager(session, review, st.account(session), actor=st.settings.actor)
        form_name = review.form.name if review.form else "none yet"
    console.print(f"Created review {name} (portfolio {portfolio or 'none yet'}, questionnaire {form_name}).")


@review_app.command("list")
def list_(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the reviews with their response rate.

    Example: lmreview review list
    """
    with state(ctx).session() as session:
        rows = [reviews.response_status(session, r) for r in reviews.list_reviews(session)]
    if as_json:
        print_json([r.as_json() for r in rows])
        return
    if not rows:
        console.print("No reviews yet: lmreview review create NAME --portfolio P --template T")
        return
    table = Table("review", "questionnaire", "respondents", "projects answered")
    for r in rows:
        rate = f" ({fmt_pct(r.response_rate * 100, 0)})" if r.response_rate is not None else ""
        entered = f"; {r.entered_text}" if r.entered_codes else ""
        answered = f"{r.projects_answered} of {r.projects_total}{rate}{entered}"
        table.add_row(r.review, r.form or "–", str(r.respondents), answered)
    console.print(table)


def _send(ctx: typer.Context, name: str, reminders: bool, dry_run: Path | None) -> None:
    st = state(ctx)
    with progress_bar("writing" if dry_run else "sending") as progress, st.session() as session:
        review = reviews.get_review(session, name)
        sent = invitations.send_invitations(
            session,
            review,
            st.settings,
            actor=st.settings.actor,
            reminders=reminders,
            dry_run=dry_run,
            progress=progress,
        )
    kind = "reminder" if reminders else "invitation"
    for s in sent:
        line = f"  {s.outcome}: {s.kind} to {s.respondent} <{s.email}>" + (f" ({s.detail})" if s.detail else "")
        (err if s.outcome in ("bounced", "failed") else console).print(line, markup=False, soft_wrap=True)
    verb = "Wrote" if dry_run else "Sent"
    done = sum(1 for s in sent if s.outcome in ("sent", "written"))
    console.print(f"{verb} {plural(done, kind)}" + (f" to {dry_run}" if dry_run else "") + ".")
    failed = sum(1 for s in sent if s.outcome == "failed")
    if failed:
        retry = (
            "the next reminders include them"
            if reminders
            else f"`lmreview review invite {name}` again sends only what is still missing"
        )
        err.print(
            f"{plural(failed, kind)} could not be sent ({'it was' if failed == 1 else 'they were'} not recorded); "
            + retry
            + ".",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(2)


@review_app.command("invite")
def invite(ctx: typer.Context, name: ReviewName, dry_run: DryRun = None) -> None:
    """E-mail a personal link to every respondent not invited yet.

    Example: lmreview review invite lm2022-review --dry-run outbox/
    """
    _send(ctx, name, False, dry_run)


@review_app.command("remind")
def remind(ctx: typer.Context, name: ReviewName, dry_run: DryRun = None) -> None:
    """E-mail a reminder (with a new link) to respondents who have not submitted, declined or bounced.

    Example: lmreview review remind lm2022-review
    """
    _send(ctx, name, True, dry_run)


@respondents_app.command("import")
def import_roster(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV or XLSX: project_code, name, email, role, office, language.")],
    review: Annotated[str, typer.Option("--review", "-r", help="Review name.")],
) -> None:
    """Import or update the roster of a review; every bad row is reported and nothing is written.

    Example: lmreview respondents import roster.xlsx --review lm2022-review
    """
    st = state(ctx)
    data = read_input(file)
    with st.session(immediate=True) as session:
        found = reviews.get_review(session, review)
        report = respondents.import_roster(session, found, data, str(file), actor=st.settings.actor)
    for warning in report.warnings:
        err.print(str(warning), markup=False, soft_wrap=True)
    console.print(
        f"Imported {file.name} into review {review}: {len(report.created)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged"
    )


@respondents_app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The respondent's name.")],
    review: Annotated[str, typer.Option("--review", "-r", help="Review name.")],
    email: Annotated[str | None, typer.Option("--email")] = None,
    project: Annotated[str | None, typer.Option("--project", help="Project code.")] = None,
    role: Annotated[str | None, typer.Option("--role")] = None,
    language: Annotated[str | None, typer.Option("--language", help="e.g. en, fr, es.")] = None,
) -> None:
    """Add one respondent.

    Example: lmreview respondents add "Ana Silva" --review lm2022-review --email ana@example.org --project LM.0334
    """
    st = state(ctx)
    with st.session() as session:
        found = reviews.get_review(session, review)
        respondents.add_respondent(
            session,
            found,
            name=name,
            email=email,
            project_code=project,
            role=role,
            language=language,
            actor=st.settings.actor,
        )
    console.print(f"Added {name} to review {review}.")


@respondents_app.command("list")
def list_respondents(
    ctx: typer.Context,
    review: Annotated[str, typer.Option("--review", "-r", help="Review name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the respondents of a review with their status.

    Example: lmreview respondents list --review lm2022-review --json
    """
    with state(ctx).session() as session:
        rows = respondents.list_respondents(session, reviews.get_review(session, review))
        data = [
            {
                "id": r.respondent.id,
                "project_code": r.respondent.project_code,
                "name": r.respondent.name,
                "email": r.respondent.email,
                "role": r.respondent.role,
                "language": r.respondent.language,
                "status": r.status,
                "links": len(r.respondent.invitations),
            }
            for r in rows
        ]
    if as_json:
        print_json(data)
        return
    table = Table("id", "project", "name", "e-mail", "language", "status", "links")
    for d in data:
        table.add_row(
            str(d["id"]),
            str(d["project_code"] or "–"),
            str(d["name"]),
            str(d["email"] or "–"),
            str(d["language"] or ""),
            str(d["status"]),
            str(d["links"]),
        )
    console.print(table)


@respondents_app.command("revoke")
def revoke(
    ctx: typer.Context,
    respondent_id: Annotated[int, typer.Argument(help="Respondent id (see respondents list).", **ROW_ID)],
    review: Annotated[str, typer.Option("--review", "-r", help="Review name.")],
) -> None:
    """Withdraw every personal link of a respondent.

    Example: lmreview respondents revoke 12 --review lm2022-review
    """
    st = state(ctx)
    with st.session() as session:
        person = respondents.get_respondent(session, reviews.get_review(session, review), respondent_id)
        count = invitations.revoke(session, person, actor=st.settings.actor)
    console.print(f"Withdrew {plural(count, 'link')}.")


@responses_app.command("status")
def status(
    ctx: typer.Context,
    form: Annotated[str | None, typer.Option("--form", help="The review's questionnaire.")] = None,
    review: Annotated[str | None, typer.Option("--review", "-r", help="Review name.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Who has answered: respondents by status and projects answered, with the denominator.

    Example: lmreview responses status --form idf_lm_2022 --json
    """
    with state(ctx).session() as session:
        found = reviews.review_for(session, review=review, form=form)
        result = reviews.response_status(session, found)
    if as_json:
        print_json(result.as_json())
        return
    rate = f", {fmt_pct(result.response_rate * 100, 0)}" if result.response_rate is not None else ""
    projects = plural(result.projects_total, "project")
    entered = f"; {result.entered_text}" if result.entered_codes else ""
    console.print(f"Review {result.review}: {result.projects_answered} of {projects} answered{rate}{entered}")
    console.print(
        "Respondents: "
        + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in result.counts.items())
        + f" (of {result.respondents})"
    )
    if result.missing_codes:
        console.print("Not answered yet: " + ", ".join(result.missing_codes), markup=False, soft_wrap=True)
    if result.entered_codes:
        console.print("Entered from documents: " + ", ".join(result.entered_codes), markup=False, soft_wrap=True)
    if result.generated:
        console.print(f"Sample answers generated by lmreview demo: {plural(result.generated, 'submission')}")


@responses_app.command("files")
def files(
    ctx: typer.Context,
    review: Annotated[str, typer.Option("--review", "-r", help="Review name.")],
    submission: Annotated[
        int | None, typer.Option("--submission", help="Only this submission (its number).", **ROW_ID)
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the stored files here, as SUBMISSION/NAME.")
    ] = None,
) -> None:
    """The files sent with a review's answers (photos, recordings, documents), and whether each is stored.

    Example: lmreview responses files --review lm2016-review --out files/
    """
    written = 0
    with state(ctx).session() as session:
        found = reviews.get_review(session, review)
        listed = media.review_files(session, found.id, submission)
        table = Table("submission", "question", "file", "type", "size")
        for item in listed:
            stored = item.status.file
            kind = stored.media_type if stored else "(not stored)"
            size = f"{stored.size:,} bytes" if stored else "–"
            table.add_row(str(item.submission.id), escape(item.status.path), escape(item.status.filename), kind, size)
            if out is not None and stored is not None:
                folder = out / str(item.submission.id)
                folder.mkdir(parents=True, exist_ok=True)
                _row, content = media.read(session, item.submission.id, stored.filename)
                (folder / media.safe_name(stored.filename)).write_bytes(content)
                written += 1
    stored_count = sum(1 for item in listed if item.status.file is not None)
    console.print(table)
    console.print(f"{stored_count} of {plural(len(listed), 'file answer')} stored in lmreview.", markup=False)
    if out is not None:
        console.print(f"Wrote {plural(written, 'file')} to {out}.", markup=False)


@review_app.command("mail")
def mail(
    ctx: typer.Context,
    name: ReviewName,
    subject: Annotated[str | None, typer.Option("--subject", help="Subject of invitations.")] = None,
    body: Annotated[Path | None, typer.Option("--body", help="Text file: the body of invitations.")] = None,
    reminder_subject: Annotated[str | None, typer.Option("--reminder-subject", help="Subject of reminders.")] = None,
    reminder_body: Annotated[
        Path | None, typer.Option("--reminder-body", help="Text file: the body of reminders.")
    ] = None,
) -> None:
    """Show or change the texts of invitations and reminders ($name, $project_code, $project_title, $review_title,
    $link, $expires are filled in for each respondent).

    Example: lmreview review mail lm2022-review --subject 'IDF review: project $project_code' --body invitation.txt
    """
    st = state(ctx)
    with st.session() as session:
        review = reviews.get_review(session, name)
        if any(v is not None for v in (subject, body, reminder_subject, reminder_body)):
            invitations.set_mail_templates(
                session,
                review,
                actor=st.settings.actor,
                subject=subject,
                body=read_text(body) if body else None,
                reminder_subject=reminder_subject,
                reminder_body=read_text(reminder_body) if reminder_body else None,
            )
        texts = invitations.mail_templates(review)
    for key, text in texts.items():
        console.print(f"--- {key.replace('_', ' ')} ---", markup=False)
        console.print(text.rstrip(), markup=False)


# --- members ---------------------------------------------------------------------------------------------------------


def _by_admin(st: State, session: Session) -> bool:
    """The local operator (no --user account) and site admins may remove a review's last manager."""
    user = st.account(session)
    return user is None or access.is_admin(user)


@review_app.command("members")
def members(
    ctx: typer.Context,
    name: ReviewName,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List who may read a review, work in it (reviewer) or manage it.

    Site admins manage every review without being listed. Example: lmreview review members lm2022-review
    """
    with state(ctx).session() as session:
        found = access.list_members(session, reviews.get_review(session, name))
    if as_json:
        print_json([m.as_json() for m in found])
        return
    if not found:
        console.print(f"Review {name} has no members: only site admins see it.")
        return
    table = Table("user", "role", "site role", "added", "by")
    for m in found:
        table.add_row(m.user + ("" if m.active else " (switched off)"), m.role, m.site_role, m.added_at, m.added_by)
    console.print(table)
    console.print(f"{plural(len(found), 'member')}.")


@member_app.command("add")
def member_add(ctx: typer.Context, name: ReviewName, user: UserName, role: MemberRole = "reader") -> None:
    """Make a user a member of a review (reader unless --role says otherwise).

    Example: lmreview review member add lm2022-review ana --role reviewer
    """
    st = state(ctx)
    with st.session() as session:
        access.add_member(session, reviews.get_review(session, name), user, role, actor=st.settings.actor)
    console.print(f"{user} is now a {role} of review {name}.")


@member_app.command("change")
def member_change(ctx: typer.Context, name: ReviewName, user: UserName, role: MemberRole) -> None:
    """Give a member another role in a review (a review keeps at least one manager).

    Example: lmreview review member change lm2022-review ana --role manager
    """
    st = state(ctx)
    with st.session() as session:
        review = reviews.get_review(session, name)
        access.change_member(session, review, user, role, actor=st.settings.actor, by_admin=_by_admin(st, session))
    console.print(f"{user} is now a {role} of review {name}.")


@member_app.command("remove")
def member_remove(ctx: typer.Context, name: ReviewName, user: UserName) -> None:
    """Remove a member from a review: they no longer see it (a review keeps at least one manager).

    Example: lmreview review member remove lm2022-review ana
    """
    st = state(ctx)
    with st.session() as session:
        review = reviews.get_review(session, name)
        access.remove_member(session, review, user, actor=st.settings.actor, by_admin=_by_admin(st, session))
    console.print(f"{user} is no longer a member of review {name}.")


@review_app.command("export")
def export(
    ctx: typer.Context,
    name: ReviewName,
    file: Annotated[Path, typer.Argument(help="The zip to write.", show_default=False)],
) -> None:
    """Export a review as one zip that another lmreview imports: its portfolio, questionnaire, respondents,
    submissions with their changes and files, ratings, codings, report sections, follow-up and audit events.

    Example: lmreview review export lm2022-review lm2022-review.zip
    """
    from lmreview.store import review_archive

    st = state(ctx)
    with st.session() as session:
        reviews.get_review(session, name)  # run as --user: a manager of the review
    result = review_archive.export_review(st.store(), name, file)
    console.print(
        f"Exported review {name} to {file}: {plural(result.rows, 'row')}, {plural(result.files, 'file')}.",
        markup=False,
    )


@review_app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A zip written by lmreview review export.", show_default=False)],
    new_name: Annotated[str | None, typer.Option("--as", help="Import the review under this name.")] = None,
) -> None:
    """Import a review exported by lmreview review export, all or nothing. Its portfolio, questionnaire, codebooks
    and documents are reused when this lmreview has them (by name), added otherwise.

    Example: lmreview review import lm2022-review.zip --as lm2022-copy
    """
    from lmreview.errors import Forbidden
    from lmreview.store import review_archive

    st = state(ctx)
    with st.session(immediate=True) as session:
        user = st.account(session)
        if user is not None and not (user.active and user.role in ("reviewer", "admin")):
            raise Forbidden(f"importing a review needs the reviewer role; {user.name} is a {user.role}")
        result = review_archive.import_review(session, file, new_name=new_name, actor=st.settings.actor, user=user)
    added = sum(result.added.values())
    reused = sum(result.reused.values())
    console.print(
        f"Imported review {result.review} from {file.name}: {plural(added, 'row')} added, "
        f"{plural(reused, 'row')} found here already (portfolio, questionnaire, codebooks, documents).",
        markup=False,
    )
    if result.users_missing:
        missing = ", ".join(result.users_missing)
        console.print(f"  users this lmreview does not have (not made members): {missing}", markup=False)
    for table, count in result.renewed.items():
        console.print(f"  {table}: {count} given a new unique value (held here already)", markup=False)
