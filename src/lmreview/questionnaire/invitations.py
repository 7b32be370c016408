"""Personal links, invitations and reminders.

A link carries a random token of 256 bits; the store keeps only its SHA-256, so neither a database copy nor a
backup holds a working link. A reminder is a new link (the first one keeps working until it expires), because the
old token cannot be recovered from its hash. Reminders go only to respondents who have not submitted, declined or
bounced.

Mail goes over SMTP (``LMREVIEW_SMTP_*``) or, with ``dry_run``, into ``.eml`` files a person can open and check.

A batch is checked whole before anything goes out: every name and address must make a well-formed header (a bad one
refuses the batch, nothing is sent). Each message is then sent to exactly the one stored address (never to what a
header says) and its invitation committed as soon as the server has accepted it, so a failure half way leaves the
links already sent recorded and working, and a second run sends only the rest.
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
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from pathlib import Path
from string import Template

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.errors import BadInput, Forbidden, LmreviewError, Problem
from lmreview.portfolio.models import Project
from lmreview.questionnaire.models import Invitation, Respondent, Review
from lmreview.questionnaire.respondents import email_problem, name_problem
from lmreview.questionnaire.reviews import entered_projects, respondent_status, submissions_by_respondent
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
    outcome: str  # sent | written | bounced (refused for good) | failed (not sent, not recorded: run again)
    detail: str = ""


@dataclass
class _Outgoing:
    """A message built and checked, waiting for its turn; its invitation is stored only once it has gone out."""

    respondent: Respondent
    token: str
    expires_at: dt.datetime
    message: EmailMessage
    stem: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sender(settings: Settings) -> Address:
    """``LMREVIEW_MAIL_FROM`` as one address (``Name <address>`` or a plain address)."""
    found = getaddresses([settings.mail_from])
    if len(found) == 1 and "@" in found[0][1] and settings.mail_from.isprintable():
        name, addr = found[0]
        with contextlib.suppress(ValueError, HeaderParseError):  # the email package's header defects
            address = Address(display_name=name, addr_spec=addr)
            if address.addr_spec == addr:
                return address
    message = f'"{settings.mail_from}" is not one e-mail address, e.g. "Review team <review@example.org>"'
    raise BadInput([Problem("LMREVIEW_MAIL_FROM", 0, "-", message)])


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
    sender: Address,
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
    message["From"] = sender
    message["To"] = Address(display_name=respondent.name, addr_spec=respondent.email or "")
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="lmreview")
    message.set_content(Template(body).safe_substitute(values))
    return message


class Outbox:
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

    def __enter__(self) -> Outbox:
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

    def send(self, message: EmailMessage, stem: str, to: str) -> tuple[str, str]:
        """Send ``message`` to the one address ``to`` (whatever its headers say): sent, written, bounced (the
        server refused the address for good, 5xx) or failed (anything else, including a temporary refusal)."""
        if self.folder is not None:
            path = self.folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', stem)}.eml"
            path.write_bytes(bytes(message))
            return "written", str(path)
        if self.smtp is None:
            self.smtp = self._connect()
        try:
            self.smtp.send_message(message, to_addrs=[to])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (0, b""))
            return ("bounced" if 500 <= code < 600 else "failed"), f"{code} {text.decode(errors='replace')}"
        except smtplib.SMTPResponseException as exc:  # smtplib has reset the transaction (or closed on a 421)
            error = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
            if self.smtp.sock is None:
                self.smtp = None
            return "failed", f"{exc.smtp_code} {error}"
        except (OSError, smtplib.SMTPException) as exc:
            self._reset()
            return "failed", str(exc) or type(exc).__name__
        return "sent", ""

    def _reset(self) -> None:
        """After an error the connection may be in any state: the next message opens a new one."""
        if self.smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.smtp.rset()
                self.smtp.quit()
            self.smtp = None


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
    not_since: dt.datetime | None = None,
) -> list[Sent]:
    """Invite everyone with an e-mail who has no invitation yet; or remind those who have not answered (with
    ``not_since``, only those not reminded since then: a reminder job retried after a crash does not remind twice).

    Every message is built and checked first (a bad name or address refuses the batch: BadInput, nothing sent);
    then each invitation is committed as its message goes out. A message that fails is reported as ``failed`` and
    not recorded, so the next run sends it again."""
    outgoing = _prepare(session, review, settings, reminders=reminders, only=only, not_since=not_since)
    kind = "reminder" if reminders else "invitation"
    results: list[Sent] = []
    try:
        with Outbox(settings, dry_run) as outbox:
            unreachable = ""
            for done, item in enumerate(outgoing, start=1):
                respondent, email = item.respondent, item.respondent.email or ""
                try:
                    outcome, detail = (
                        ("failed", unreachable) if unreachable else outbox.send(item.message, item.stem, email)
                    )
                except LmreviewError as exc:  # the server cannot be reached (again): the rest waits for another run
                    if not results:
                        raise
                    unreachable = exc.message
                    outcome, detail = "failed", unreachable
                if outcome in ("sent", "written"):
                    _record(session, item, reminders)
                elif outcome == "bounced":
                    respondent.bounced_at = utcnow()
                results.append(Sent(respondent.name, email, kind, outcome, detail))
                session.commit()  # what went out stays recorded whatever happens to the next message
                if progress is not None:
                    progress(done, len(outgoing))
    finally:
        if results:
            counts = {o: sum(1 for r in results if r.outcome == o) for o in ("sent", "written", "bounced", "failed")}
            audit.record(
                session,
                actor=actor,
                action="update",
                entity="review",
                entity_id=review.id,
                after={
                    "sent": len(results) - counts["failed"],
                    "failed": counts["failed"],
                    "kind": "reminders" if reminders else "invitations",
                    "dry_run": dry_run is not None,
                },
                summary=f"{'reminded' if reminders else 'invited'} {len(results) - counts['failed']} respondents"
                + (f"; {counts['failed']} failed" if counts["failed"] else ""),
            )
            session.commit()
    return results


def _prepare(
    session: Session,
    review: Review,
    settings: Settings,
    *,
    reminders: bool,
    only: list[int] | None,
    not_since: dt.datetime | None = None,
) -> list[_Outgoing]:
    """The messages of a batch, every one checked; BadInput listing every respondent who cannot be mailed."""
    submissions = submissions_by_respondent(session, review)
    entered = entered_projects(session, review)  # their answers came from a document: no invitation, no reminder
    titles = dict(session.execute(select(Project.id, Project.title)).all())
    query = select(Respondent).where(Respondent.review_id == review.id).order_by(Respondent.id)
    kind = "reminder" if reminders else "invitation"
    from_ = sender(settings)
    problems: list[Problem] = []
    outgoing: list[_Outgoing] = []
    for respondent in session.scalars(query):
        if only is not None and respondent.id not in only:
            continue
        if not respondent.email:
            continue
        status = respondent_status(respondent, submissions.get(respondent.id, []), entered)
        wanted = status in ("invited", "opened", "draft") if reminders else status == "not_invited"
        if not wanted or (reminders and not_since is not None and _reminded_since(respondent, not_since)):
            continue
        found = [("name", name_problem(respondent.name)), ("email", email_problem(respondent.email))]
        errors = [(column, problem) for column, problem in found if problem]
        for column, problem in errors:
            fix = "correct it in the roster and import the roster again"
            problems.append(Problem(f"respondent {respondent.id}", 0, column, f"{problem}; {fix}"))
        if errors:
            continue
        token = secrets.token_urlsafe(TOKEN_BYTES)
        expires = utcnow() + dt.timedelta(days=settings.invitation_days)
        title = titles.get(respondent.project_id) if respondent.project_id else None
        try:
            message = _message(settings, from_, review, respondent, title, token, expires, reminders)
            bytes(message)  # the headers are checked when the message is written out
        except (ValueError, TypeError) as exc:
            problems.append(Problem(f"respondent {respondent.id}", 0, "-", f"the message cannot be built ({exc})"))
            continue
        number = len(respondent.invitations) + 1
        stem = f"{respondent.project_code or 'none'}-{respondent.id}-{kind}-{number}"
        outgoing.append(_Outgoing(respondent, token, expires, message, stem))
    if problems:
        who = len({p.file for p in problems})
        raise BadInput(problems, f"{who} respondent{'s' if who != 1 else ''} cannot be mailed; nothing was sent")
    return outgoing


def new_link(
    session: Session, respondent: Respondent, *, expires_at: dt.datetime, token: str | None = None
) -> tuple[Invitation, str]:
    """A personal link for ``respondent``: the stored invitation (only the token's hash) and the token itself."""
    token = token or secrets.token_urlsafe(TOKEN_BYTES)
    invitation = Invitation(respondent_id=respondent.id, token_hash=token_hash(token), expires_at=expires_at)
    respondent.invitations.append(invitation)
    session.flush()
    return invitation, token


def _reminded_since(respondent: Respondent, since: dt.datetime) -> bool:
    def utc(when: dt.datetime) -> dt.datetime:
        return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)

    return any(i.last_reminder_at is not None and utc(i.last_reminder_at) >= utc(since) for i in respondent.invitations)


def _record(session: Session, item: _Outgoing, reminders: bool) -> None:
    """The invitation of a message that went out."""
    now = utcnow()
    invitation, _ = new_link(session, item.respondent, expires_at=item.expires_at, token=item.token)
    invitation.sent_at = now
    if reminders:
        invitation.reminders = len(item.respondent.invitations) - 1
        invitation.last_reminder_at = now
    session.flush()


def open_link(session: Session, token: str) -> tuple[Invitation, Respondent, Review]:
    """The invitation of a token; Forbidden (with what to do) when it is unknown, withdrawn or expired."""
    found = session.execute(  # one query for the three (every save of a respondent opens the link)
        select(Invitation, Respondent, Review)
        .join(Respondent, Respondent.id == Invitation.respondent_id)
        .join(Review, Review.id == Respondent.review_id)
        .where(Invitation.token_hash == token_hash(token))
    ).first()
    if found is None:
        raise Forbidden("this link is not valid: check that it was copied whole, or ask the review team for a new one")
    invitation, respondent, review = found
    if invitation.revoked_at is not None:
        raise Forbidden("this link was withdrawn by the review team; ask them for a new one")
    expires = invitation.expires_at if invitation.expires_at.tzinfo else invitation.expires_at.replace(tzinfo=dt.UTC)
    if expires < utcnow():
        raise Forbidden(f"this link expired on {expires.date().isoformat()}; ask the review team for a new one")
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
