"""The demo's completed review: ``idf-lm-2016``, the 2016 review of the projects of 2011-2014 (the ``lm2016``
sample portfolio, seed 001), answered by all 14 missions in the spring of 2016.

The questionnaire is the idf-lm-2016 template. What the answers add up to follows what that review printed: three
outcomes per project, of which one in seven did not last (six of 42), mostly for want of money; the challenges met
most often were access to data, consultants and funding. Which project said what is decided by the same seeded
shuffle as the 2022 answers (:mod:`lmreview.demo.answers`), so every machine builds the same review. The outcomes are
short made-up sentences about what each project set out to do; every text says it is a sample answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from lmreview.demo import answers
from lmreview.errors import NotFound
from lmreview.questionnaire import engine, forms, invitations, respondents, reviews, submissions
from lmreview.questionnaire.models import Review

PAST_REVIEW = "idf-lm-2016"
PORTFOLIO = "lm2016"
TEMPLATE = "idf-lm-2016"
TITLE = "Labour migration review, IOM Development Fund 2016"
PERIOD = "2011-2014"
SENT = dt.datetime(2016, 3, 1, 9, 0, tzinfo=dt.UTC)  # the questionnaire went out; the answers came in March-April

# Projects (of 14) that met each challenge: access to data, consultants and funding came first in that review.
CHALLENGES = {
    "ch_data_access": 7,
    "ch_consultants": 6,
    "ch_funding": 6,
    "ch_gov_counterparts": 4,
    "ch_gov_priorities": 3,
    "ch_coordination": 3,
    "ch_political_instability": 3,
    "ch_reliable_info": 3,
    "ch_buy_in": 2,
    "ch_research_capacity": 2,
    "ch_partner_collaboration": 1,
    "ch_other": 4,
}
OTHER = [
    "Objectives too ambitious for the budget",
    "Elections delayed the government's decisions",
    "Regional partners with different priorities",
    "The project waited for a new law to be adopted",
]
ROLES = {"project_manager": 10, "chief_of_mission": 3, "delegated_staff": 1}
NOT_SUSTAINED = 6  # of the 42 outcomes
WHY_NOT = [
    "No money was found to keep it running after the project",
    "No money was found to keep it running after the project",
    "No money was found to keep it running after the project",
    "No money was found to keep it running after the project",
    "The political climate changed after the elections",
    "No follow-up training was organised for the staff trained",
]

# Three outcomes per project (code -> (outcome, output, who keeps it going, how, who uses it)).
OUTCOMES: dict[str, list[tuple[str, str, str, str, str]]] = {
    "LM.0251": [
        ("Governments of the region use national studies of labour mobility", "Seven national reports",
         "Ministries of labour", "Cited in national strategies", "Ministries, universities"),
        ("A regional dialogue on mobility started", "Regional conference", "Regional cooperation council",
         "Yearly meetings", "Governments of the region"),
        ("Statisticians share definitions of labour mobility", "A common glossary", "Statistical offices",
         "Routine data exchange", "Statistical offices"),
    ],
    "LM.0238": [
        ("Women heads of household started small businesses", "Business training and start-up kits",
         "Local NGOs", "Follow-up coaching", "Women's groups"),
        ("Communities know the risks of irregular migration", "Awareness sessions", "Community leaders",
         "Meetings in the community", "Communities, migrants"),
        ("A design for a larger project", "A needs assessment", "Country office", "A full proposal",
         "IOM, donors"),
    ],
    "LM.0232": [
        ("Member States compare the recognition of skills", "A regional study of skills recognition",
         "Regional secretariat", "Discussed in working groups", "Governments, employers"),
        ("Officials know the mutual recognition arrangements", "Workshops for officials",
         "Ministries of labour", "Training of trainers", "Officials"),
        ("Skilled mobility stays on the regional agenda", "Policy briefs", "Regional secretariat",
         "Ministerial meetings", "Governments"),
    ],
    "LM.0224": [
        ("Foreign workers register in one place", "A one-stop shop set up", "Ministry of Interior",
         "Staff and budget of the ministry", "Migrant workers, employers"),
        ("Officials apply the new procedures", "Training of officials", "Employment agency",
         "Routine work", "Officials"),
        ("Employers know how to hire foreign workers", "A guide for employers", "Chamber of commerce",
         "Reprinted each year", "Employers"),
    ],
    "LM.0221": [
        ("A national policy on labour migration drafted", "A policy draft and consultations",
         "Ministry of Public Service and Labour", "Included in the national plan", "Government"),
        ("Data on migrant workers collected", "A data collection tool", "Statistics institute",
         "Labour force survey module", "Government, researchers"),
        ("Officials trained on labour migration", "Training courses", "Ministry of Public Service and Labour",
         "Training of trainers", "Officials"),
    ],
    "LM.0220": [
        ("Labour migration policy mainstreamed in national planning", "Assessment reports",
         "Ministry of Gender, Labour and Social Development", "National development plan", "Government"),
        ("A roadmap on labour migration", "Roadmap with recommendations", "Ministry of Gender, Labour and "
         "Social Development", "Inter-ministerial committee", "Government, partners"),
        ("Officials discuss coordination", "Two training courses", "Ministry of Gender, Labour and Social "
         "Development", "Working group", "Officials"),
    ],
    "LM.0214": [
        ("Domestic workers know their rights", "Information campaign", "Trade unions", "Hotline",
         "Domestic workers"),
        ("Victims of trafficking are referred to services", "Referral guidelines", "Ministry of Social Affairs",
         "Referral network", "Social workers"),
        ("Labour inspectors check domestic work", "Inspectors trained", "Labour inspectorate",
         "Inspection plans", "Inspectors"),
    ],
    "LM.0204": [
        ("Labour inspectors protect migrant workers", "Inspectors trained", "Labour inspectorate",
         "Inspection visits", "Inspectors"),
        ("An inspection manual in use", "A manual", "Labour inspectorate", "Handed to new inspectors",
         "Inspectors"),
        ("Employers know the labour code", "Information sessions", "Employers' association",
         "Meetings with members", "Employers"),
    ],
    "LM.0183": [
        ("The ministry knows which skills agriculture lacks", "An assessment of skills supply and demand",
         "Ministry of Agriculture", "Used in planning", "Government"),
        ("Officials can run a skills survey", "Training in survey methods", "Ministry of Labour",
         "Repeated survey", "Officials"),
        ("Employers' needs are documented", "Employer interviews", "Chambers of agriculture",
         "Published report", "Employers"),
    ],
    "LM.0153": [
        ("Migration law closer to EU standards", "A gap analysis of the legislation", "Ministry of Labour",
         "Law drafting group", "Government"),
        ("Training materials for officials", "Training modules", "Migration service", "Used in courses",
         "Officials"),
        ("Law drafting group understands skilled migration", "Study visits", "Law drafting group",
         "A new draft law", "Government"),
    ],
    "LM.0115": [
        ("Labour migration managed by one agency", "Institutional assessment", "Ministry of Labour",
         "Agency mandate", "Government"),
        ("Counter-trafficking units trained", "Training of police and prosecutors", "Police academy",
         "Curriculum", "Police, prosecutors"),
        ("Migrants informed before leaving", "Pre-departure materials", "Labour exchange",
         "Pre-departure sessions", "Migrants"),
    ],
    "LM.0199": [
        ("Data on migrant workers in border towns", "A study of border labour markets", "Ministry of Labour",
         "Published and cited", "Government, universities"),
        ("Officials trained on labour migration", "Training courses", "Ministry of Labour", "Training of trainers",
         "Officials"),
        ("A national migration policy drafted", "Technical advice", "Migration directorate",
         "Inter-institutional table", "Government"),
    ],
    "LM.0181": [
        ("Migrants get advice before they leave", "A migrant resource centre", "Department of Overseas Labour",
         "Staff and budget of the department", "Migrants, families"),
        ("Recruitment agencies follow a code of conduct", "Code of conduct and training", "Association of "
         "recruitment agencies", "Member checks", "Agencies"),
        ("The centre's model is copied in other provinces", "Documented model", "Provincial authorities",
         "New centres", "Provincial authorities"),
    ],
    "LM.0168": [
        ("Governments of the region know each other's procedures", "A regional overview of migration management",
         "Regional consultative process", "Meetings", "Governments"),
        ("Recommendations adopted by a regional meeting", "Recommendations", "Regional consultative process",
         "Action plan", "Governments"),
        ("Focal points named in each country", "Network of focal points", "Ministries", "Contact list kept up",
         "Officials"),
    ],
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class PastReview:
    review: str
    created: bool
    answered: int
    projects: int


def load_past_review(session: Session, *, actor: str) -> PastReview:
    """Build the completed 2016 review once, with every mission's answers; a later call only reports on it. A
    workspace whose idf-lm-2016 review already exists (an older demo) keeps it as it is."""
    try:
        review = reviews.get_review(session, PAST_REVIEW)
        created = False
    except NotFound:
        review = _build(session, actor)
        created = True
    status = reviews.response_status(session, review)
    return PastReview(review.name, created, status.projects_answered, status.projects_total)


def _build(session: Session, actor: str) -> Review:
    added = forms.add_form(session, forms.template_source(TEMPLATE), f"{TEMPLATE}.md", actor=actor)
    review = reviews.create_review(
        session, PAST_REVIEW, actor=actor, portfolio=PORTFOLIO, form=added.form, title=TITLE, period=PERIOD
    )
    listing = sorted((p.code, p.title) for p in reviews.review_projects(session, review))
    from lmreview.demo import roster  # the package imports this module's neighbours: import at use

    people = dict(zip([code for code, _ in listing], reversed(roster()), strict=False))
    data = generate(listing, {code: person[0] for code, person in people.items()})
    for n, (code, _title) in enumerate(listing):
        name, email = people[code]
        respondent = respondents.add_respondent(
            session, review, name=name, email=email, project_code=code, role="Project manager", actor=actor
        )
        invitation, _token = invitations.new_link(session, respondent, expires_at=SENT + dt.timedelta(days=60))
        invitation.sent_at = SENT
        invitation.opened_at = SENT + dt.timedelta(days=2 + n)
        submission = submissions.for_respondent(session, review, respondent)
        submission.meta = {"generated": answers.GENERATED}
        saved = submissions.save(session, submission, data[code], submit=True)
        if not saved.submitted:
            problems = "; ".join(f"{path}: {message}" for path, message in saved.evaluation.errors.items())
            raise RuntimeError(f"the demo's answers for {code} do not pass the form: {problems}")
        submission.submitted_at = SENT + dt.timedelta(days=5 + 3 * n)
    session.flush()
    write_sections(session, review, actor=actor)
    return review


def write_sections(session: Session, review: Review, *, actor: str) -> None:
    """The completed review's report: every narrative section written, quoting figures computed from the answers
    now (the figures in the text are not typed: a later correction changes the tables, not this text)."""
    from lmreview.analysis.tabulate import tabulate
    from lmreview.demo.followup import PAST
    from lmreview.demo.narrative import Figure
    from lmreview.report import narrative

    def figure(path: str, value: str = "yes") -> Figure:
        counts = tabulate(session, review, path).whole.counts or []
        found = next((c for c in counts if c.value == value), None)
        return Figure(found.n, found.answered) if found is not None else Figure(0, 0)

    status = reviews.response_status(session, review)
    answered = Figure(status.projects_answered, status.projects_total)
    lasted, lost = figure("sustained", "yes"), figure("sustained", "no")
    data, consultants, funding = figure("ch_data_access"), figure("ch_consultants"), figure("ch_funding")
    counterparts = figure("ch_gov_counterparts")
    sections = {
        "summary": f"""The review covers the {answered.of} labour migration projects the IOM Development Fund funded
between 2011 and 2014 and that had ended by 2016. Every mission returned the questionnaire: {answered.text()}.

- Of the {lasted.of} outcomes the missions named, {lasted.n} ({lasted.share()}) had lasted since the project ended;
  {lost.n} ({lost.share()}) had not, most of them for want of money.
- The challenges met most often were access to existing data, for {data.text()}; consultants, for
  {consultants.text()}; and funding, for {funding.text()}.
- Assessments and policies were the outputs that lasted best: governments went on using them.

*The answers behind these figures are sample answers generated by lmreview demo; the figures in this text were
computed from them when the demo was built.*
""",
        "introduction": f"""This is the report of a completed review, as `lmreview demo` builds it: the `lm2016` sample
portfolio (the 14 projects of the IOM Development Fund's labour migration review of 2016, funded 2011-2014), the 2016
questionnaire sent to each mission in March 2016 and answered by all {answered.n}. Its budget, length and no-cost
extension figures are computed from the project register and equal those the review published.

**All answers are sample answers generated by lmreview demo.** The management response to the recommendations and
the key actions that followed are in the follow-up register (*Follow-up*, review idf-lm-2016).
""",
        "findings": f"""*The figures below were computed when the demo was built, from sample answers generated by
lmreview demo.*

## Effectiveness

Each mission named three outcomes of its project and the outputs that led to them: studies and assessments,
policies and roadmaps, trained officials, services such as a one-stop shop or a migrant resource centre.

## Efficiency

Every project was extended at least once (see the register's figures). Access to data was the challenge met most
often, by {data.text()}, before consultants ({consultants.n} projects), funding ({funding.n}) and a change of
government counterparts ({counterparts.n}).

## Sustainability

{lasted.text("outcomes")} had lasted since the project ended. Of the {lost.n} that had not, most stopped when no
money was found to keep a service running after the project; the others suffered from a change of political climate
or the lack of follow-up training.
""",
        "conclusions": f"""Most of what the projects built has lasted ({lasted.share()} of the outcomes), above all
where a government took over a study, a policy or a service. What did not last was mostly a service without a budget
after the project: sustainability needs a plan for funding from the design stage.
""",
        "recommendations": "\n".join(f"{number}. {text}" for number, text, *_ in PAST) + "\n",
        "brief_header": """Evaluation type: Portfolio review (demo)
Evaluator(s): The lmreview demo team
Evaluation period: 2011-2014
Final report date: 2016-06-30
Commissioned by: IOM Development Fund (sample)
Funding: IOM Development Fund
""",
    }
    current = narrative.current_sections(session, review)
    for key, markdown in sections.items():
        if current[key].markdown.strip() != markdown.strip():
            narrative.save_section(session, review, key, markdown, actor=actor)


def generate(projects: list[tuple[str, str]], names: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The answers of every project ``(code, title)`` of the 2016 review, answered by ``names[code]``."""
    codes = [code for code, _ in projects]
    chosen = {name: answers._chosen(codes, f"2016 {name}", n) for name, n in CHALLENGES.items()}
    roles = answers._allocate(sorted(names), "2016 respondent_role", ROLES)
    slots = [f"{code}#{i}" for code in codes for i in range(3)]
    lost = sorted(answers._chosen(slots, "2016 not sustained", NOT_SUSTAINED))
    why = dict(zip(lost, WHY_NOT, strict=True))
    others = iter(OTHER)
    result: dict[str, dict[str, Any]] = {}
    for code, title in projects:
        d: dict[str, Any] = {}
        engine.set_path(d, "project/project_code", code)
        engine.set_path(d, "project/project_title", title)
        engine.set_path(d, "project/respondent_name", names[code])
        engine.set_path(d, "project/respondent_role", roles.get(code, "project_manager"))
        for i, (outcome, output, keeper, method, users) in enumerate(OUTCOMES.get(code, []), start=1):
            slot = f"{code}#{i - 1}"
            engine.set_path(d, f"outcomes_outputs/outcomes[{i}]/outcome", answers._text(code, outcome))
            engine.set_path(d, f"outcomes_outputs/outcomes[{i}]/related_outputs", answers._text(code, output))
            base = f"sustainability/outcome_sustainability[{i}]"
            if slot in why:
                engine.set_path(d, f"{base}/sustained", "no")
                engine.set_path(d, f"{base}/not_sustained_why", answers._text(code, why[slot]))
            else:
                engine.set_path(d, f"{base}/sustained", "yes")
                engine.set_path(d, f"{base}/sustained_by/sustaining_organization", answers._text(code, keeper))
                engine.set_path(d, f"{base}/sustained_by/sustaining_method", answers._text(code, method))
            engine.set_path(d, f"{base}/deliverable_users", answers._text(code, users))
        engine.set_path(
            d,
            "sustainability/sustainability_recommendations",
            answers._text(code, "Hand the results to a named ministry unit before the project closes"),
        )
        engine.set_path(d, "sustainability/follow_up", answers._text(code, "A follow-up proposal to another donor"))
        for name, picked in chosen.items():
            engine.set_path(d, f"challenges/{name}", "yes" if code in picked else "no")
        if code in chosen["ch_other"]:
            engine.set_path(d, "challenges/ch_other_specify", next(others))
        engine.set_path(
            d, "challenges/not_realized", answers._text(code, "One workshop was merged with the final conference")
        )
        engine.set_path(
            d,
            "evaluation/me_recommendations",
            answers._text(code, "An evaluation a year after the project ends, for a sample of projects"),
        )
        result[code] = d
    return result
