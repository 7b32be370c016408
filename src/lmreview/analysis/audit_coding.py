"""Against the data: code counts a draft cites ("Covid-19: 15 of 27 projects, 56%", "Lack of funding | 4 | 57%")
compared with the review's code matrices, like the counts of a questionnaire's choices.

Each code of a codebook with codings in the review becomes one more "choice" of the review's figures (its label the
code's name, its count the projects carrying it, its denominator the projects with material), so the number audit
(:mod:`lmreview.analysis.audit_survey`) finds and checks it with the same rules as an answer count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lmreview.analysis.audit_survey import Answer, SurveyFigures, survey_figures
from lmreview.analysis.coded import coded_findings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lmreview.questionnaire.models import Review


def code_answers(session: Session, review: Review) -> list[Answer]:
    """Every codable code of each codebook used in the review, as the audit's figures of a choice (not those of a
    codebook whose counts the report withholds, while its coders are blind to one another)."""
    found = []
    for coded in coded_findings(session, review):
        if coded.withheld:
            continue
        what = f"codebook {coded.codebook} (projects coded)"
        for f in coded.matrix.codes:
            found.append(Answer(what, f.code, (" ".join(f.code.split()),), f.units, f.of, f.of, f.units, "project"))
    return found


def review_figures(session: Session, review: Review) -> SurveyFigures:
    """The review's answers tabulated (:func:`survey_figures`) and its code counts. A review without a
    questionnaire but with codings is compared with its code counts alone; without either, it is refused as
    :func:`survey_figures` refuses it."""
    codes = code_answers(session, review)
    if review.form is None and codes:
        return SurveyFigures(review.name, "", codes)
    survey = survey_figures(session, review)
    return SurveyFigures(survey.review, survey.form, [*survey.answers, *codes])
