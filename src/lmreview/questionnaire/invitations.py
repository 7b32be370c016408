"""Personal links, invitations and reminders.

A link carries a random token of 256 bits; the store keeps only its SHA-256, so neither a database copy nor a
backup holds a working link. A reminder is a new link (the first one keeps working until it expires), because the
old token cannot be recovered from its hash. Reminders go only to respondents who have not submitted, declined or
bounced.

Mail goes over SMTP (``LMREVIEW_SMTP_*``) or, with ``dry_run``, into ``.eml`` files a person can open and check.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import secrets
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from string import Template

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.errors import BadInput, Forbidden, LmreviewError, Problem
from lmreview.portfolio.models import Project
from lmreview.questionnaire.models import Invitation, Respondent, Review
from lmreview.questionnaire.reviews import respondent_status, submissions_by_respondent
from lmreview.settings import Settings
from lmreview.store import audit
from lmreview.store.base import utcnow

TOKEN_BYTES = 32
DEFAULT_SUBJECT = "Questionnaire for project $project_code: $review_title"
DEFAULT_BODY = """Dear $name,

As part of the $review_title, we ask the team of project $project_code ($project_title) to fill in a short \
questionnaire. Your personal link opens the form with the project already filled in; you can save a draft and \
come back to it before you submit:

$link

The link works until $expires. It is personal: please do not forward it.

Thank you,
The review team
"""
DEFAULT_REMINDER_SUBJECT = "Reminder: questionnaire for project $project_code"
DEFAULT_REMINDER_BODY = """Dear $name,

We have not yet received the questionnaire for project $project_code ($project_title) for the $review_title. \
Your answers so far are kept; this link opens them:

$link

The link works until $expires. Thank you for your help.

The review team
"""
PLACEHOLDERS = ("name", "project_code", "project_title", "review_title", "link", "expires")


@dataclass
class Sent:
    respondent: str
    email: str
    kind: str  # invitation | reminder
    outcome: str  # sent | written | bounced
    detail: str = ""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_link(session: Session, respondent: Respondent, days: int) -> tuple[Invitation, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation = Invitation(
        respondent_id=respondent.id,
        token_hash=token_hash(token),
        expires_at=utcnow() + dt.timedelta(days=days),
    )
    respondent.invitations.append(invitation)
    session.flush()
    return invitation, token


def check_template(text: str, what: str) -> str:
    """A mail template may use only the known $placeholders: a typo must not reach 30 project teams."""
    names = {m.group("named") or m.group("braced") for m in Template.pattern.finditer(text)} - {None}
    unknown = sorted(str(n) for n in names - set(PLACEHOLDERS))
    if unknown:
        known = ", ".join("$" + p for p in PLACEHOLDERS)
        raise BadInput([Problem(what, 0, "-", f"unknown placeholder ${unknown[0]}; use {known}")])
    try:
        Template(text).substitute(dict.fromkeys(PLACEHOLDERS, ""))
    except ValueError as exc:
        message = f"the template is not valid ({exc}); write $$ for a dollar sign"
        raise BadInput([Problem(what, 0, "-", message)]) from None
    return text


def link_for(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}/r/{token}"


def _message(
    settings: Settings,
    review: Review,
    respondent: Respondent,
    title: str | None,
    token: str,
    expires: dt.datetime,
    reminder: bool,
) -> EmailMessage:
    values = {
        "name": respondent.name,
        "project_code": respondent.project_code or "",
        "project_title": title or "",
        "review_title": review.title or review.name,
        "link": link_for(settings, token),
        "expires": expires.date().isoformat(),
    }
    subject = (review.reminder_subject if reminder else review.mail_subject) or (
        DEFAULT_REMINDER_SUBJECT if reminder else DEFAULT_SUBJECT
    )
    body = (review.reminder_body if reminder else review.mail_body) or (
        DEFAULT_REMINDER_BODY if reminder else DEFAULT_BODY
    )
    message = EmailMessage()
    message["Subject"] = " ".join(Template(subject).safe_substitute(values).split())
    message["From"] = settings.mail_from
    message["To"] = f"{respondent.name} <{respondent.email}>"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="lmreview")
    message.set_content(Template(body).safe_substitute(values))
    return message


class _Outbox:
    """SMTP, or .eml files in a folder (dry run)."""

    def __init__(self, settings: Settings, dry_run: Path | None) -> None:
        self.settings = settings
        self.folder = dry_run
        self.smtp: smtplib.SMTP | None = None
        if dry_run is not None:
            dry_run.mkdir(parents=True, exist_ok=True)
        elif not settings.smtp_host:
            raise BadInput(
                [
                    Problem(
                        "LMREVIEW_SMTP_HOST",
                        0,
                        "-",
                        "no mail server is set: set LMREVIEW_SMTP_HOST (and _PORT, _USER, _PASSWORD), "
                        "or use --dry-run DIR to write the messages as .eml files",
                    )
                ]
            )

    def __enter__(self) -> _Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException):
                self.smtp.quit()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        assert s.smtp_host
        try:
            if s.smtp_security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.smtp_host, s.smtp_port, timeout=30, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30)
                if s.smtp_security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise LmreviewError(
                f"cannot send mail through {s.smtp_host}:{s.smtp_port} ({exc}); check LMREVIEW_SMTP_* "
                "or use --dry-run DIR"
            ) from None
        return smtp

    def send(self, message: EmailMessage, stem: str) -> tuple[str, str]:
        if self.folder is not None:
            path = self.folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', stem)}.eml"
            path.write_bytes(bytes(message))
            return "written", str(path)
        if self.smtp is None:
            self.smtp = self._connect()
        try:
            self.smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (0, b""))
            return "bounced", f"{code} {text.decode(errors='replace')}"
        return "sent", ""


def send_invitations(
    session: Session,
    review: Review,
    settings: Settings,
    *,
    actor: str,
    reminders: bool = False,
    dry_run: Path | None = None,
    only: list[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Sent]:
    """Invite everyone with an e-mail who has no invitation yet; or remind those who have not answered."""
    submissions = submissions_by_respondent(session, review)
    titles = dict(session.execute(select(Project.id, Project.title)).all())
    results: list[Sent] = []
    query = select(Respondent).where(Respondent.review_id == review.id).order_by(Respondent.id)
    everyone = list(session.scalars(query))
    with _Outbox(settings, dry_run) as outbox:
        for done, respondent in enumerate(everyone, start=1):
            if progress is not None:
                progress(done, len(everyone))
            if only is not None and respondent.id not in only:
                continue
            status = respondent_status(respondent, submissions.get(respondent.id, []))
            if not respondent.email:
                continue
            wanted = status in ("invited", "opened", "draft") if reminders else status == "not_invited"
            if not wanted:
                continue
            invitation, token = new_link(session, respondent, settings.invitation_days)
            message = _message(
                settings,
                review,
                respondent,
                titles.get(respondent.project_id) if respondent.project_id else None,
                token,
                invitation.expires_at,
                reminders,
            )
            kind = "reminder" if reminders else "invitation"
            stem = f"{respondent.project_code or 'none'}-{respondent.id}-{kind}-{len(respondent.invitations)}"
            outcome, detail = outbox.send(message, stem)
            now = utcnow()
            if outcome == "bounced":
                respondent.bounced_at = now
            else:
                invitation.sent_at = now
                if reminders:
                    invitation.reminders = len(respondent.invitations) - 1
                    invitation.last_reminder_at = now
            results.append(Sent(respondent.name, respondent.email, kind, outcome, detail))
            session.flush()
    if results:
        audit.record(
            session,
            actor=actor,
            action="update",
            entity="review",
            entity_id=review.id,
            after={
                "sent": len(results),
                "kind": "reminders" if reminders else "invitations",
                "dry_run": dry_run is not None,
            },
            summary=f"{'reminded' if reminders else 'invited'} {len(results)} respondents",
        )
    return results


def open_link(session: Session, token: str) -> tuple[Invitation, Respondent, Review]:
    """The invitation of a token; Forbidden (with what to do) when it is unknown, withdrawn or expired."""
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if invitation is None:
        raise Forbidden("this link is not valid: check that it was copied whole, or ask the review team for a new one")
    if invitation.revoked_at is not None:
        raise Forbidden("this link was withdrawn by the review team; ask them for a new one")
    expires = invitation.expires_at if invitation.expires_at.tzinfo else invitation.expires_at.replace(tzinfo=dt.UTC)
    if expires < utcnow():
        raise Forbidden(f"this link expired on {expires.date().isoformat()}; ask the review team for a new one")
    respondent = invitation.respondent
    review = session.get(Review, respondent.review_id)
    assert review is not None
    if invitation.opened_at is None:
        invitation.opened_at = utcnow()
    return invitation, respondent, review


def revoke(session: Session, respondent: Respondent, *, actor: str) -> int:
    """Withdraw every link of a respondent; returns how many were live."""
    now = utcnow()
    live = [i for i in respondent.invitations if i.revoked_at is None]
    for invitation in live:
        invitation.revoked_at = now
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="respondent",
        entity_id=respondent.id,
        after={"revoked": len(live)},
        summary=f"withdrew {len(live)} links of {respondent.name}",
    )
    return len(live)


def set_mail_templates(
    session: Session,
    review: Review,
    *,
    actor: str,
    subject: str | None = None,
    body: str | None = None,
    reminder_subject: str | None = None,
    reminder_body: str | None = None,
) -> None:
    """Change the texts of a review's invitations and reminders (None keeps a text; "" restores the default)."""
    changes = {
        "mail_subject": subject,
        "mail_body": body,
        "reminder_subject": reminder_subject,
        "reminder_body": reminder_body,
    }
    before = {k: getattr(review, k) for k in changes}
    for key, text in changes.items():
        if text is None:
            continue
        setattr(review, key, check_template(text, key) if text.strip() else None)
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="review",
        entity_id=review.id,
        before=before,
        after={k: getattr(review, k) for k in changes},
        summary="changed the invitation and reminder texts",
    )


def mail_templates(review: Review) -> dict[str, str]:
    """The texts the next invitations and reminders will use."""
    return {
        "mail_subject": review.mail_subject or DEFAULT_SUBJECT,
        "mail_body": review.mail_body or DEFAULT_BODY,
        "reminder_subject": review.reminder_subject or DEFAULT_REMINDER_SUBJECT,
        "reminder_body": review.reminder_body or DEFAULT_REMINDER_BODY,
    }
