"""Items extracted from a document's passages: recommendations (with the responsible unit, priority, time and
resource implication where a table gives them), the management or office response to each, key findings,
lessons learned, good practices and conclusions.

Deterministic and explainable: each item names the rule that found it.

* ``label`` — a passage that starts with "Recommendation 3", "Key finding 2", "Lesson 1", "Good practice 4" or
  "Conclusion 5"; its text runs to the next heading or item (a key finding is its own passage only);
* ``list in section`` — a list item under a heading named "Recommendations", "Key recommendations",
  "Lessons learned", "Good practices", "Key findings", "Conclusions" or "Evaluation questions" (numbered in the
  order of the list); under "Evaluation questions", a paragraph that ends with a question mark too;
* ``paragraph in section`` / ``criterion in section`` — under "Conclusions" or "Lessons learned" without a list,
  each paragraph; one that starts with an evaluation criterion ("Relevance: …") takes the paragraphs after it;
* ``numbered heading in section`` — under "Good practices", the headings numbered 1., 2., … (their details are not
  items);
* ``fields`` — after a recommendation, the labels "Responsible unit", "Priority", "Time implication" and
  "Resource implication" and their values (a flattened table: the priority is the value that reads high, medium
  or low, the time implication the one that ends in "-term", the unit what comes before them, the resources what
  comes after);
* ``response`` — under a heading "Office response" or "Management response", "Recommendation N" starts the
  response to recommendation N; its stance is read from its wording ("generally agrees" and "partially agrees"
  are a partial agreement, "agrees" and "accepts" an agreement, "disagrees" and "does not accept" a
  disagreement; anything else is "noted").

An item found twice under the same number (in the executive summary and in the body) is one item with both
locations; its text is the first one's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

KINDS = ("recommendation", "lesson", "good_practice", "key_finding", "conclusion", "evaluation_question")
STANCES = ("agrees", "partially_agrees", "disagrees", "noted")
_LABELS = (
    ("recommendation", r"recommendation"),
    ("key_finding", r"key finding"),
    ("lesson", r"lesson(?: learned| learnt)?"),
    ("good_practice", r"good practice"),
    ("conclusion", r"conclusion"),
)
_ITEM = re.compile(
    r"^(?P<label>" + "|".join(p for _, p in _LABELS) + r")\s+(?P<number>\d{1,3})\b\s*[.:–—-]?\s*(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_SECTIONS = (
    (
        "recommendation",
        re.compile(
            r"^(?:\d+(?:\.\d+)*\.?\s+)?(?:key |main |general )?recommendations?(?: for [^.:]{3,60})?\s*:?$", re.I
        ),
    ),
    ("lesson", re.compile(r"^(?:\d+(?:\.\d+)*\.?\s+)?(?:key |main )?lessons?(?: learned| learnt)?\s*:?$", re.I)),
    (
        "good_practice",
        re.compile(r"^(?:\d+(?:\.\d+)*\.?\s+)?(?:good|best) practices?(?:\s*:\s*[^.:]{3,80}(?<![\d\s]))?\s*:?$", re.I),
    ),
    ("key_finding", re.compile(r"^(?:\d+(?:\.\d+)*\.?\s+)?(?:key |main )?findings?\s*:?$", re.I)),
    (
        "conclusion",
        re.compile(
            r"^(?:\d+(?:\.\d+)*\.?\s+)?(?:(?:key |main )?findings? (?:and|&) )?(?:overall |main |general )?"
            r"conclusions?(?: and lessons?(?: learned| learnt)?)?\s*:?$",
            re.I,
        ),
    ),
    (
        "evaluation_question",
        re.compile(r"^(?:\d+(?:\.\d+)*\.?\s+)?(?:key |main )?evaluation (?:criteria and )?questions?\s*:?$", re.I),
    ),
)
_PARAGRAPH_KINDS = ("conclusion", "lesson")  # kinds whose sections may hold paragraphs rather than a list
_CRITERION = re.compile(  # "Relevance: …" — a conclusion per evaluation criterion
    r"^(?:relevance|coherence|effectiveness|efficiency|impact|sustainability|likelihood of impact[^:]{0,40})\s*:",
    re.IGNORECASE,
)
_HEADED_ITEM = re.compile(r"^(\d{1,2})\.\s+(\S.*)$")  # "2. STRENGTHENING LABOUR MIGRATION…" under Good practices
_SENTENCE_END = re.compile(r"[.!?;:][\"'”’)\]]*$")
_LEAD_IN = (  # a paragraph ending in a colon that introduces a list of one kind: "The key findings include:"
    ("recommendation", re.compile(r"\brecommendations?\b", re.I)),
    ("lesson", re.compile(r"\blessons?\b", re.I)),
    ("good_practice", re.compile(r"\b(?:good|best) practices?\b", re.I)),
    ("key_finding", re.compile(r"\b(?:key |main )?findings\b", re.I)),
    ("conclusion", re.compile(r"\bconclusions?\b", re.I)),
)
_BACK_MATTER = re.compile(r"^(?:annex|annexes|appendix|appendices|references|bibliography)\b", re.I)
_INLINE_RESPONSE = re.compile(r"(?:office|management)(?:'s|’s)?\s+response\s*:\s*(.+)", re.IGNORECASE | re.DOTALL)
_RESPONSE_SECTION = re.compile(r"\b(?:office|management)(?:'s|’s)?\s+response\b", re.IGNORECASE)
_NUMBERED = re.compile(r"^\d+(?:\.\d+)*\.?\s+\S")
_FIELDS = {
    "responsible unit": "responsible_unit",
    "responsible units": "responsible_unit",
    "priority": "priority",
    "time implication": "time_implication",
    "resource implication": "resource_implication",
    "resource implications": "resource_implication",
}
_FIELD_LINE = re.compile(
    r"^(responsible units?|priority|time implication|resource implications?)\s*[:–-]?\s+(\S.*)$", re.IGNORECASE
)
_PRIORITY = re.compile(r"^(?:very )?(?:high|medium|low)(?:[–-](?:high|medium|low))?$", re.IGNORECASE)
_INLINE_UNIT = re.compile(r"\s+Responsible units?:?\s+(\S.*)$", re.DOTALL)
_RESOURCE = re.compile(r"^(?:very |rather )?(?:high|medium|low|moderate|minimal|significant|none|no )", re.IGNORECASE)
_TIME = re.compile(r"-term\b|–term\b|\bimmediate\b|\bongoing\b|\bshort term\b|\blong term\b", re.IGNORECASE)
_STANCE = (
    (
        "partially_agrees",
        re.compile(
            r"\b(?:generally|partially|partly|broadly|largely) (?:agree|accept)|"
            r"\bagrees? in part\b|\bpartially accepted\b",
            re.IGNORECASE,
        ),
    ),
    (
        "disagrees",
        re.compile(
            r"\b(?:disagrees?|does not agree|do not agree|not accepted|does not accept|rejects?)\b", re.IGNORECASE
        ),
    ),
    ("agrees", re.compile(r"\b(?:agrees?|accepts?|accepted|endorses?|supports? the recommendation)\b", re.IGNORECASE)),
)
_BULLET = re.compile(r"^\s*(?:[•●▪◦‣∙·○■□➢►❖✓✔✚✦✧➤\-–—*]|\(?[a-z]\)|\(\d{1,2}\)|\d{1,2}[.)]|[ivx]{1,4}\))\s+")


class PassageLike(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def page(self) -> int: ...


@dataclass
class Response:
    stance: str
    text: str
    pages: list[int]


@dataclass
class Item:
    kind: str
    number: str | None
    text: str
    pages: list[int]
    rule: str
    first: int  # index of the passage where it starts
    fields: dict[str, str] = field(default_factory=dict)
    response: Response | None = None
    locations: int = 1


def lead_in_kind(text: str, section: str | None = None) -> str | None:
    """The kind of list a lead-in paragraph ("The key recommendations are:") introduces: the one kind it names, or
    the section's kind among several it names; None when it names none (or several, none of them the section's)."""
    named = [kind for kind, pattern in _LEAD_IN if pattern.search(text)]
    if section in named:
        return section
    return named[0] if len(named) == 1 else None


def strip_bullets(text: str) -> str:
    """A list item's text without its bullets ("- ✚ Text": a dash and a glyph)."""
    for _ in range(3):
        stripped = _BULLET.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return text


def stance_of(text: str) -> str:
    first = " ".join(text.split()[:60])
    for stance, pattern in _STANCE:
        if pattern.search(first):
            return stance
    return "noted"


def _split_fields(labels: list[str], values: list[str]) -> dict[str, str]:
    """The values of a flattened table of labels and values, by what each value looks like: the unit first, then
    a run of priorities, a run of time implications, a run of resource implications (several rows join with "; ")."""
    found: dict[str, str] = {}
    index = 0
    unit: list[str] = []
    while index < len(values) and not _PRIORITY.match(values[index]) and not _TIME.search(values[index]):
        unit.append(values[index])
        index += 1
    runs: dict[str, list[str]] = {"priority": [], "time_implication": [], "resource_implication": []}
    for name, pattern in (("priority", _PRIORITY), ("time_implication", _TIME), ("resource_implication", _RESOURCE)):
        while index < len(values) and pattern.search(values[index]):
            runs[name].append(values[index].strip())
            index += 1
    if unit and "responsible_unit" in labels:
        found["responsible_unit"] = " ".join(unit)
    for name, run in runs.items():
        if run and name in labels:
            found[name] = "; ".join(run)
    return found


def extract(passages: list[PassageLike]) -> list[Item]:
    items: list[Item] = []
    responses: dict[str, Response] = {}
    section_kind: str | None = None  # the kind of a list section we are in
    in_response = False
    list_counts: dict[str, int] = {}
    current: Item | None = None
    response_number: str | None = None
    field_labels: list[str] = []
    field_values: list[str] = []
    pending: list[Item] = []  # paragraphs of a conclusions or lessons section, kept unless the section has a list
    section_listed = False  # the section has list items (or numbered headings) as its items
    section_origin = ""  # "heading" (sub-headings do not end it), "label" ("Conclusion:"), "lead-in" (a sentence)

    def end_section() -> None:
        """The section's paragraphs become its items when it had no list."""
        nonlocal pending, section_listed
        if pending and not section_listed and section_origin != "lead-in":
            for item in pending:
                item.text = " ".join(item.text.split())
            items.extend(pending)
        pending, section_listed = [], False

    def close() -> None:
        nonlocal current, response_number, field_labels, field_values
        if current is not None:
            inline = _INLINE_UNIT.search(current.text) if current.kind == "recommendation" else None
            if inline is not None:  # "… the ILO's work. Responsible unit MIGRANT, PARDEV" joined into one paragraph
                current.text = current.text[: inline.start()]
                field_labels.insert(0, "responsible_unit")
                field_values.insert(0, inline[1])
            if field_labels:
                current.fields = {**_split_fields(field_labels, field_values), **current.fields}
            current.text = " ".join(current.text.split())
            if current.text:
                items.append(current)
        current = None
        response_number = None
        field_labels, field_values = [], []

    for index, passage in enumerate(passages):
        text = passage.text.strip()
        lowered = text.lower().rstrip(":")
        if passage.kind == "heading" and _RESPONSE_SECTION.search(text) and len(text) < 80:
            close()
            end_section()
            in_response, section_kind = True, None
            continue
        titled = (
            passage.kind == "paragraph" and len(text) <= 100 and not text.endswith(".")
        )  # a heading in all but name
        if passage.kind == "heading" or titled:
            section = next((kind for kind, pattern in _SECTIONS if pattern.match(text)), None)
            if section is not None:
                close()
                end_section()
                section_kind, in_response = section, False
                section_origin = "label" if titled and text.endswith(":") else "heading"
                list_counts[section] = 0
                continue
        headed = _HEADED_ITEM.match(text) if section_kind == "good_practice" and passage.kind == "heading" else None
        if headed is not None and current is None and int(headed[1]) == list_counts["good_practice"] + 1:
            list_counts["good_practice"] += 1  # a good practice under its own numbered heading: its details follow
            section_listed = True
            items.append(
                Item("good_practice", headed[1], headed[2], [passage.page], "numbered heading in section", index)
            )
            continue
        in_table = current is not None and current.kind == "recommendation" and passage.kind != "paragraph"
        if lowered in _FIELDS and (in_table or field_labels):  # a label of the table under a recommendation
            field_labels.append(_FIELDS[lowered])
            continue
        stated = _FIELD_LINE.match(text) if current is not None and current.kind == "recommendation" else None
        if stated is not None and current is not None:  # "Priority: High" on one line
            current.fields[_FIELDS[stated[1].lower()]] = " ".join(stated[2].split())
            continue
        answered = current.number if current is not None and current.kind == "recommendation" else None
        inline_response = _INLINE_RESPONSE.match(text) if answered else None
        if answered and inline_response is not None:  # "Office response: …" right under the recommendation
            close()
            responses[answered] = Response("noted", inline_response[1], [passage.page])
            continue
        match = _ITEM.match(text)
        if match is not None:
            close()
            kind = next(k for k, p in _LABELS if re.fullmatch(p, match["label"], re.IGNORECASE))
            number = match["number"]
            if in_response and kind == "recommendation":
                response_number = number
                responses[number] = Response("noted", match["rest"], [passage.page])
                continue
            current = Item(kind, number, match["rest"], [passage.page], "label", index)
            if kind == "key_finding" and match["rest"]:
                close()
            continue
        if response_number is not None:
            if passage.kind == "heading" and _NUMBERED.match(text):
                response_number, in_response = None, False
            else:
                answer = responses[response_number]
                answer.text = f"{answer.text} {text}".strip()
                if passage.page not in answer.pages:
                    answer.pages.append(passage.page)
                continue
        if current is not None:
            if field_labels:
                if passage.kind == "heading" and _NUMBERED.match(text):
                    close()
                else:
                    field_values.append(text)
                    continue
            elif passage.kind == "heading":
                if len(text) <= 2:  # a check-box or bullet glyph the PDF kept as a line
                    continue
                close()
            else:
                current.text += " " + text
                if passage.page not in current.pages:
                    current.pages.append(passage.page)
                continue
        if passage.kind == "heading":
            ends = _NUMBERED.match(text) or (text.isupper() and len(text) > 3) or _BACK_MATTER.match(text)
            if ends or section_origin != "heading":  # a section a paragraph opened ends at any heading
                close()
                end_section()
                section_kind, in_response = None, False
            continue
        in_paragraphs = section_kind in _PARAGRAPH_KINDS and section_origin != "lead-in" and not section_listed
        if in_paragraphs and passage.kind == "paragraph":
            criterion = _CRITERION.match(text)
            if criterion is None and ((len(text) < 80 and not _SENTENCE_END.search(text)) or text.endswith(":")):
                continue  # a sub-title ("New approaches: The corridor approach") or a lead-in, not an item
            if criterion is None and pending and _CRITERION.match(pending[-1].text):
                pending[-1].text += " " + text  # the criterion's conclusion goes on
                if passage.page not in pending[-1].pages:
                    pending[-1].pages.append(passage.page)
                continue
            assert section_kind is not None
            list_counts[section_kind] += 1
            rule = "criterion in section" if criterion else "paragraph in section"
            pending.append(Item(section_kind, str(list_counts[section_kind]), text, [passage.page], rule, index))
            continue
        headed_section = section_kind == "good_practice" and section_listed
        if passage.kind == "paragraph" and text.endswith(":") and len(text) <= 300 and not headed_section:
            introduced = lead_in_kind(text, section_kind)  # a lead-in starts a list of its kind, or ends a list
            if introduced != section_kind:
                end_section()
            if introduced is not None and introduced != section_kind:
                list_counts[introduced] = 0
                section_origin = "lead-in"
            section_kind = introduced
            continue
        question = section_kind == "evaluation_question" and passage.kind == "paragraph" and text.endswith("?")
        if section_kind is not None and (passage.kind == "list_item" or question):
            if section_listed and section_kind == "good_practice":
                continue  # the details of a good practice under its numbered heading
            if section_kind in _PARAGRAPH_KINDS and not section_listed:
                list_counts[section_kind] -= len(pending)  # a list: the paragraphs before it were its lead
                pending, section_listed = [], True
            list_counts[section_kind] += 1
            body = strip_bullets(text)
            items.append(
                Item(
                    section_kind,
                    str(list_counts[section_kind]),
                    " ".join(body.split()),
                    [passage.page],
                    "question in section" if question else "list in section",
                    index,
                )
            )
    close()
    end_section()
    items.sort(key=lambda item: item.first)
    merged = _merge(items)
    for item in merged:
        if item.kind == "recommendation" and item.number in responses:
            answer = responses[item.number]
            answer.text = " ".join(answer.text.split())
            answer.stance = stance_of(answer.text)
            item.response = answer
    return merged


def _merge(items: list[Item]) -> list[Item]:
    """Items with the same kind and number from the ``label`` rule are one item, found in several places."""
    kept: list[Item] = []
    seen: dict[tuple[str, str], Item] = {}
    for item in items:
        key = (item.kind, item.number or "")
        earlier = seen.get(key) if item.rule == "label" else None
        if earlier is None:
            kept.append(item)
            if item.rule == "label":
                seen[key] = item
            continue
        earlier.locations += 1
        earlier.pages = sorted(set(earlier.pages) | set(item.pages))
        for name, value in item.fields.items():
            earlier.fields.setdefault(name, value)
    return kept
