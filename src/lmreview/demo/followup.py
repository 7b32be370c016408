"""The demo's follow-up register: the four recommendations of the review's draft report, awaiting the management
response; the recommendations of the completed 2016 review with the Fund's response and key actions, all but one
done; the recommendations of the demo's two evaluations imported from the evidence library with the
management responses printed in them, key actions with progress comments (some completed, some
overdue, some not due yet), and the lessons and good practices of every demo document in the lessons library.

Due dates are set relative to the day the demo is built, so that a fresh demo always shows actions overdue and
actions to come; they do not move afterwards. A second run imports nothing twice and adds no action to a
recommendation that has some.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lmreview.demo.narrative import RECOMMENDATIONS
from lmreview.evidence.models import Document
from lmreview.questionnaire.reviews import get_review
from lmreview.tracking import from_evidence, service
from lmreview.tracking.models import Lesson
from lmreview.tracking.status import Status, tracking_status

THEMATIC, EX_POST = "thematic-evaluation-ethical-recruitment-2022.pdf", "ex-post-evaluation-lm0329.docx"
PROGRESS_BY = "Focal point (demo)"
# (document file, recommendation number) -> key actions: (description, unit, due in days from the build, status,
# progress comment or None)
ACTIONS: dict[tuple[str, str], list[tuple[str, str, int, str, str | None]]] = {
    (THEMATIC, "1"): [
        ("Add the public body that will maintain each tool to the proposal template", "IOM Development Fund", -120,
         "completed", "The new template was used for the latest call for proposals."),
        ("Add a handover plan to the final report template", "IOM Development Fund", -30, "initiated",
         "A draft template went to the regional thematic specialists for comments."),
    ],
    (THEMATIC, "2"): [
        ("Ask country offices to name two focal points per ministry at the inception meeting", "Country offices", -60,
         "completed", "Guidance sent to all country offices with projects starting this year."),
        ("Write a one-page template for the handover note of agreements", "Labour Mobility Division", 45,
         "not_initiated", None),
    ],
    (THEMATIC, "3"): [
        ("Set the rule for a contingency line in countries that hold elections", "IOM Development Fund", -10,
         "initiated", "Rule drafted; the finance unit's comments are awaited."),
    ],
    (THEMATIC, "4"): [
        ("Select three completed projects for an ex-post evaluation", "Central Evaluation Division", 90, "initiated",
         "A shortlist of six projects was drawn up."),
        ("Find the funds for the ex-post evaluations", "Central Evaluation Division", 200, "not_initiated", None),
    ],
    (THEMATIC, "5"): [
        ("Attach the gender marker guidance to the call for proposals", "Gender Coordination Unit", -150,
         "completed", "Attached to the call; two briefings held for applicants."),
    ],
    (EX_POST, "1"): [
        ("Publish the yearly figures of the complaints desk with the ministry", "IOM Rabat", -45, "initiated",
         "Figures compiled; publication waits for the ministry's clearance."),
    ],
    (EX_POST, "2"): [
        ("Propose a common form for reporting placements to the agencies' association", "IOM Rabat", 60,
         "not_initiated", None),
    ],
}  # fmt: skip


# The completed 2016 review of the projects of 2011-2014 (the demo's other review): its six key recommendations, in
# the demo's words, the Fund's response of late 2016 and the key actions that followed, due in 2017-2018; one of them
# is still open. Each row: number, text, responsible unit, priority, stance, response, then its actions as
# (description, unit, due date, status, progress comment).
PAST_REVIEW = "idf-lm-2016"
PAST_RESPONDER = "IOM Development Fund (management response)"
PAST_RESPONSE_DAY = dt.date(2016, 11, 15)
PAST: list[tuple[str, str, str, str, str, str, list[tuple[str, str, dt.date, str, str | None]]]] = [
    ("1", "Scale projects to the time the Fund allows: fewer outputs and a realistic workplan, so that a no-cost "
     "extension is the exception.", "IOM Development Fund", "High", "agrees",
     "Agreed: proposals are screened for the fit of outputs to the 12 to 24 months the Fund grants.",
     [("Add a check of the workplan's length to the proposal screening", "IOM Development Fund",
       dt.date(2017, 3, 31), "completed", "Part of the screening checklist from the 2017 call."),
      ("Report each year how many projects needed a no-cost extension", "IOM Development Fund",
       dt.date(2017, 12, 31), "completed", "In the annual report since 2017.")]),
    ("2", "Ask each project for a plan that keeps its outcomes funded after it closes: who pays, from which budget.",
     "Country offices", "High", "partially_agrees",
     "The Fund agrees for projects that set up a service; a funding plan is not asked of research projects.",
     [("Add a funding-after-closure section to the final report template", "IOM Development Fund",
       dt.date(2017, 6, 30), "completed", "Section added."),
      ("Check with the counterparts of ten closed projects whether the services still run", "Country offices",
       dt.date(2018, 6, 30), "initiated", "Six counterparts answered; four are still being reached.")]),
    ("3", "Evaluate a sample of projects a year or more after they close, to see what lasted.",
     "Central Evaluation Division", "Medium", "agrees",
     "Agreed; ex-post evaluations of selected projects from 2018.",
     [("Select the first projects for an ex-post evaluation", "Central Evaluation Division",
       dt.date(2017, 12, 31), "completed", "Four projects selected."),
      ("Commission the first ex-post evaluations", "Central Evaluation Division", dt.date(2018, 9, 30),
       "completed", "Two evaluations completed, two under way.")]),
    ("4", "Visit projects while they run to see their difficulties early.", "IOM Development Fund", "Medium",
     "agrees", "Agreed, within the travel budget: visits to projects rated at risk.",
     [("Plan monitoring visits to the projects rated at risk", "IOM Development Fund", dt.date(2017, 9, 30),
       "completed", "Five visits in 2017.")]),
    ("5", "Report gender and the other cross-cutting themes in every interim and final report, and link each project "
     "to the Sustainable Development Goals it serves.", "Gender Coordination Unit", "Medium", "disagrees",
     "Not accepted as written: the report templates already ask for both; the Fund will remind project managers "
     "rather than add requirements.",
     []),
]  # fmt: skip


@dataclass(frozen=True)
class DemoFollowup:
    imported: int  # recommendations added by this run
    lessons: int  # lessons and good practices in the library
    status: Status


def load_followup(session: Session, review: str, *, actor: str, today: dt.date | None = None) -> DemoFollowup:
    """Register the review's draft recommendations (awaiting a response), import the demo evaluations'
    recommendations and every demo document's lessons (once each), add key actions."""
    day = today or dt.date.today()
    found = get_review(session, review)
    for number, text, unit, priority in RECOMMENDATIONS:
        if service.find_recommendation(session, found, number) is None:
            service.add_recommendation(
                session, review, number=number, text=text, actor=actor, units=[unit], priority=priority, year=2022
            )
    files = {THEMATIC, EX_POST}
    documents = {
        d.filename: d
        for d in session.scalars(select(Document).where(Document.filename.in_(files)).order_by(Document.id))
    }
    imported = 0
    for name in (THEMATIC, EX_POST):
        if name in documents:
            imported += len(from_evidence.import_evidence(session, actor=actor, document_id=documents[name].id).added)
    for (name, number), actions in ACTIONS.items():
        if name not in documents:
            continue
        rec = service.find_recommendation(session, None, number, documents[name].id)
        if rec is None or rec.actions:
            continue
        for description, unit, days, status, comment in actions:
            due = day + dt.timedelta(days=days)
            action = service.add_action(session, rec.id, description=description, actor=actor, unit=unit, due=due)
            if status != "not_initiated" or comment:
                on = min(day, due) if status == "completed" else day - dt.timedelta(days=7)
                service.update_action(
                    session, action.id, actor=actor, status=status, comment=comment, author=PROGRESS_BY, on=on
                )
    _past_review(session, actor=actor)
    from_evidence.import_lessons(session, actor=actor)
    lessons = session.scalar(select(func.count(Lesson.id))) or 0
    return DemoFollowup(imported=imported, lessons=lessons, status=tracking_status(session, today=day))


def _past_review(session: Session, *, actor: str) -> None:
    """The completed review's recommendations, responses and actions; nothing when that review is not loaded."""
    from lmreview.questionnaire.models import Review

    review = session.scalar(select(Review).where(Review.name == PAST_REVIEW))
    if review is None:
        return
    for number, text, unit, priority, stance, response, actions in PAST:
        if service.find_recommendation(session, review, number) is not None:
            continue
        rec = service.add_recommendation(
            session, PAST_REVIEW, number=number, text=text, actor=actor, units=[unit], priority=priority, year=2016
        )
        service.respond(
            session, rec.id, stance=stance, text=response, by=PAST_RESPONDER, actor=actor, on=PAST_RESPONSE_DAY
        )
        for description, owner, due, status, comment in actions:
            action = service.add_action(session, rec.id, description=description, actor=actor, unit=owner, due=due)
            on = due if status == "completed" else due - dt.timedelta(days=30)
            service.update_action(
                session, action.id, actor=actor, status=status, comment=comment, author=PROGRESS_BY, on=on
            )
