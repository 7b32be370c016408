"""Gold annotations of the source documents 000-003 (../shared/seeds), written by reading them, and the measure of
an extraction against them; used by tests/test_evidence_items.py and benchmarks/bench_evidence_quality.py.

Each item is (kind, number, the first words of its text). An extracted item is right when its kind and number are
a gold item's and its text starts with that item's words; precision is the share of extracted items that are
right, recall the share of gold items found. The targets of issue 9: 0.95 for recommendations and the stances of
the responses to them, 0.9 for lessons and key findings."""

from __future__ import annotations

# own-words: gold annotations (the items each seed holds, quoted as the extraction must find them)

# 000: IOM Development Fund review 2016-2020 — key findings of the executive summary, §5.1 lessons, §5.2 recs.
GOLD_000 = [
    ("key_finding", "1", "The Fund supported 39 LM projects"),
    ("key_finding", "2", "The regional distribution of completed LM projects was uneven"),
    ("key_finding", "3", "In total, 78 per cent of completed projects"),
    ("key_finding", "4", "In relation to cross-cutting themes, 24 of the 27"),
    ("key_finding", "5", "LM projects have strong sustainability prospects"),
    ("lesson", "1", "Projects that ensured government ownership"),
    ("lesson", "2", "Projects that engaged the host government"),
    ("lesson", "3", "Projects whose planned activities aligned"),
    ("lesson", "4", "Projects that established a Technical Working Group"),
    ("lesson", "5", "Projects that finalised, published"),
    ("lesson", "6", "Projects with constant mission-based project monitoring"),
    ("lesson", "7", "Projects that engaged private sector institutions"),
    ("lesson", "8", "Projects with a strong reliance on external consultants"),
    ("lesson", "9", "Projects with unrealistic timelines"),
    ("lesson", "10", "Projects that did not identify synergies"),
    ("lesson", "11", "Projects that did not consider and integrate time"),
    ("recommendation", "1", "A solid needs assessment"),
    ("recommendation", "2", "The government and other key stakeholders should be involved"),
    ("recommendation", "3", "Projects should include follow-up and sustainability plans"),
    ("recommendation", "4", "A monitoring plan should be developed"),
    ("recommendation", "5", "Projects should make a careful assessment of costs"),
    ("recommendation", "6", "In order to promote successful implementation"),
    ("recommendation", "7", "Technical Working Groups (TWG) or Steering Committees"),
    ("recommendation", "8", "When possible, projects should incorporate a preparatory phase"),
    ("recommendation", "9", "Projects that target private sector"),
    ("recommendation", "10", "Projects should achieve a minimum IOM Gender Marker 2a"),
    ("recommendation", "11", "Policies, programmes, manuals, and guidelines"),
    ("recommendation", "12", "IOM staff implementing projects should receive training"),
    ("recommendation", "13", "Trainings and skill development initiatives"),
    ("recommendation", "14", "Project Managers should ensure that governments"),
    ("recommendation", "15", "It is important to ensure that products"),
    ("recommendation", "16", "Trainings should be conducted in the Training of Trainers"),
    ("recommendation", "17", "There should be constant follow-up with beneficiaries"),
]
# 001: IOM Development Fund review 2011-2014 — the key findings and key recommendations of the executive summary,
# then the three lists of the recommendations chapter (sustainability; monitoring and evaluation; general — the
# general list repeats the summary's). The text has no numbers: a list item's number is its place in its list.
GOLD_001 = [
    ("key_finding", "1", "Labour Migration projects constituted on average"),
    ("key_finding", "2", "Each of the 14 reviewed projects"),
    ("key_finding", "3", "According to the answers from questionnaires"),
    ("key_finding", "4", "Outputs/outcomes not sustained (14%) belong to"),
    ("key_finding", "5", "The most common challenges during project"),
    ("recommendation", "1", "A prominent trend identified in the"),
    ("recommendation", "2", "Since “lack of funding” was one"),
    ("recommendation", "3", "It can be difficult to assess"),
    ("recommendation", "4", "In addition, the IOM Development Fund"),
    ("recommendation", "5", "More efforts are required to ensure"),
    ("recommendation", "6", "More efforts are also required to"),
    ("recommendation", "1", "Continue to build on project successes"),
    ("recommendation", "2", "More technical and financial support after"),
    ("recommendation", "3", "Clear assessment and identification of the"),
    ("recommendation", "4", "Modify projects if necessary in a"),
    ("recommendation", "5", "Increased training of trainers to ensure"),
    ("recommendation", "6", "Document the establishment and operation of"),
    ("recommendation", "7", "Use country assessment templates as a"),
    ("recommendation", "8", "More coordination with UN system to"),
    ("recommendation", "1", "An adequate M&E framework should be"),
    ("recommendation", "2", "The use of an evaluation method"),
    ("recommendation", "3", "Ask project managers to include a"),
    ("recommendation", "4", "Include elements in the Results Matrix"),
    ("recommendation", "5", "Have a mandatory internal evaluation by"),
    ("recommendation", "6", "For an in-depth review to be"),
    ("recommendation", "7", "Evaluation should be done within 6-12"),
]
# 002: IOM thematic evaluation brief — the key recommendations.
GOLD_002 = [
    ("recommendation", "1", "Strengthen the resource mobilization strategy"),
    ("recommendation", "2", "Establish a centralized, systematic and cohesive approach"),
    ("recommendation", "3", "Maximize complementarity"),
    ("recommendation", "4", "Increase cross-organizational knowledge exchange"),
    ("recommendation", "5", "Ensure staff awareness of LMI strategies"),
    ("recommendation", "6", "Increase LMI division capacities"),
    ("recommendation", "7", "Enhance the quality and diversity"),
    ("recommendation", "8", "Reinforce impact measurement mechanisms"),
    ("recommendation", "9", "Integrate cross-cutting issues"),
    ("recommendation", "10", "Promote IOM's role as a human-rights based agency"),
]
# 003: ILO high-level evaluation — key findings 1-18, recommendations 1-6 (in the summary and in §7, one item each;
# the first six words of each) with priority, time implication and the stance of the Office response of §8.
GOLD_003 = [
    ("key_finding", "1", "The ILO’s work is unique in"),
    ("key_finding", "2", "The topic of labour migration was"),
    ("key_finding", "3", "The ILO’s work has remained relevant"),
    ("key_finding", "4", "The ILO managed to coordinate its"),
    ("key_finding", "5", "Although recognition of the ILO’s added"),
    ("key_finding", "6", "The ILO’s work on labour migration"),
    ("key_finding", "7", "In almost all instances, the ILO"),
    ("key_finding", "8", "Of the survey respondents, 66.4 per"),
    ("key_finding", "9", "Improved capacity of constituents"),
    ("key_finding", "10", "The ILO’s cross-cutting work on international"),
    ("key_finding", "11", "The ILO’s work on mitigating the"),
    ("key_finding", "12", "Constituents and other stakeholders are generally"),
    ("key_finding", "13", "The ILO’s human resources for labour"),
    ("key_finding", "14", "Existing monitoring and evaluation approaches"),
    ("key_finding", "15", "Survey respondents evaluated coordination and collaboration"),
    ("key_finding", "16", "The most visible and clear impact"),
    ("key_finding", "17", "The adoption of legislation and policy"),
    ("key_finding", "18", "Enhancing impact and facilitating sustainability"),
    ("recommendation", "1", "Increase ILO visibility by expanding capacity"),
    ("recommendation", "2", "The ILO should continue and enhance"),
    ("recommendation", "3", "The ILO should ensure that its"),
    ("recommendation", "4", "The ILO should strengthen its monitoring"),
    ("recommendation", "5", "The ILO should continue strengthening its"),
    ("recommendation", "6", "The ILO should enhance its efforts"),
]
GOLD_003_TABLES = {  # number: (priority, time implication, stance of the Office response)
    "1": ("High", "Long-term", "partially_agrees"),
    "2": ("Medium", "Long-term", "agrees"),
    "3": ("High", "Long-term", "agrees"),
    "4": ("High", "Medium-term", "agrees"),
    "5": ("High", "Long-term", "agrees"),
    "6": ("High; Medium", "Short-term; Medium-term", "agrees"),
}
TARGETS = {"recommendation": 0.95, "response": 0.95, "key_finding": 0.9, "lesson": 0.9}
GOLD = {"000": GOLD_000, "001": GOLD_001, "002": GOLD_002, "003": GOLD_003}


def _norm(text: str) -> str:
    return " ".join(text.replace("'", "’").split()).lower()


def precision_recall(
    found: list[dict[str, object]], gold: list[tuple[str, str, str]], kind: str
) -> tuple[float, float]:
    """An extracted item is right when its kind and number are the gold item's and its text starts like it."""
    expected = {(n, _norm(t)) for k, n, t in gold if k == kind}
    got = [(str(i["number"]), _norm(str(i["text"]))) for i in found if i["kind"] == kind]
    right = sum(1 for number, text in got if any(number == n and text.startswith(t) for n, t in expected))
    found_gold = sum(1 for n, t in expected if any(number == n and text.startswith(t) for number, text in got))
    precision = right / len(got) if got else (1.0 if not expected else 0.0)
    recall = found_gold / len(expected) if expected else 1.0
    return precision, recall
