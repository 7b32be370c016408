"""Personal response links for responsible units, and reminders of their overdue and upcoming key actions.

A link works like a questionnaire's (questionnaire/invitations.py): a random 256-bit token of which the store keeps
only the SHA-256, valid for ``LMREVIEW_INVITATION_DAYS``. It opens one recommendation, on which the unit states
management's stance and its key actions without an account. Mail goes to the one address stored for the unit
(``lmreview tracking unit set``), over SMTP or, with ``dry_run``, into ``.eml`` files.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.errors import BadInput, Forbidden, Problem
from lmreview.questionnaire.invitations import TOKEN_BYTES, Outbox, token_hash
from lmreview.settings import Settings
from lmreview.store import audit
from lmreview.store.base import utcnow
from lmreview.tracking import service, values
from lmreview.tracking.models import Action, Recommendation, ResponseLink, Unit


@dataclass(frozen=True)
class Mailed:
    unit: str
    email: str
    outcome: str  # sent | written | bounced | skipped
    detail: str = ""


def _address(unit: Unit) -> Address:
    assert unit.email is not None
    return Address(display_name=unit.name, addr_spec=unit.email)


def _message(settings: Settings, unit: Unit, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.mail_from
    message["To"] = _address(unit)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="lmreview")
    message.set_content(body)
    return message


def _unit(session: Session, name: str) -> Unit | None:
    return session.scalar(select(Unit).where(Unit.name == name))


def send_links(
    session: Session,
    settings: Settings,
    recs: list[Recommendation],
    *,
    actor: str,
    dry_run: Path | None = None,
) -> list[Mailed]:
    """Send each responsible unit of each recommendation a personal link to answer it."""
    results: list[Mailed] = []
    with Outbox(settings, dry_run) as outbox:
        for rec in recs:
            review = service.source_name(session, rec)
            first = len(results)
            for name in rec.units:
                unit = _unit(session, name)
                if unit is None or not unit.email:
                    results.append(
                        Mailed(name, "", "skipped", f"no address: lmreview tracking unit set {name!r} --email")
                    )
                    continue
                token = secrets.token_urlsafe(TOKEN_BYTES)
                link = ResponseLink(
                    recommendation_id=rec.id,
                    unit=unit.name,
                    email=unit.email,
                    token_hash=token_hash(token),
                    expires_at=utcnow() + dt.timedelta(days=settings.invitation_days),
                )
                session.add(link)
                session.flush()
                url = f"{settings.base_url.rstrip('/')}/t/{token}"
                body = (
                    f"Dear colleagues of {unit.name},\n\n"
                    f"Recommendation {rec.number} of {'the review ' if rec.review_id else ''}{review} is addressed "
                    "to your unit:\n\n"
                    f"    {rec.text}\n\n"
                    "Please tell us whether management agrees, partially agrees or disagrees with it, and which key "
                    "actions your unit will take, by when. This link opens the recommendation; no account is "
                    f"needed:\n\n{url}\n\n"
                    f"The link works until {link.expires_at.date().isoformat()}. Please do not forward it.\n\n"
                    "Thank you,\nThe evaluation team\n"
                )
                message = _message(settings, unit, f"Management response requested: recommendation {rec.number}", body)
                outcome, detail = outbox.send(message, f"{unit.name}-rec-{rec.id}-{link.id}", unit.email)
                if outcome in ("sent", "written"):
                    link.sent_at = utcnow()
                results.append(Mailed(unit.name, unit.email, outcome, detail))
            sent = [r.unit for r in results[first:] if r.outcome in ("sent", "written")]
            if sent:
                audit.record(
                    session,
                    actor=actor,
                    action="update",
                    entity="recommendation",
                    entity_id=rec.id,
                    after={"links": sent, "dry_run": dry_run is not None},
                    summary=f"sent a response link for recommendation {rec.number} to {', '.join(sent)}",
                )
    return results


def open_link(session: Session, token: str) -> tuple[ResponseLink, Recommendation]:
    """The link of a token and its recommendation; Forbidden when the token is unknown or expired."""
    link = session.scalar(select(ResponseLink).where(ResponseLink.token_hash == token_hash(token)))
    if link is None:
        raise Forbidden(
            "this link is not valid: check that it was copied whole, or ask the evaluation team for a new one"
        )
    expires = link.expires_at if link.expires_at.tzinfo else link.expires_at.replace(tzinfo=dt.UTC)
    if expires < utcnow():
        raise Forbidden(f"this link expired on {expires.date().isoformat()}; ask the evaluation team for a new one")
    return link, service.get_recommendation(session, link.recommendation_id)


def answer(
    session: Session,
    token: str,
    *,
    stance: str,
    text: str,
    by: str,
    actions: list[tuple[str, str]],
) -> Recommendation:
    """A unit's answer through its link: the stance with its reason and new key actions (description, due date).
    Every problem is checked before anything is written."""
    link, rec = open_link(session, token)
    problems: list[Problem] = []
    if values.stance(stance) is None:
        problems.append(Problem("stance", 0, "-", f"{stance!r} is not a stance; use {values.stance_choices()}"))
    if not by.strip():
        problems.append(Problem("name", 0, "-", "give your name and title"))
    parsed: list[tuple[str, dt.date | None]] = []
    for row, (description, due) in enumerate(actions, start=1):
        if not description.strip() and not due.strip():
            continue
        day = values.date(due) if due.strip() else None
        if due.strip() and day is None:
            problems.append(Problem("key action", row, "due date", f"{due!r} is not a date"))
        if not description.strip():
            problems.append(Problem("key action", row, "description", "describe the key action"))
        parsed.append((description, day))
    if problems:
        raise BadInput(problems)
    actor = f"{by.strip()} ({link.unit}, personal link)"
    service.respond(session, rec.id, stance=stance, text=text, by=f"{by.strip()}, {link.unit}", actor=actor)
    for description, day in parsed:
        service.add_action(session, rec.id, description=description, unit=link.unit, due=day, actor=actor)
    link.answered_at = utcnow()
    return rec


@dataclass(frozen=True)
class Reminder:
    unit: str
    email: str
    overdue: int
    upcoming: int
    outcome: str
    detail: str = ""


def _pending(session: Session, today: dt.date, horizon: dt.date) -> dict[str, list[Action]]:
    query = select(Action).where(
        Action.status.in_(("not_initiated", "initiated")),
        Action.due_date.is_not(None),
        Action.due_date <= horizon,
        Action.unit.is_not(None),
    )
    by_unit: dict[str, list[Action]] = {}
    for action in session.scalars(query.order_by(Action.due_date, Action.id)):
        assert action.unit is not None
        by_unit.setdefault(action.unit, []).append(action)
    return by_unit


def remind(
    session: Session,
    settings: Settings,
    *,
    actor: str,
    due_within: int = 30,
    dry_run: Path | None = None,
    today: dt.date | None = None,
) -> list[Reminder]:
    """E-mail each unit its overdue key actions and those due within ``due_within`` days (one message a unit)."""
    if due_within < 0:
        raise BadInput([Problem("--due-within", 0, "-", "give a number of days, 0 or more")])
    day = today or dt.date.today()
    results: list[Reminder] = []
    pending = _pending(session, day, day + dt.timedelta(days=due_within))
    with Outbox(settings, dry_run) as outbox:
        for name in sorted(pending):
            actions = pending[name]
            late = [a for a in actions if service.overdue(a, day)]
            upcoming = [a for a in actions if a not in late]
            unit = _unit(session, name)
            if unit is None or not unit.email:
                results.append(Reminder(name, "", len(late), len(upcoming), "skipped", "no address"))
                continue
            lines = [f"Dear colleagues of {unit.name},", ""]
            for title, group in (("Overdue key actions", late), (f"Due in the next {due_within} days", upcoming)):
                if not group:
                    continue
                lines += [f"{title}:", ""]
                for a in group:
                    rec = a.recommendation
                    assert a.due_date is not None
                    age = f", {(day - a.due_date).days} days overdue" if a in late else ""
                    lines.append(
                        f"  - {a.description} (recommendation {rec.number} of {service.source_name(session, rec)}; "
                        f"due {a.due_date.isoformat()}{age}; {values.STATUS_LABELS[a.status].lower()})"
                    )
                lines.append("")
            lines += ["Please update their status and progress with the evaluation team.", "", "The evaluation team"]
            subject = f"Key actions to follow up: {len(late)} overdue, {len(upcoming)} due soon"
            outcome, detail = outbox.send(
                _message(settings, unit, subject, "\n".join(lines) + "\n"), f"{unit.name}-reminder", unit.email
            )
            if outcome in ("sent", "written"):
                unit.last_reminded_at = utcnow()
            results.append(Reminder(unit.name, unit.email, len(late), len(upcoming), outcome, detail))
    if results:
        audit.record(
            session,
            actor=actor,
            action="update",
            entity="unit",
            entity_id=None,
            after={"reminded": [r.unit for r in results if r.outcome in ("sent", "written")], "dry_run": bool(dry_run)},
            summary=f"reminded {sum(r.outcome in ('sent', 'written') for r in results)} units of their key actions",
        )
    return results
