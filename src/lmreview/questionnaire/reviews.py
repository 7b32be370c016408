"""Reviews: a portfolio of projects asked one questionnaire; and how far the asking has got.

The response rate of a review counts projects, as the seed reviews do ("23 of 27 projects"): a project has
answered when at least one submission for it has been submitted (on the web or imported). Answers a reviewer
entered from a project's document (source ``document``) are not a response: they are counted apart ("4 entered
from final reports") and the analysis uses them; such a project is not missing, and its respondents are counted as
``entered``, neither invited nor reminded. Respondents are counted by their furthest step, so the counts add up to
the respondents of the review: submitted first (an answer counts, even from an address that later bounced), then
declined and bounced (they end the chase), entered (their project's answers came from a document), draft, opened,
invited, and not yet invited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview import access
from lmreview.errors import BadInput, Conflict, NotFound, Problem
from lmreview.portfolio.models import Portfolio, Project
from lmreview.questionnaire import forms
from lmreview.questionnaire.models import Form, Invitation, Respondent, Review, Submission
from lmreview.store import audit

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
DOCUMENT = "document"  # Submission.source of answers a reviewer entered from a project's document
RESPONDENT_STATUSES = ("not_invited", "invited", "opened", "draft", "submitted", "entered", "declined", "bounced")


@dataclass
class ResponseStatus:
    review: str
    form: str | None
    respondents: int
    counts: dict[str, int]
    projects_total: int
    projects_answered: int
    answered_codes: list[str] = field(default_factory=list)
    missing_codes: list[str] = field(default_factory=list)
    entered_codes: list[str] = field(default_factory=list)  # no response, answers entered from a document
    generated: int = 0  # submissions whose answers ``lmreview demo`` generated

    @property
    def projects_entered(self) -> int:
        return len(self.entered_codes)

    @property
    def entered_text(self) -> str:
        """'4 entered from final reports' (from documents), or '' when none was."""
        return f"{self.projects_entered} entered from final reports" if self.entered_codes else ""

    @property
    def response_rate(self) -> Decimal | None:
        return Decimal(self.projects_answered) / self.projects_total if self.projects_total else None

    def as_json(self) -> dict[str, object]:
        rate = self.response_rate
        return {
            "review": self.review,
            "form": self.form,
            **{k: self.counts[k] for k in ("invited", "opened", "draft", "submitted", "entered", "declined")},
            "bounced": self.counts["bounced"],
            "not_invited": self.counts["not_invited"],
            "respondents": self.respondents,
            "projects_total": self.projects_total,
            "projects_answered": self.projects_answered,
            "response_rate": float(rate) if rate is not None else None,
            "projects_entered": self.projects_entered,
        }


def check_name(name: str, what: str = "a review") -> str:
    if not NAME.match(name):
        raise BadInput(
            [
                Problem(
                    name,
                    0,
                    "-",
                    f'"{name}" cannot name {what}: use letters, digits, "_", "-" or "." (at most 80, starting with a '
                    "letter or digit)",
                )
            ]
        )
    return name


def create_review(
    session: Session,
    name: str,
    *,
    actor: str,
    portfolio: str | None = None,
    form: str | None = None,
    template: str | None = None,
    title: str | None = None,
    period: str | None = None,
) -> Review:
    """A new review of ``portfolio`` with ``form`` (or a form added from ``template``)."""
    check_name(name)
    if session.scalar(select(Review.id).where(Review.name == name)) is not None:
        raise Conflict(f"there is already a review {name!r}")
    portfolio_row = None
    if portfolio is not None:
        portfolio_row = session.scalar(select(Portfolio).where(Portfolio.name == portfolio))
        if portfolio_row is None:
            raise NotFound(f"there is no portfolio {portfolio!r}; import it first with `lmreview portfolio import`")
    form_row: Form | None = None
    if template is not None:
        added = forms.add_template(session, template, actor=actor)
        form_row = forms.get_form(session, added.form)
    elif form is not None:
        form_row = forms.get_form(session, form)
    review = Review(
        name=name,
        title=title or name,
        portfolio_id=portfolio_row.id if portfolio_row else None,
        form_id=form_row.id if form_row else None,
        period=period,
    )
    session.add(review)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="review",
        entity_id=review.id,
        after={"name": name, "portfolio": portfolio, "form": form_row.name if form_row else None},
        summary=f"created review {name}",
    )
    return review


def get_review(session: Session, name: str) -> Review:
    """The review named ``name``; a session acting as a user (the CLI's ``--user``) finds only what they may use
    (lmreview.access). Only the CLI hears the names of the other reviews: the web must not leak them."""
    review = session.scalar(select(Review).where(Review.name == name))
    if review is None or not access.can_see(access.acting_visible(session), review.id):
        hint = ""  # the same answer for a review the acting user may not see
        if session.info.get(access.CLI):
            names = [r.name for r in list_reviews(session)]
            hint = f"; reviews: {', '.join(names)}" if names else "; create one with `lmreview review create NAME`"
        raise NotFound(f"there is no review {name!r}{hint}")
    access.check_acting(session, review)
    return review


def review_for(session: Session, *, review: str | None = None, form: str | None = None) -> Review:
    """The review named ``review``, or the one review that uses ``form``."""
    if review is not None:
        return get_review(session, review)
    if form is None:
        raise BadInput([Problem("--review", 0, "-", "name the review (--review NAME) or its form (--form NAME)")])
    found = forms.get_form(session, form)
    visible = access.acting_visible(session)
    using = [
        r
        for r in session.scalars(select(Review).where(Review.form_id == found.id).order_by(Review.name))
        if access.can_see(visible, r.id)
    ]
    if len(using) != 1:
        names = ", ".join(r.name for r in using) or "none"
        raise BadInput(
            [Problem("--form", 0, "-", f"{len(using)} reviews use form {form} ({names}); name one with --review")]
        )
    access.check_acting(session, using[0])
    return using[0]


def list_reviews(session: Session) -> list[Review]:
    """Every review, or those the session's acting user may see (lmreview.access.act_as)."""
    visible = access.acting_visible(session)
    return [r for r in session.scalars(select(Review).order_by(Review.name)) if access.can_see(visible, r.id)]


def portfolio_name(session: Session, review: Review) -> str | None:
    if review.portfolio_id is None:
        return None
    return session.scalar(select(Portfolio.name).where(Portfolio.id == review.portfolio_id))


def review_projects(session: Session, review: Review) -> list[Project]:
    if review.portfolio_id is None:
        return []
    return list(
        session.scalars(select(Project).where(Project.portfolio_id == review.portfolio_id).order_by(Project.code))
    )


def review_project_codes(session: Session, review: Review) -> list[tuple[int, str]]:
    """(id, code) of each project of the review's portfolio, by code: what a count of projects needs, without
    building the projects (a portfolio of 10,000 projects with their countries, regions and categories)."""
    if review.portfolio_id is None:
        return []
    query = select(Project.id, Project.code).where(Project.portfolio_id == review.portfolio_id).order_by(Project.code)
    return [(i, code) for i, code in session.execute(query)]


def project_codes(session: Session, ids: set[int]) -> dict[int, str]:
    """The codes of the projects ``ids``, by id (one query; none for no id)."""
    if not ids:
        return {}
    query = select(Project.id, Project.code).where(Project.id.in_(sorted(ids)))
    return dict(session.execute(query).all())


def projects_by_code(session: Session, review: Review) -> dict[str, Project]:
    """The projects of the review's portfolio by code, ignoring case (empty without a portfolio)."""
    return {p.code.casefold(): p for p in review_projects(session, review)}


def submissions_by_respondent(session: Session, review: Review) -> dict[int, list[Submission]]:
    found: dict[int, list[Submission]] = {}
    for submission in session.scalars(select(Submission).where(Submission.review_id == review.id)):
        if submission.respondent_id is not None:
            found.setdefault(submission.respondent_id, []).append(submission)
    return found


def entered_projects(session: Session, review: Review) -> set[int]:
    """The ids of the projects of ``review`` whose answers a reviewer entered from a document (submitted)."""
    query = select(Submission.project_id).where(
        Submission.review_id == review.id, Submission.source == DOCUMENT, Submission.status == "submitted"
    )
    return {i for i in session.scalars(query) if i is not None}


def respondent_status(respondent: Respondent, submissions: list[Submission], entered: set[int] | None = None) -> str:
    """The furthest step of ``respondent``; "entered" when the answers of their project were entered from a document
    (``entered``: the ids of such projects) and they did not answer themselves: nobody chases them any more."""
    invitation = respondent.invitations[-1] if respondent.invitations else None
    return _furthest_step(
        submitted=any(s.status == "submitted" for s in submissions),
        drafted=bool(submissions),
        declined=respondent.declined_at is not None,
        bounced=respondent.bounced_at is not None,
        entered=bool(entered) and respondent.project_id in (entered or set()),
        sent=invitation is not None and invitation.sent_at is not None,
        opened=any(i.opened_at is not None for i in respondent.invitations),
    )


def _furthest_step(
    *, submitted: bool, drafted: bool, declined: bool, bounced: bool, entered: bool, sent: bool, opened: bool
) -> str:
    if submitted:  # an answer counts, whatever happened before
        return "submitted"
    if declined:
        return "declined"
    if bounced:
        return "bounced"
    if entered:
        return "entered"
    if drafted:
        return "draft"
    if not sent:  # the newest invitation was not sent
        return "not_invited"
    return "opened" if opened else "invited"


def respondent_statuses(session: Session, review: Review) -> dict[int, str]:
    """Every respondent of ``review`` (by id, in the roster's order: project code, then name) with its furthest step,
    as :func:`respondent_status` gives it, read from a few plain rows (no ORM object, no answers): the review page
    filters and pages its respondents by it."""
    submissions: dict[int, set[str]] = {}
    query = select(Submission.respondent_id, Submission.status).where(
        Submission.review_id == review.id, Submission.respondent_id.is_not(None)
    )
    for respondent_id, status in session.execute(query):
        if respondent_id is not None:
            submissions.setdefault(respondent_id, set()).add(status)
    newest_sent: dict[int, bool] = {}
    opened: set[int] = set()
    invitations = (
        select(Invitation.respondent_id, Invitation.sent_at, Invitation.opened_at)
        .join(Respondent, Respondent.id == Invitation.respondent_id)
        .where(Respondent.review_id == review.id)
        .order_by(Invitation.id)
    )
    for respondent_id, sent_at, opened_at in session.execute(invitations):
        newest_sent[respondent_id] = sent_at is not None  # the last one read is the newest
        if opened_at is not None:
            opened.add(respondent_id)
    entered = entered_projects(session, review)
    people = (
        select(Respondent.id, Respondent.project_id, Respondent.declined_at, Respondent.bounced_at)
        .where(Respondent.review_id == review.id)
        .order_by(Respondent.project_code, Respondent.name, Respondent.id)
    )
    return {
        id_: _furthest_step(
            submitted="submitted" in submissions.get(id_, ()),
            drafted=id_ in submissions,
            declined=declined_at is not None,
            bounced=bounced_at is not None,
            entered=project_id in entered,
            sent=newest_sent.get(id_, False),
            opened=id_ in opened,
        )
        for id_, project_id, declined_at, bounced_at in session.execute(people)
    }


def response_status(session: Session, review: Review) -> ResponseStatus:
    # Plain rows: the state of each submission (not its answers, nor its form version) and each project's code; no
    # ORM object for the thousands of them a large review has.
    query = select(Submission.status, Submission.project_id, Submission.source, Submission.meta).where(
        Submission.review_id == review.id
    )
    submissions = session.execute(query).all()
    projects = review_project_codes(session, review)
    done = [s for s in submissions if s.status == "submitted" and s.project_id is not None]
    answered_ids = {s.project_id for s in done if s.source != DOCUMENT}  # a document is not a response
    entered_ids = {s.project_id for s in done if s.source == DOCUMENT} - answered_ids
    # each respondent's step as the review page's list shows it (and filters it by): the counts link to those lists
    statuses = respondent_statuses(session, review)
    counts = dict.fromkeys(RESPONDENT_STATUSES, 0)
    for status in statuses.values():
        counts[status] += 1
    answered = [code for id_, code in projects if id_ in answered_ids]
    return ResponseStatus(
        review=review.name,
        form=review.form.name if review.form else None,
        respondents=len(statuses),
        counts=counts,
        projects_total=len(projects),
        projects_answered=len(answered),
        answered_codes=answered,
        missing_codes=[code for i, code in projects if i not in answered_ids and i not in entered_ids],
        entered_codes=[code for i, code in projects if i in entered_ids],
        generated=sum(1 for s in submissions if (s.meta or {}).get("generated")),
    )
