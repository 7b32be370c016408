"""Gold annotations of the source documents 000-003 (../shared/seeds), written by reading them, and the measure of
an extraction against them; used by tests/test_evidence_items.py and benchmarks/bench_evidence_quality.py.

Each item is (kind, number, the first words of its text), and for the kinds annotated last (evaluation questions,
good practices, conclusions, 003's lessons) the line of the seed text where it starts. An extracted item is right
when its kind and number are a gold item's and its text starts with that item's words; precision is the share of
extracted items that are right, recall the share of gold items found. A kind a seed has none of is annotated by
having none: an item of that kind found in it lowers precision. The targets of issue 9: 0.95 for recommendations
and the stances of the responses to them, 0.9 for the other kinds."""

from __future__ import annotations

# own-words: gold annotations (the items each seed holds, quoted as the extraction must find them)

GoldItem = tuple[str, str, str] | tuple[str, str, str, int]

# 000: IOM Development Fund review 2016-2020 — key findings of the executive summary, §5.1 lessons, §5.2 recs.
GOLD_000: list[GoldItem] = [
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
GOLD_001: list[GoldItem] = [
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
# 001's conclusion (the "Conclusion:" of the sustainability chapter, two paragraphs) and its good practices (the
# three projects of "Good practices: Three successful projects at a glance", each under a numbered heading).
GOLD_001 += [
    ("conclusion", "1", "According to the answers from questionnaires sent to the country missions, 84%", 225),
    ("conclusion", "2", "Outputs/outcomes not sustained belong to different categories", 228),
    ("good_practice", "1", "PROMOTING SAFE LABOUR MIGRATION FROM VIETNAM", 251),
    ("good_practice", "2", "STRENGTHENING LABOUR MIGRATION MANAGEMENT AND PRODUCTIVITY IN UGANDA", 295),
    ("good_practice", "3", "LABOUR MOBILITY AS A FACTOR OF DEVELOPMENT IN SOUTH-EASTERN EUROPE", 358),
]
# 002: IOM thematic evaluation brief — the key recommendations.
GOLD_002: list[GoldItem] = [
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
# 002's "Key findings & conclusions": one conclusion per evaluation criterion (Relevance runs over two paragraphs).
GOLD_002 += [
    ("conclusion", "1", "Relevance: The work of IOM labour migration", 41),
    ("conclusion", "2", "Coherence: The evaluation identifies successful collaborations", 45),
    ("conclusion", "3", "Effectiveness: The evaluation indicates that the division", 47),
    ("conclusion", "4", "Efficiency: LMI has shown strengths", 51),
    ("conclusion", "5", "Impact: The organization has made progress", 53),
    ("conclusion", "6", "Sustainability: Challenges to the sustainability", 55),
]
# 003: ILO high-level evaluation — key findings 1-18, recommendations 1-6 (in the summary and in §7, one item each;
# the first six words of each) with priority, time implication and the stance of the Office response of §8.
GOLD_003: list[GoldItem] = [
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
# 003's key evaluation questions (Table 1 of §1.2.3: each criterion's question, then its sub-questions; one item per
# row, a row may ask two questions), the conclusions (the paragraphs of the summary's "Conclusions and lessons
# learned", then of §4.1 "Overall conclusions", each numbered from 1) and the three lessons of §5.
GOLD_003 += [
    ("evaluation_question", "1", "Relevance: To what extent are labour migration", 509),
    ("evaluation_question", "2", "How well is the strategy informed by,", 513),
    ("evaluation_question", "3", "Does it address the challenges facing Member", 517),
    ("evaluation_question", "4", "To what extent is the ILO’s strategy", 521),
    ("evaluation_question", "5", "Are the ILO’s strategies and P&Bs responsive", 525),
    ("evaluation_question", "6", "To what extent is the ILO’s work", 530),
    ("evaluation_question", "7", "To what extent has the ILO pivoted/repurposed", 535),
    ("evaluation_question", "8", "Coherence: To what extent is the ILO’s", 538),
    ("evaluation_question", "9", "How well does the ILO strategy complement", 542),
    ("evaluation_question", "10", "To what extent are the strategy, the", 547),
    ("evaluation_question", "11", "How well does the strategy address the", 552),
    ("evaluation_question", "12", "How well aligned is the strategy, including", 557),
    ("evaluation_question", "13", "How well does the ILO strategy consider", 562),
    ("evaluation_question", "14", "To what extent do synergies and coherence", 567),
    ("evaluation_question", "15", "How effective is the collaboration among technical", 571),
    ("evaluation_question", "16", "Effectiveness: To what extent did the intervention", 574),
    ("evaluation_question", "17", "To what extent has the ILO made", 578),
    ("evaluation_question", "18", "To what extent do the strategy and", 583),
    ("evaluation_question", "19", "Does current monitoring and reporting (outcomes and", 587),
    ("evaluation_question", "20", "To what extent has the ILO contributed", 592),
    ("evaluation_question", "21", "Does the ILO strategy and results framework", 597),
    ("evaluation_question", "22", "To what extent has the ILO been", 602),
    ("evaluation_question", "23", "How, and to what extent, did the", 607),
    ("evaluation_question", "24", "Efficiency: To what extent did the ILO’s", 610),
    ("evaluation_question", "25", "Are adequate resources available to implement the", 613),
    ("evaluation_question", "26", "How balanced is resource distribution across different", 618),
    ("evaluation_question", "27", "Have different modalities of funding been used", 622),
    ("evaluation_question", "28", "Likelihood of impact and sustainability: To what", 624),
    ("evaluation_question", "29", "To what extent have the ILO’s actions", 628),
    ("evaluation_question", "30", "To what extent are the ILO’s actions", 633),
    ("evaluation_question", "31", "To what extent is strengthened social dialogue", 638),
    ("conclusion", "1", "During the period under review, the ILO has made", 202),
    ("conclusion", "2", "Major projects at the regional, interregional", 205),
    ("conclusion", "3", "The work of the ILO on labour migration was perceived", 209),
    ("conclusion", "4", "The evaluation found multiple barriers to", 216),
    ("conclusion", "5", "The heavy workload places a substantial", 218),
    ("conclusion", "6", "Gaps in the ILO’s visibility were", 223),
    ("conclusion", "1", "During the period under review, the ILO made", 3780),
    ("conclusion", "2", "However, this evaluation has also found", 3788),
    ("conclusion", "3", "The development and dissemination of general", 3795),
    ("conclusion", "4", "Ample examples have been found regarding", 3800),
    ("conclusion", "5", "In addition, despite advocacy on the", 3804),
    ("conclusion", "6", "A key objective of ILO action", 3812),
    ("conclusion", "7", "In assessing ILO activities, it is", 3817),
    ("conclusion", "8", "A key feature of the period", 3830),
    ("conclusion", "9", "The corridor projects themselves have taken", 3837),
    ("conclusion", "10", "Overall, the corridor approach has proved", 3841),
    ("conclusion", "11", "A further key feature of the", 3849),
    ("conclusion", "12", "Global advocacy work prepared the ground", 3858),
    ("conclusion", "13", "COVID-19 mitigation measures, such as lockdowns", 3868),
    ("conclusion", "14", "The work of the ILO during COVID-19 is likely", 3876),
    ("conclusion", "15", "Finally, the work of the ILO", 3883),
    ("lesson", "1", "The evaluation period of 2016–20 witnessed", 4050),
    ("lesson", "2", "The evaluation demonstrated that, despite its", 4058),
    ("lesson", "3", "From interviews with national-level constituents, the", 4064),
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
TARGETS |= {"good_practice": 0.9, "conclusion": 0.9, "evaluation_question": 0.9}
KINDS = ("recommendation", "key_finding", "lesson", "good_practice", "conclusion", "evaluation_question")
GOLD = {"000": GOLD_000, "001": GOLD_001, "002": GOLD_002, "003": GOLD_003}  # every kind of every seed: none is none


def _norm(text: str) -> str:
    return " ".join(text.replace("'", "’").split()).lower()


def precision_recall(found: list[dict[str, object]], gold: list[GoldItem], kind: str) -> tuple[float, float]:
    """An extracted item is right when its kind and number are the gold item's and its text starts like it."""
    expected = {(g[1], _norm(g[2])) for g in gold if g[0] == kind}
    got = [(str(i["number"]), _norm(str(i["text"]))) for i in found if i["kind"] == kind]
    right = sum(1 for number, text in got if any(number == n and text.startswith(t) for n, t in expected))
    found_gold = sum(1 for n, t in expected if any(number == n and text.startswith(t) for number, text in got))
    precision = right / len(got) if got else (1.0 if not expected else 0.0)
    recall = found_gold / len(expected) if expected else 1.0
    return precision, recall


def located(found: list[dict[str, object]], gold: list[GoldItem], kind: str) -> tuple[int, int]:
    """(gold items with a line found at that line, gold items with a line): an extracted item's ``line`` is the line
    of the seed text its first passage starts on."""
    lined = [g for g in gold if g[0] == kind and len(g) == 4]
    hits = 0
    for g in lined:
        assert len(g) == 4
        start = _norm(g[2])
        hits += any(
            i["kind"] == kind
            and str(i["number"]) == g[1]
            and _norm(str(i["text"])).startswith(start)
            and g[3] in (i.get("lines") or [])  # type: ignore[operator]
            for i in found
        )
    return hits, len(lined)
