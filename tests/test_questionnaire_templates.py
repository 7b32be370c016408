"""The questionnaire templates in ``src/lmreview/questionnaire/templates``.

Each template is an XLSForm in pyxform's Markdown table format (``*.md``): text in git, converted by pyxform's public
``pyxform.xls2xform.convert``. These tests convert every template, then read the XForm that pyxform writes (the W3C
XForms / ODK XForm format, not pyxform's internal dictionaries) and check the structure of the questionnaire each one
transcribes:

* ``idf-lm-2022``: Annex 2 ("LM questionnaire") of the IOM Development Fund review of labour-migration projects funded
  2016-2020 (seed 000);
* ``idf-lm-2016``: Annex 2 ("Questionnaire") of the Fund's review of the projects funded 2011-2014 (seed 001);
* ``bilingual-test``: a small English/French form, the fixture of the bilingual browser test.

The templates keep the questionnaires' facts (questions, numbering, order, choice lists, skip logic) in lmreview's own
words (``tests/test_own_words.py`` checks the words). The ``seeds`` tests compare the facts with the seeds themselves:
the question numbers and their order, the number of boxes of each list, the challenges.
"""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

xls2xform = pytest.importorskip(
    "pyxform.xls2xform",
    reason="pyxform is not installed (pip install 'pyxform>=2.0'): the templates cannot be converted",
)

TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "lmreview" / "questionnaire" / "templates"
QUESTIONNAIRES = ["idf-lm-2022", "idf-lm-2016"]
ALL_TEMPLATES = [*QUESTIONNAIRES, "bilingual-test"]

NS = {
    "xf": "http://www.w3.org/2002/xforms",
    "h": "http://www.w3.org/1999/xhtml",
    "jr": "http://openrosa.org/javarosa",
}
JR_COUNT = f"{{{NS['jr']}}}count"
JR_CONSTRAINT_MSG = f"{{{NS['jr']}}}constraintMsg"
JR_REQUIRED_MSG = f"{{{NS['jr']}}}requiredMsg"
ITEXT_REF = re.compile(r"^jr:itext\('(?P<id>[^']+)'\)$")

OR_OTHER_WARNING = "This form uses or_other and translations, which is not recommended."

# Facts of the seeds, in the questionnaires' order.
LM_OBJECTIVES_2022 = [  # 000, question 2: the six IOM labour migration programming objectives, as choice names
    "policy_advice",
    "policy_development",
    "safe_migration",
    "ethical_recruitment",
    "integration",
    "migrant_rights",
]
FOCUS_AREAS_2022 = [  # 000, question 3: six areas and "Other"
    "ethical_recruitment",
    "preparation",
    "partnerships",
    "integration",
    "managed_migration",
    "reintegration",
    "other",
]
GOVERNANCE_MEASURES_2022 = [  # 000, question 4: seven measures, then the eighth box, "None"
    "policies",
    "evidence_base",
    "capacity",
    "inter_agency",
    "bilateral_agreements",
    "fair_recruitment",
    "skills",
    "none",
]
# The challenges: short labels that name a fact keep the questionnaire's wording (question name: label).
CHALLENGES_2022 = {  # 000, question 16: 19 named challenges and "Other", each with "Actions Taken"
    "ch_gov_counterparts": "Changing governmental counterparts",
    "ch_gov_priorities": "Changing governmental priorities",
    "ch_consultants": "Consultant challenges",
    "ch_data_access": "Difficulty accessing existing data",
    "ch_social_norms": "Social/cultural norms",
    "ch_iom_internal": "IOM internal challenges",
    "ch_buy_in": "Lack of buy-in by governmental counterparts",
    "ch_partner_collaboration": "Lack of collaboration by partners",
    "ch_coordination": "Lack of coordination amongst agencies",
    "ch_funding": "Lack of funding",
    "ch_reliable_info": "Lack of reliable information",
    "ch_research_capacity": "Lack of research capacity",
    "ch_community": "Lack of collaboration/participation by members of the community",
    "ch_environmental": "Environmental hazards",
    "ch_covid19": "Covid-19",
    "ch_instability_ex_ante": "Political instability ex-ante project approval",
    "ch_instability_ex_post": "Political instability ex-post project approval",
    "ch_external_admin": "External administrative issues",
    "ch_internal_admin": "Internal administrative issues",
    "ch_other": "Other",
}
CHALLENGES_2016 = {  # 001, question 5: the 11 common challenges, then "Other (Please specify)"
    "ch_reliable_info": "Lack of reliable information",
    "ch_data_access": "Difficulty accessing existing data",
    "ch_coordination": "Lack of coordination amongst agencies",
    "ch_research_capacity": "Lack of research capacity",
    "ch_funding": "Lack of funding",
    "ch_political_instability": "Political instability",
    "ch_buy_in": "Lack of buy-in by the government counterparts",
    "ch_partner_collaboration": "Lack of collaboration by partners",
    "ch_consultants": "Consultant challenges",
    "ch_gov_counterparts": "Changing government counterparts",
    "ch_gov_priorities": "Changing governmental priorities",
    "ch_other": "Other (Please specify)",
}
SECTIONS = {
    "idf-lm-2022": [
        "project",
        "outcomes_outputs",
        "rights_based_approach",
        "impact",
        "beneficiaries",
        "sustainability",
        "challenges",
        "evaluation",
    ],
    "idf-lm-2016": ["project", "outcomes_outputs", "sustainability", "challenges", "evaluation"],
}
QUESTION_NUMBERS = {
    "idf-lm-2022": [str(n) for n in range(1, 22)],
    "idf-lm-2016": ["1", "2", "2.1", "2.2", "2.3", "3", "4", "5", "5.1", "6"],
}
SETTINGS = {
    "idf-lm-2022": ("idf_lm_2022", "2022.1"),
    "idf-lm-2016": ("idf_lm_2016", "2016.1"),
    "bilingual-test": ("bilingual_test", "1"),
}


@dataclass
class Element:
    """One element of the form body (or a calculate, which has no body control), with its bind and label."""

    kind: str  # group, repeat, input, note, select1, select, calculate
    name: str
    path: str
    label: str | None = None
    hint: str | None = None
    bind: dict[str, str] = field(default_factory=dict)
    choices: list[tuple[str, str]] = field(default_factory=list)
    count: str | None = None
    children: list[Element] = field(default_factory=list)

    def walk(self) -> list[Element]:
        found = []
        for child in self.children:
            found.append(child)
            found.extend(child.walk())
        return found

    def child(self, name: str) -> Element:
        matches = [e for e in self.walk() if e.name == name]
        assert len(matches) == 1, f"{name!r}: {len(matches)} elements in {self.name!r}"
        return matches[0]


@dataclass
class Form:
    name: str
    warnings: list[str]
    xform: str
    title: str
    form_id: str
    version: str
    languages: list[str]
    default_language: str | None
    itext: dict[str, dict[str, str]]  # language -> text id -> text
    binds: dict[str, dict[str, str]]  # nodeset -> attributes
    root: Element

    def element(self, name: str) -> Element:
        return self.root.child(name)

    @property
    def elements(self) -> list[Element]:
        return self.root.walk()

    @property
    def sections(self) -> list[Element]:
        return self.root.children


def _text(node: ET.Element | None) -> str | None:
    if node is None:
        return None
    return " ".join("".join(node.itertext()).split()) or None


class _Reader:
    def __init__(self, xform: str) -> None:
        self.doc = ET.fromstring(xform)
        self.model = self.doc.find("h:head/xf:model", NS)
        assert self.model is not None
        self.binds = {b.get("nodeset"): dict(b.attrib) for b in self.model.findall("xf:bind", NS)}
        self.itext: dict[str, dict[str, str]] = {}
        self.default_language = None
        for translation in self.model.findall("xf:itext/xf:translation", NS):
            lang = translation.get("lang", "")
            if translation.get("default"):
                self.default_language = lang
            self.itext[lang] = {
                t.get("id", ""): _text(t.find("xf:value", NS)) or "" for t in translation.findall("xf:text", NS)
            }
        self.instances = {i.get("id"): i for i in self.model.findall("xf:instance", NS) if i.get("id")}

    def label(self, node: ET.Element, tag: str) -> str | None:
        found = node.find(f"xf:{tag}", NS)
        if found is None:
            return None
        match = ITEXT_REF.match(found.get("ref", ""))
        if match and self.default_language is not None:
            return self.itext[self.default_language].get(match["id"])
        return _text(found)

    def choices(self, node: ET.Element) -> list[tuple[str, str]]:
        itemset = node.find("xf:itemset", NS)
        if itemset is None:
            return [
                (_text(i.find("xf:value", NS)) or "", self.label(i, "label") or "") for i in node.findall("xf:item", NS)
            ]
        list_name = re.match(r"instance\('([^']+)'\)", itemset.get("nodeset", ""))
        assert list_name, itemset.get("nodeset")
        result = []
        for item in self.instances[list_name[1]].findall("xf:root/xf:item", NS):
            name = _text(item.find("xf:name", NS)) or ""
            itext_id = _text(item.find("xf:itextId", NS))
            if itext_id is not None and self.default_language is not None:
                label = self.itext[self.default_language].get(itext_id, "")
            else:
                label = _text(item.find("xf:label", NS)) or ""
            result.append((name, label))
        return result

    def element(self, node: ET.Element) -> Element | None:
        tag = node.tag.split("}")[1]
        ref = node.get("ref") or node.get("nodeset") or ""
        if tag not in {"group", "input", "select1", "select", "upload", "trigger", "range"}:
            return None
        bind = self.binds.get(ref, {})
        element = Element(kind=tag, name=ref.rsplit("/", 1)[-1], path=ref, bind=bind)
        element.label = self.label(node, "label")
        element.hint = self.label(node, "hint")
        if tag == "group":
            repeat = node.find("xf:repeat", NS)
            body = node
            if repeat is not None and repeat.get("nodeset") == ref:
                element.kind = "repeat"
                element.count = repeat.get(JR_COUNT)
                body = repeat
            element.children = [e for e in (self.element(c) for c in body) if e is not None]
        elif tag == "input" and bind.get("readonly") == "true()" and "calculate" not in bind:
            element.kind = "note"
        elif tag in {"select1", "select"}:
            element.choices = self.choices(node)
        return element

    def root(self) -> Element:
        body = self.doc.find("h:body", NS)
        assert body is not None
        root = Element(kind="group", name="", path="/")
        root.children = [e for e in (self.element(c) for c in body) if e is not None]
        in_body = {e.path for e in root.walk()}
        calculates = [
            Element(kind="calculate", name=path.rsplit("/", 1)[-1], path=path, bind=bind)
            for path, bind in self.binds.items()
            if "calculate" in bind and path not in in_body
        ]
        # Attach each calculate to the group or repeat that holds it, after the body elements.
        by_path = {e.path: e for e in root.walk() if e.kind in {"group", "repeat"}}
        for calculate in calculates:
            parent = by_path.get(calculate.path.rsplit("/", 1)[0], root)
            parent.children.append(calculate)
        return root


@cache
def load(name: str) -> Form:
    warnings: list[str] = []
    result = xls2xform.convert(xlsform=TEMPLATES / f"{name}.md", warnings=warnings)
    reader = _Reader(result.xform)
    title = reader.doc.find("h:head/h:title", NS)
    data = reader.model.find("xf:instance", NS)
    assert data is not None
    instance_root = next(iter(data))
    return Form(
        name=name,
        warnings=list(result.warnings),
        xform=result.xform,
        title=_text(title) or "",
        form_id=instance_root.get("id", ""),
        version=instance_root.get("version", ""),
        languages=list(reader.itext),
        default_language=reader.default_language,
        itext=reader.itext,
        binds=reader.binds,
        root=reader.root(),
    )


def _number(label: str | None) -> str | None:
    match = re.match(r"^(\d+(?:\.\d+)?)\.?\s", label or "")
    return match[1] if match else None


def _challenges(form: Form) -> list[Element]:
    section = form.element("challenges")
    return [
        e
        for e in section.children
        if e.kind == "select1" and e.name.startswith("ch_") and not e.name.endswith(("_actions", "_specify"))
    ]


# --- conversion -------------------------------------------------------------------------------------------------


def test_every_template_is_tested() -> None:
    assert sorted(p.stem for p in TEMPLATES.glob("*.md")) == sorted(ALL_TEMPLATES)


@pytest.mark.parametrize("name", QUESTIONNAIRES)
def test_questionnaire_converts_without_warnings(name: str) -> None:
    assert load(name).warnings == []


def test_bilingual_form_warns_only_about_or_other() -> None:
    """or_other in a translated form is a feature the fixture must cover; pyxform warns that its generated
    "Specify other." question is untranslated. No other warning is allowed."""
    warnings = load("bilingual-test").warnings
    assert warnings, "pyxform no longer warns about or_other with translations: drop this exception"
    assert all(w.startswith(OR_OTHER_WARNING) for w in warnings), warnings


@pytest.mark.parametrize("name", ALL_TEMPLATES)
def test_odk_validate_accepts_the_xform(name: str) -> None:
    if shutil.which("java") is None:
        pytest.skip("java is not installed: ODK Validate (bundled with pyxform) cannot run")
    xls2xform.convert(xlsform=TEMPLATES / f"{name}.md", validate=True)


@pytest.mark.parametrize("name", ALL_TEMPLATES)
def test_settings(name: str) -> None:
    form = load(name)
    assert (form.form_id, form.version) == SETTINGS[name]
    assert form.title


def test_titles() -> None:
    assert load("idf-lm-2022").title == (
        "IOM Development Fund Questionnaire on Labour Migration Projects between 2016-2020"
    )
    assert load("idf-lm-2016").title == "Labour Migration Review, IDF 2016"


# --- structure of the questionnaires ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", QUESTIONNAIRES)
def test_sections_are_groups_in_the_questionnaire_order(name: str) -> None:
    form = load(name)
    assert [s.name for s in form.sections] == SECTIONS[name]
    assert all(s.kind == "group" and s.label for s in form.sections)


@pytest.mark.parametrize("name", QUESTIONNAIRES)
def test_project_group_comes_first_with_a_checked_project_code(name: str) -> None:
    form = load(name)
    project = form.sections[0]
    assert project.name == "project"
    code = project.child("project_code")
    assert code.kind == "input"
    assert code.bind["required"] == "true()"
    assert code.bind["constraint"] == r"regex(., '^LM\.[0-9]{4}$')"
    assert code.bind.get(JR_CONSTRAINT_MSG)
    assert code.bind.get(JR_REQUIRED_MSG)
    assert code.hint
    title = project.child("project_title")
    assert title.kind == "input"
    assert "required" not in title.bind
    role = project.child("respondent_role")
    assert [c[0] for c in role.choices] == ["project_manager", "chief_of_mission", "delegated_staff", "other"]
    assert (
        project.child("respondent_role_other").bind["relevant"] == "selected( /data/project/respondent_role , 'other')"
    )


@pytest.mark.parametrize("name", QUESTIONNAIRES)
def test_outcomes_repeat_has_three_rows(name: str) -> None:
    form = load(name)
    outcomes = form.element("outcomes_outputs").child("outcomes")
    assert outcomes.kind == "repeat"
    assert [c.name for c in outcomes.children if c.kind != "calculate"] == ["outcome", "related_outputs"]
    assert outcomes.count is not None
    assert form.binds[outcomes.count.strip()]["calculate"] == "3"


@pytest.mark.parametrize("name", QUESTIONNAIRES)
def test_questions_keep_their_numbers_in_order(name: str) -> None:
    form = load(name)
    numbers = [n for n in (_number(e.label) for e in form.elements) if n is not None]
    assert numbers == QUESTION_NUMBERS[name]


def test_2022_programming_objectives() -> None:
    form = load("idf-lm-2022")
    assert form.element("lm_objectives_yn").choices == [("yes", "Yes"), ("no", "No")]
    objectives = form.element("lm_objectives")
    assert objectives.kind == "select"
    assert [name for name, _ in objectives.choices] == LM_OBJECTIVES_2022
    assert all(label for _, label in objectives.choices)
    assert objectives.bind["relevant"] == " /data/outcomes_outputs/lm_objectives_yn  = 'yes'"


def test_2022_focus_areas_with_other() -> None:
    form = load("idf-lm-2022")
    areas = form.element("focus_areas")
    assert [name for name, _ in areas.choices] == FOCUS_AREAS_2022
    assert areas.choices[-1] == ("other", "Other")
    other = form.element("focus_areas_other")
    assert other.label == "Which other area?"
    assert other.bind["required"] == "true()"
    assert other.bind["relevant"] == "selected( /data/outcomes_outputs/focus_areas , 'other')"


def test_2022_governance_measures() -> None:
    measures = load("idf-lm-2022").element("governance_measures")
    assert measures.kind == "select"
    assert [name for name, _ in measures.choices] == GOVERNANCE_MEASURES_2022
    assert all(label for _, label in measures.choices)
    assert measures.choices[-1] == ("none", "None")
    assert "selected(., 'none')" in measures.bind["constraint"]
    assert measures.bind.get(JR_CONSTRAINT_MSG)


def test_2022_challenges_each_with_actions_taken() -> None:
    form = load("idf-lm-2022")
    challenges = _challenges(form)
    assert len(challenges) == 20
    assert {c.name: c.label for c in challenges} == CHALLENGES_2022
    assert [c.name for c in challenges] == list(CHALLENGES_2022)
    section = form.element("challenges")
    for challenge in challenges:
        assert challenge.choices == [("yes", "Yes"), ("no", "No")]
        actions = section.child(f"{challenge.name}_actions")
        assert actions.label == "Actions Taken"
        assert actions.bind["relevant"] == f" /data/challenges/{challenge.name}  = 'yes'"
    assert section.child("ch_other_specify").bind["relevant"] == " /data/challenges/ch_other  = 'yes'"


def test_2016_challenges() -> None:
    form = load("idf-lm-2016")
    challenges = _challenges(form)
    assert len(challenges) == 11 + 1
    assert [(c.name, c.label) for c in challenges] == list(CHALLENGES_2016.items())
    assert challenges[-1].name == "ch_other"
    specify = form.element("ch_other_specify")
    assert specify.bind["relevant"] == " /data/challenges/ch_other  = 'yes'"
    assert specify.bind["required"] == "true()"


def test_2022_sustainability_tables_follow_the_yes_no() -> None:
    form = load("idf-lm-2022")
    sustained = form.element("sustained_outcomes")
    not_sustained = form.element("unsustained_outcomes")
    assert (sustained.kind, not_sustained.kind) == ("repeat", "repeat")
    assert [(c.name, c.label) for c in sustained.children] == [
        ("sustained_outcome", "Outcome"),
        ("sustained_by", "Kept going by (organization or people)"),
        ("sustained_method", "Method"),
    ]
    assert [(c.name, c.label) for c in not_sustained.children] == [
        ("unsustained_outcome", "Outcome that did not last"),
        ("unsustained_explanation", "Why it did not last"),
    ]
    assert sustained.bind["relevant"] == " /data/sustainability/outcomes_sustained  = 'yes'"
    assert not_sustained.bind["relevant"] == " /data/sustainability/outcomes_sustained  = 'no'"


def test_2016_sustainability_has_one_row_per_outcome() -> None:
    form = load("idf-lm-2016")
    rows = form.element("outcome_sustainability")
    assert rows.kind == "repeat"
    names = [c.name for c in rows.walk()]
    assert names == [
        "os_outcome_note",
        "sustained",
        "not_sustained_why",
        "sustained_by",
        "sustaining_organization",
        "sustaining_method",
        "deliverable_users",
        "os_outcome",
    ]
    assert rows.count is not None
    assert form.binds[rows.count.strip()]["calculate"] == "count( /data/outcomes_outputs/outcomes )"
    assert rows.child("os_outcome").bind["calculate"] == (
        "indexed-repeat( /data/outcomes_outputs/outcomes/outcome ,  /data/outcomes_outputs/outcomes , position(..))"
    )
    assert rows.child("not_sustained_why").bind["relevant"] == " ../sustained  = 'no'"
    assert rows.child("sustained_by").bind["relevant"] == " ../sustained  = 'yes'"


def test_2022_evaluation() -> None:
    form = load("idf-lm-2022")
    evaluation = form.element("evaluation")
    assert [c.name for c in evaluation.children] == ["ex_post_evaluation", "ex_post_share", "lm_recommendations"]
    assert evaluation.child("ex_post_share").kind == "note"
    assert evaluation.child("lm_recommendations").kind == "input"


# --- the bilingual fixture --------------------------------------------------------------------------------------


def test_bilingual_form_has_english_and_french() -> None:
    form = load("bilingual-test")
    assert form.languages == ["English (en)", "Français (fr)"]
    assert form.default_language == "English (en)"
    english, french = form.itext["English (en)"], form.itext["Français (fr)"]
    assert english.keys() == french.keys()
    assert all(english[key] and french[key] for key in english)
    assert form.element("sustained").label == "Were the project outcomes sustained after the project ended?"
    label_id = "/data/sustained:label"
    assert french[label_id] == "Les résultats du projet ont-ils été maintenus après la fin du projet ?"


def test_bilingual_form_covers_the_features_of_the_browser_test() -> None:
    form = load("bilingual-test")
    kinds = {e.name: (e.kind, e.bind.get("type")) for e in form.elements}
    assert 8 <= sum(1 for kind, _ in kinds.values() if kind not in {"group", "repeat", "note"}) <= 12
    assert kinds["project"][0] == "group"
    assert kinds["outcomes"][0] == "repeat"
    assert kinds["project_code"] == ("input", "string")
    assert kinds["beneficiaries"] == ("input", "int")
    assert kinds["budget"] == ("input", "decimal")
    assert kinds["report_date"] == ("input", "date")
    assert kinds["sustained"][0] == "select1"
    assert kinds["challenges"][0] == "select"
    assert kinds["outcome_count"][0] == "calculate"
    assert kinds["welcome"][0] == kinds["summary"][0] == "note"
    # or_other: the "other" choice (declared, so translated) and the generated question.
    assert form.element("challenges").choices[-1] == ("other", "Other")
    assert form.element("challenges_other").bind["relevant"] == "selected(../challenges, 'other')"
    assert form.element("not_sustained_why").bind["relevant"] == " /data/sustained  = 'no'"
    assert form.element("project_code").bind["constraint"] == r"regex(., '^LM\.[0-9]{4}$')"
    assert form.element("outcome_count").bind["calculate"] == "count( /data/outcomes )"


# --- faithfulness to the seeds ----------------------------------------------------------------------------------


SMART_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def _annex(seeds: Path, name: str) -> str:
    if name == "idf-lm-2022":
        text = (seeds / "000_35b290caad1e23ca.txt").read_text(encoding="utf-8")
        return text[text.rindex("Annex 2 – LM questionnaire") :]
    text = (seeds / "001_1da8830a048daebe.txt").read_text(encoding="utf-8")
    start = text.rindex("Labour Migration Review, IDF 2016")
    return text[start : text.index("Annex 3 – List of analysed projects", start)]


def _boxes(block: str) -> list[str]:
    """The texts of the ☐ boxes of a block of 000's questionnaire, without footnotes and answer placeholders."""
    boxes = []
    for piece in block.split("☐")[1:]:
        piece = piece.split("Click or tap here to enter text.")[0]
        lines = [line for line in piece.splitlines() if not re.match(r"\s*(\d|https?://)", line)]
        boxes.append(" ".join(" ".join(lines).split()).translate(SMART_QUOTES))
    return boxes


# The text extraction of 001 turned the numbers of its questions 1 and 2 into list bullets ("- Please indicate").
BULLETED = {"idf-lm-2016": {"1", "2"}}


def _stems(text: str) -> set[str]:
    """The longer words of a text, cut to their first five letters ("recruitment" and "recruit" meet)."""
    return {word[:5] for word in re.findall(r"[a-z]{5,}", text.casefold())}


def _restates(labels: list[str], boxes: list[str]) -> list[int]:
    """For each label, the position of the box it shares most words with."""
    return [max(range(len(boxes)), key=lambda i: len(_stems(label) & _stems(boxes[i]))) for label in labels]


@pytest.mark.seeds
@pytest.mark.parametrize("name", QUESTIONNAIRES)
def test_question_numbers_follow_the_seed(name: str, seeds: Path) -> None:
    annex = _annex(seeds, name)
    position = 0
    for number in QUESTION_NUMBERS[name]:
        mark = re.escape(number)
        if number in BULLETED.get(name, set()):
            mark = "^-"
        found = re.compile(rf"(?m)(?<![\d.]){mark}\.?\s+[A-Z]").search(annex, position)
        assert found, f"question {number} is not in the seed's questionnaire after position {position}"
        position = found.end()


@pytest.mark.seeds
def test_2022_lists_are_the_boxes_of_the_seed(seeds: Path) -> None:
    """Each list has the seed's boxes, in the seed's order: each choice shares most words with its own box."""
    annex = _annex(seeds, "idf-lm-2022")
    form = load("idf-lm-2022")

    def block(start: str, end: str) -> str:
        i = annex.index(start)
        return annex[i : annex.index(end, i)]

    q2 = _boxes(block("2. Were those outcomes", "3. Was the project"))
    assert q2[0].startswith("Yes")
    assert q2[-1] == "No"
    objectives = [label for _, label in form.element("lm_objectives").choices]
    assert _restates(objectives, q2[1:-1]) == list(range(len(LM_OBJECTIVES_2022)))
    q3 = _boxes(block("3. Was the project", "4. Which of the following"))
    areas = [label for _, label in form.element("focus_areas").choices][:-1]
    assert _restates(areas, q3[1:-2]) == list(range(len(FOCUS_AREAS_2022) - 1))
    assert q3[-2].startswith("Other.")
    q4 = _boxes(block("4. Which of the following", "RIGHTS-BASED APPROACH"))
    measures = [label for _, label in form.element("governance_measures").choices]
    assert _restates(measures[:-1], q4[:-1]) == list(range(len(GOVERNANCE_MEASURES_2022) - 1))
    assert q4[-1] == measures[-1] == "None"
    q16 = _boxes(block("16. What were the main challenges", "17. What activities"))
    assert [c.label for c in _challenges(form)] == q16 == list(CHALLENGES_2022.values())


@pytest.mark.seeds
def test_2016_challenges_are_the_rows_of_the_seed(seeds: Path) -> None:
    annex = _annex(seeds, "idf-lm-2016")
    table = annex[annex.index("Challenges\tYes/No") : annex.index("5.1 Please list")]
    rows = [line.strip() for line in table.splitlines()[1:] if line.strip()]
    assert [c.label for c in _challenges(load("idf-lm-2016"))] == rows == list(CHALLENGES_2016.values())
