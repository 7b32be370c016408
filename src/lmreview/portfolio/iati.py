"""Reading IATI activity files (standard 2.01-2.03) into project records.

Funders publish their portfolios as IATI XML; importing it spares typing the register by hand. The file is first
checked by defusedxml (a DTD, and so any entity, is refused), then read again with expat to know the line of each
element, so every problem points at ``FILE:LINE:PATH``. Bad input never raises: it becomes a :class:`Problem`.

Mapping of one ``<iati-activity>``:

* code and iati_identifier: ``iati-identifier``; title: ``title/narrative`` (English, else the narrative without
  ``xml:lang`` when the activity's language is English, else the first one).
* objective: ``description[@type=2]`` (objectives), else the general description (type 1 or no type), which goes
  to extra["description"] when objectives exist; target groups (type 3) go to extra["target_groups"].
* ``activity-date`` types 1-4: planned_start/planned_end from 1/3; start_date = actual (2) else planned start;
  end_date = actual (4) else planned end; planned_months from the planned dates; nce_months = months from the day
  after the planned end to the actual end (0 when the activity ended on time or early).
* status: ``activity-status/@code`` as its IATI name.
* flags: an end date more than PLACEHOLDER_YEARS years after the file's date (``generated-datetime``, else the
  activity's ``last-updated-datetime``, else today) is a placeholder (2050-12-31, 2099-12-31...); an actual end at
  least EARLY_MONTHS months before the planned end means the activity ended early. Either is a warning and sets
  extra["duration_flag"], which keeps the activity out of the duration and NCE statistics (portfolio/stats.py).
* budgets (:mod:`lmreview.portfolio.iati_budgets`): each ``budget`` (type 1 original / 2 revised, status 1
  indicative / 2 committed; no status means indicative). budget_usd sums, per distinct period, the revised budget
  (the last one) else the original, and only when all of those are in USD; otherwise it stays empty with a warning
  (no conversion is made). A negative line is kept, counted as published and warned about; a negative total leaves
  budget_usd empty. An amount must fit the store's amount column (at most 2 decimals, within +-MAX_AMOUNT).
  ``@budget-not-provided`` goes to extra["budget_not_provided"].
* countries: ``recipient-country`` (ISO alpha-2); ``recipient-region`` becomes a ``region:<vocabulary>`` tag, and
  the region when it is the only one; ``sector`` and ``policy-marker`` become tags too.
* results: ``result`` (1 output, 2 outcome, 3 impact, 9 other) with indicators, baselines and periods (the first
  target and actual of a period); results are flat.
* extra["reporting_org"], extra["participating_orgs"] ("Name (Funding); Name (Implementing)").
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError, TreeBuilder
from xml.parsers import expat

import defusedxml
import defusedxml.ElementTree as safe_et

from lmreview.errors import Problem
from lmreview.portfolio import countries
from lmreview.portfolio.dates import add_months, whole_months
from lmreview.portfolio.iati_budgets import read_budgets
from lmreview.portfolio.iati_xml import File as _File
from lmreview.portfolio.iati_xml import attr as _attr
from lmreview.portfolio.iati_xml import day as _day
from lmreview.portfolio.iati_xml import decimal as _decimal
from lmreview.portfolio.iati_xml import read_date as _date
from lmreview.portfolio.schemas import (
    CountryRef,
    IndicatorPeriodRecord,
    IndicatorRecord,
    ProjectRecord,
    ResultRecord,
    TagRef,
)


def _codelist(text: str) -> dict[str, str]:
    """An IATI codelist written compactly as "code name | code name | ..."."""
    return dict(item.strip().split(" ", 1) for item in text.split(" | "))


XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MAX_CODE = 80  # the length of a project code in the register
KNOWN_VERSIONS = ("2.01", "2.02", "2.03")

DATE_TYPES = {"1": "planned start", "2": "actual start", "3": "planned end", "4": "actual end"}
STATUSES = _codelist(
    "1 Pipeline/identification | 2 Implementation | 3 Finalisation | 4 Closed | 5 Cancelled | 6 Suspended"
)
PLACEHOLDER_YEARS = 15  # an end date this far after the file's date is a placeholder, not a plan
EARLY_MONTHS = 3  # an actual end this many months or more before the planned end: the activity ended early
RESULT_LEVELS = {"1": "output", "2": "outcome", "3": "impact", "9": "other"}
MEASURES = {"1": "unit", "2": "percentage", "3": "nominal", "4": "ordinal", "5": "qualitative"}
ORG_ROLES = {"1": "Funding", "2": "Accountable", "3": "Extending", "4": "Implementing"}
BOOLEANS = {"1": True, "true": True, "0": False, "false": False}
# IATI Region codelist (OECD DAC regions, vocabulary 1)
DAC_REGIONS = _codelist(
    "88 States Ex-Yugoslavia unspecified | 89 Europe, regional | 189 North of Sahara, regional | "
    "289 South of Sahara, regional | 298 Africa, regional | 380 West Indies, regional | "
    "389 North & Central America, regional | 489 South America, regional | 498 America, regional | "
    "589 Middle East, regional | 619 Central Asia, regional | 679 South Asia, regional | "
    "689 South & Central Asia, regional | 789 Far East Asia, regional | 798 Asia, regional | "
    "889 Oceania, regional | 998 Developing countries, unspecified | 1027 Eastern Africa, regional | "
    "1028 Middle Africa, regional | 1029 Southern Africa, regional | 1030 Western Africa, regional | "
    "1031 Caribbean, regional | 1032 Central America, regional | 1033 Melanesia, regional | "
    "1034 Micronesia, regional | 1035 Polynesia, regional"
)
# IATI PolicyMarker codelist (OECD DAC CRS, vocabulary 1)
POLICY_MARKERS = _codelist(
    "1 Gender Equality | 2 Aid to Environment | 3 Participatory Development/Good Governance | "
    "4 Trade Development | 5 Aid Targeting the Objectives of the Convention on Biological Diversity | "
    "6 Aid Targeting the Objectives of the Framework Convention on Climate Change - Mitigation | "
    "7 Aid Targeting the Objectives of the Framework Convention on Climate Change - Adaptation | "
    "8 Aid Targeting the Objectives of the Convention to Combat Desertification | "
    "9 Reproductive, Maternal, Newborn and Child Health (RMNCH) | 10 Disaster Risk Reduction(DRR) | "
    "11 Disability | 12 Nutrition"
)

_YEAR = re.compile(r"^\d{4}$")


def parse_iati(data: bytes, filename: str) -> tuple[list[ProjectRecord], list[Problem]]:
    """The activities of an IATI activity file as project records, and the problems found (never raises)."""

    def whole(message: str, row: int = 0) -> tuple[list[ProjectRecord], list[Problem]]:
        return [], [Problem(filename, row, "-", message)]

    if not data.strip():
        return whole("the file is empty")
    try:
        safe_et.fromstring(data, forbid_dtd=True)
        root, lines = _tree(data)
    except defusedxml.DefusedXmlException:  # with forbid_dtd, any DTD (and so any entity) ends up here
        return whole(
            "the file declares a DTD (<!DOCTYPE ...>), which can define entities; IATI files have none and lmreview "
            "refuses it for safety: remove the DOCTYPE declaration"
        )
    except ParseError as exc:
        reason = re.sub(r": line \d+, column \d+$", "", str(exc))
        return whole(f"this is not well-formed XML ({reason}); is it an IATI activity file?", exc.position[0])
    except (expat.ExpatError, ValueError) as exc:
        return whole(f"this is not well-formed XML ({exc}); is it an IATI activity file?")

    f = _File(filename, lines, _day(_attr(root, "generated-datetime")))
    if root.tag == "iati-organisations":
        return whole("this is an IATI organisation file; lmreview imports activity files (<iati-activities>)")
    if root.tag != "iati-activities":
        return whole(f"the root element is <{root.tag}>, not <iati-activities>; is this an IATI activity file?")
    version = _attr(root, "version")
    if version.startswith("1."):
        f.error(
            root,
            "iati-activities/@version",
            f"this file uses IATI version {version}; lmreview reads only versions 2.01-2.03 (2.0x): "
            "publish or export it again as 2.03",
        )
        return [], f.problems
    if version not in KNOWN_VERSIONS:
        shown = f"version {version!r}" if version else "no version"
        f.warn(root, "iati-activities/@version", f"the file has {shown}; it is read as IATI 2.03")
    activities = root.findall("iati-activity")
    if not activities:
        return whole("the file has no <iati-activity>: there is nothing to import")

    records: list[ProjectRecord] = []
    first_line: dict[str, int] = {}
    for activity in activities:
        record = _activity(f, activity, root.get(XML_LANG))
        if record is None:
            continue
        if record.code in first_line:
            ident = activity.find("iati-identifier")
            f.error(
                ident if ident is not None else activity,
                "iati-identifier",
                f'"{record.code}" is already the identifier of the activity on line {first_line[record.code]}; '
                "identifiers must be unique in a file",
            )
            continue
        first_line[record.code] = record.row
        records.append(record)
    return records, f.problems


def _tree(data: bytes) -> tuple[Element, dict[Element, int]]:
    """The document and the line of each element. ``data`` has passed defusedxml; a DTD is refused again here."""
    builder = TreeBuilder()
    lines: dict[Element, int] = {}
    parser = expat.ParserCreate(namespace_separator="}")

    def name(raw: str) -> str:
        return "{" + raw if "}" in raw else raw

    def start(tag: str, attrs: dict[str, str]) -> None:
        element = builder.start(name(tag), {name(k): v for k, v in attrs.items()})
        lines[element] = parser.CurrentLineNumber

    def refuse(*_: object) -> None:
        raise ValueError("a DTD is not allowed")

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda tag: builder.end(name(tag))
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = refuse
    parser.Parse(data, True)
    return builder.close(), lines


def _text(element: Element | None, lang: str | None, *, block: bool = False) -> str:
    """The English narrative of ``element`` (see the module docstring), whitespace tidied; "" when there is none."""
    if element is None:
        return ""
    narratives = [n for n in element.findall("narrative") if "".join(n.itertext()).strip()]
    if not narratives:  # 1.x style: the text is in the element itself
        raw = "".join(element.itertext()) if not element.findall("narrative") else ""
    else:

        def is_en(value: str | None) -> bool:
            return (value or "").lower().split("-")[0] == "en"

        chosen = next((n for n in narratives if is_en(n.get(XML_LANG))), None)
        if chosen is None and is_en(lang):
            chosen = next((n for n in narratives if not n.get(XML_LANG)), None)
        raw = "".join((chosen if chosen is not None else narratives[0]).itertext())
    if not block:
        return " ".join(raw.split())
    paragraphs = [" ".join(line.split()) for line in raw.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(paragraphs)).strip()


def _percentage(f: _File, element: Element, column: str) -> Decimal | None:
    text = _attr(element, "percentage")
    if not text:
        return None
    value = _decimal(text)
    if value is None or not 0 <= value <= 100:
        f.error(element, column, f'"{text}" is not a percentage; write a number from 0 to 100, e.g. 40')
        return None
    return value


def _add(total: Decimal | None, percentage: Decimal | None) -> Decimal | None:
    if percentage is None:
        return total
    return percentage if total is None else total + percentage


def _activity(f: _File, activity: Element, default_lang: str | None) -> ProjectRecord | None:
    """One activity as a record, or None when it has no usable identifier or title."""
    lang = activity.get(XML_LANG) or default_lang
    ident = activity.find("iati-identifier")
    code = " ".join("".join(ident.itertext()).split()) if ident is not None else ""
    title = _text(activity.find("title"), lang)
    usable = True
    if not code:
        f.error(
            activity, "iati-identifier", "the activity has no iati-identifier; add one (it becomes the project code)"
        )
        usable = False
    elif len(code) > MAX_CODE:
        f.error(
            ident if ident is not None else activity,
            "iati-identifier",
            f"an identifier used as project code is at most {MAX_CODE} characters",
        )
        usable = False
    if not title:
        f.error(activity, "title", "the activity has no title; add <title><narrative>...</narrative></title>")
        usable = False
    record = ProjectRecord(row=f.line(activity), code=code, title=title, iati_identifier=code or None)
    _descriptions(record, activity, lang)
    _dates(f, record, activity)
    status = activity.find("activity-status")
    if status is not None:
        record.status = STATUSES.get(status.get("code", ""))
        if record.status is None:
            f.warn(status, "activity-status/@code", f"{status.get('code')!r} is not an IATI activity status (1-6)")
    read_budgets(f, record, activity)
    _places(f, record, activity, lang)
    _tags(f, record, activity, lang)
    record.results = [_result(f, r, lang) for r in activity.findall("result")]
    _orgs(record, activity, lang)
    return record if usable else None


def _descriptions(record: ProjectRecord, activity: Element, lang: str | None) -> None:
    by_type: dict[str, list[str]] = {}
    for element in activity.findall("description"):
        text = _text(element, lang, block=True)
        if text:
            by_type.setdefault(element.get("type") or "1", []).append(text)
    general, objectives = "\n\n".join(by_type.get("1", [])), "\n\n".join(by_type.get("2", []))
    record.objective = objectives or general or None
    if objectives and general:
        record.extra["description"] = general
    if by_type.get("3"):
        record.extra["target_groups"] = "\n\n".join(by_type["3"])


def _dates(f: _File, record: ProjectRecord, activity: Element) -> None:
    found: dict[str, tuple[dt.date, Element]] = {}
    for element in activity.findall("activity-date"):
        kind = _attr(element, "type")
        if kind not in DATE_TYPES:
            f.error(
                element,
                "activity-date/@type",
                f"{kind!r} is not an activity date type; use 1 (planned start), 2 (actual start), "
                "3 (planned end) or 4 (actual end)",
            )
            continue
        day = _date(f, element, None, "activity-date/@iso-date")
        if day is None:
            continue
        if kind in found:
            f.warn(element, "activity-date/@type", f"a second {DATE_TYPES[kind]} date; the first one is kept")
            continue
        found[kind] = (day, element)
    planned_start, actual_start, planned_end, actual_end = (found.get(k) for k in ("1", "2", "3", "4"))
    start, end = actual_start or planned_start, actual_end or planned_end
    checked: set[tuple[int, int]] = set()
    for first, last in ((planned_start, planned_end), (actual_start, actual_end), (start, end)):
        if first is None or last is None or (id(first[1]), id(last[1])) in checked:
            continue
        checked.add((id(first[1]), id(last[1])))
        if last[0] < first[0]:
            f.error(
                last[1],
                "activity-date/@iso-date",
                f"the {DATE_TYPES[last[1].get('type', '')]} {last[0]} is before the "
                f"{DATE_TYPES[first[1].get('type', '')]} {first[0]}; check both dates",
            )
    record.planned_start = planned_start[0] if planned_start else None
    record.planned_end = planned_end[0] if planned_end else None
    record.start_date = start[0] if start else None
    record.end_date = end[0] if end else None
    if record.planned_start and record.planned_end and record.planned_end >= record.planned_start:
        record.planned_months = Decimal(whole_months(record.planned_start, record.planned_end))
    if actual_end and record.planned_end:
        if actual_end[0] > record.planned_end:
            extended = record.planned_end + dt.timedelta(days=1)
            record.nce_months = Decimal(whole_months(extended, actual_end[0]))
        else:
            record.nce_months = Decimal(0)
    _flag_dates(f, record, activity, planned_end, actual_end)


def _flag_dates(
    f: _File,
    record: ProjectRecord,
    activity: Element,
    planned_end: tuple[dt.date, Element] | None,
    actual_end: tuple[dt.date, Element] | None,
) -> None:
    """Warn about, and flag for the statistics, a placeholder end date and an activity that ended early."""
    updated = _day(_attr(activity, "last-updated-datetime"))
    reference, said = next(
        (
            (day, what)
            for day, what in (
                (f.generated, "the file's date"),
                (updated, "the activity's last update"),
                (dt.date.today(), "today"),
            )
            if day is not None
        )
    )
    limit = add_months(reference, 12 * PLACEHOLDER_YEARS)
    who = f"activity {record.code}" if record.code else "the activity"
    for end in (planned_end, actual_end):
        if end is not None and end[0] > limit:
            kind = DATE_TYPES[end[1].get("type", "")]
            years = (end[0] - reference).days // 365
            record.extra["duration_flag"] = f"placeholder end date ({kind} {end[0]})"
            f.warn(
                end[1],
                "activity-date/@iso-date",
                f"{who}: the {kind} {end[0]} is {years} years after {said} ({reference}), a placeholder rather "
                "than a date; its duration and NCE are left out of the duration statistics",
            )
            return
    if planned_end and actual_end and actual_end[0] < planned_end[0]:
        early = whole_months(actual_end[0] + dt.timedelta(days=1), planned_end[0])
        if early >= EARLY_MONTHS:
            record.extra["duration_flag"] = f"ended early (actual end {actual_end[0]}, planned end {planned_end[0]})"
            f.warn(
                actual_end[1],
                "activity-date/@iso-date",
                f"{who} ended {early} months early (actual end {actual_end[0]}, planned end {planned_end[0]}); "
                "its planned duration is not what it lasted, so it is left out of the duration statistics",
            )


def _places(f: _File, record: ProjectRecord, activity: Element, lang: str | None) -> None:
    total: Decimal | None = None
    for element in activity.findall("recipient-country"):
        code = _attr(element, "code")
        percentage = _percentage(f, element, "recipient-country/@percentage")
        total = _add(total, percentage)
        country = countries.resolve(code) if code else None
        if country is None:
            f.warn(element, "recipient-country/@code", f"{code!r} is not an ISO 3166 country code; kept as written")
            ref = CountryRef(name=code or "?", percentage=percentage)
        else:
            ref = CountryRef(name=country.name, iso3=country.iso3, percentage=percentage)
        if any((r.iso3 or r.name) == (ref.iso3 or ref.name) for r in record.countries):
            f.warn(element, "recipient-country/@code", f"{code} is listed twice; the first is kept")
            continue
        record.countries.append(ref)
    regions: list[tuple[TagRef, Element]] = []
    for element in activity.findall("recipient-region"):
        vocabulary = _attr(element, "vocabulary", "1")
        code = _attr(element, "code")
        percentage = _percentage(f, element, "recipient-region/@percentage")
        total = _add(total, percentage)
        name = _text(element, lang) or (DAC_REGIONS.get(code) if vocabulary == "1" else None)
        regions.append((TagRef(f"region:{vocabulary}", code, name or None, percentage), element))
    if total is not None and total != 100:
        f.warn(
            activity,
            "recipient-country/@percentage",
            f"the recipient country and region percentages add up to {total}, not 100",
        )
    if len(regions) == 1:
        record.region = regions[0][0].name or regions[0][0].code
    _add_tags(f, record, regions)


def _tags(f: _File, record: ProjectRecord, activity: Element, lang: str | None) -> None:
    tags: list[tuple[TagRef, Element]] = []
    for element in activity.findall("sector"):
        vocabulary = _attr(element, "vocabulary", "1")
        percentage = _percentage(f, element, "sector/@percentage")
        name = _text(element, lang) or None
        tags.append((TagRef(f"sector:{vocabulary}", _attr(element, "code"), name, percentage), element))
    for element in activity.findall("policy-marker"):
        vocabulary = _attr(element, "vocabulary", "1")
        code = _attr(element, "code")
        name = _text(element, lang) or (POLICY_MARKERS.get(code) if vocabulary == "1" else None)
        text = _attr(element, "significance")
        significance = int(text) if re.fullmatch(r"[0-4]", text) else None
        if text and significance is None:
            f.error(element, "policy-marker/@significance", f'"{text}" is not a policy significance; use 0 to 4')
        tags.append((TagRef(f"policy-marker:{vocabulary}", code, name, significance=significance), element))
    _add_tags(f, record, tags)


def _add_tags(f: _File, record: ProjectRecord, tags: list[tuple[TagRef, Element]]) -> None:
    """Append ``tags`` once each: the register holds a code of a scheme at most once per project."""
    for tag, element in tags:
        column = f"{element.tag}/@code"
        if not tag.code:
            f.error(element, column, f"the <{element.tag}> has no code")
        elif any((t.scheme, t.code) == (tag.scheme, tag.code) for t in record.tags):
            f.warn(element, column, f"{tag.code} ({tag.scheme}) is listed twice; the first is kept")
        else:
            record.tags.append(tag)


def _result(f: _File, element: Element, lang: str | None) -> ResultRecord:
    level = RESULT_LEVELS.get(element.get("type") or "")
    if level is None:
        f.warn(element, "result/@type", f"{element.get('type')!r} is not a result type (1, 2, 3 or 9); read as other")
        level = "other"
    title = _text(element.find("title"), lang)
    if not title:
        f.warn(element, "result/title", "the result has no title")
    result = ResultRecord(
        level, title or f"(untitled {level})", _text(element.find("description"), lang, block=True) or None
    )
    for ind in element.findall("indicator"):
        measure = MEASURES.get(ind.get("measure") or "")
        if measure is None:
            f.warn(ind, "result/indicator/@measure", f"{ind.get('measure')!r} is not an indicator measure (1-5)")
        ascending = BOOLEANS.get(_attr(ind, "ascending").lower())
        title = _text(ind.find("title"), lang)
        if not title:
            f.warn(ind, "result/indicator/title", "the indicator has no title")
        indicator = IndicatorRecord(
            title or "(untitled indicator)",
            measure,
            ascending,
            description=_text(ind.find("description"), lang, block=True) or None,
        )
        baseline = ind.find("baseline")
        if baseline is not None:
            indicator.baseline = _attr(baseline, "value") or None
            year = _attr(baseline, "year")
            if year and not _YEAR.match(year):
                f.error(baseline, "result/indicator/baseline/@year", f'"{year}" is not a year; write four digits')
            elif year:
                indicator.baseline_year = int(year)
            elif baseline.get("iso-date"):
                day = _date(f, baseline, None, "result/indicator/baseline/@iso-date")
                indicator.baseline_year = day.year if day else None
        for period in ind.findall("period"):
            column = "result/indicator/period/{}/@iso-date"
            start = _date(f, period, "period-start", column.format("period-start"))
            end = _date(f, period, "period-end", column.format("period-end"))
            if start and end and end < start:
                f.error(period, column.format("period-end"), f"the period ends ({end}) before it starts ({start})")
            indicator.periods.append(
                IndicatorPeriodRecord(
                    start,
                    end,
                    _attr(period.find("target"), "value") or None,
                    _attr(period.find("actual"), "value") or None,
                )
            )
        result.indicators.append(indicator)
    return result


def _orgs(record: ProjectRecord, activity: Element, lang: str | None) -> None:
    reporting = activity.find("reporting-org")
    if reporting is not None:
        name = _text(reporting, lang) or _attr(reporting, "ref")
        if name:
            record.extra["reporting_org"] = name
    parts: list[str] = []
    for org in activity.findall("participating-org"):
        name = _text(org, lang) or _attr(org, "ref")
        role = ORG_ROLES.get(org.get("role") or "")
        if name:
            parts.append(f"{name} ({role})" if role else name)
    if parts:
        record.extra["participating_orgs"] = "; ".join(parts)
