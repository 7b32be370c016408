"""Extraction of recommendations (with their fields and the response to them), key findings and lessons, measured
against gold annotations of the source documents, and exact on reports the tests write as PDF, DOCX and HTML.

The gold annotations (tests/evidence_gold.py) were written by reading the seeds: each item is (kind, number, the
first words of its text); a recommendation of 003 also has its priority, time implication and the stance of the
Office response. Quality is measured, not assumed: precision and recall per kind and document must reach the targets
of issue 9 (0.95 for recommendations and responses, 0.9 for lessons and key findings)."""

from __future__ import annotations

# own-words: gold annotations (the items each seed holds, quoted as the extraction must find them)
import json
import re
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.evidence_gold import GOLD, GOLD_003_TABLES, KINDS, TARGETS, located, precision_recall


@pytest.fixture
def seed_items(cli: Cli, seeds: Path) -> dict[str, list[dict[str, object]]]:
    files = [str(p) for p in sorted(seeds.glob("00[0-3]_*.txt"))]
    assert cli("evidence", "add", *files, "--jobs", "1").exit_code == 0
    names = {d["id"]: str(d["file"])[:3] for d in json.loads(cli("evidence", "list", "--json").stdout)}
    run = cli("evidence", "items", "--json")
    assert run.exit_code == 0, run.stderr
    by_document: dict[str, list[dict[str, object]]] = {}
    for item in json.loads(run.stdout):
        by_document.setdefault(names[item["document"]], []).append(item)
    return by_document


@pytest.mark.parametrize("seed", sorted(GOLD))
def test_quality_against_the_gold_annotations(seed_items: dict[str, list[dict[str, object]]], seed: str) -> None:
    """Every kind in every seed: a kind the seed has none of must not be found in it."""
    gold = GOLD[seed]
    for kind in KINDS:
        precision, recall = precision_recall(seed_items[seed], gold, kind)
        assert precision >= TARGETS[kind], f"{seed} {kind}: precision {precision:.2f}"
        assert recall >= TARGETS[kind], f"{seed} {kind}: recall {recall:.2f}"


def test_recommendations_of_003_have_their_table_and_the_office_response(
    seed_items: dict[str, list[dict[str, object]]],
) -> None:
    recommendations = [i for i in seed_items["003"] if i["kind"] == "recommendation"]
    found = {}
    for item in recommendations:
        fields, response = item["fields"], item["response"]
        assert isinstance(fields, dict)
        assert isinstance(response, dict)
        found[str(item["number"])] = (fields["priority"], fields["time_implication"], response["stance"])
    assert found == GOLD_003_TABLES
    first = recommendations[0]
    assert isinstance(first["fields"], dict)
    assert first["fields"]["responsible_unit"].startswith("Labour Migration (MIGRANT), Department of Communication")
    assert first["fields"]["resource_implication"] == "Low–medium (dissemination); Medium (on-the-ground presence)"
    assert isinstance(first["response"], dict)
    assert str(first["response"]["text"]).startswith("The Office generally agrees with the recommendation")


def test_items_point_to_the_line_the_gold_gives(seeds: Path) -> None:
    """Each annotated evaluation question, good practice, conclusion and lesson of 003 found starts on the line of the
    seed text that the gold annotation gives (at least the target's share of them)."""
    from lmreview.evidence.service import Parsed, parse

    for seed in sorted(GOLD):
        path = next(seeds.glob(f"{seed}_*.txt"))
        text = path.read_text(encoding="utf-8")
        parsed = parse(path.read_bytes(), path.name)
        assert isinstance(parsed, Parsed)
        found: list[dict[str, object]] = [
            {
                "kind": i.kind,
                "number": i.number,
                "text": i.text,
                "lines": [text.count("\n", 0, parsed.passages[i.first].char_start) + 1],
            }
            for i in parsed.items
        ]
        for kind in KINDS:
            hits, lined = located(found, GOLD[seed], kind)
            assert hits >= TARGETS[kind] * lined, f"{seed} {kind}: {hits} of {lined} at their line"


def test_precision_counts_wrong_items() -> None:
    """The measure itself: an extra item lowers precision, a missing one recall."""
    gold = [("lesson", "1", "Alpha beta"), ("lesson", "2", "Gamma")]
    found: list[dict[str, object]] = [
        {"kind": "lesson", "number": "1", "text": "Alpha beta gamma"},
        {"kind": "lesson", "number": "3", "text": "Delta"},
    ]
    assert precision_recall(found, gold, "lesson") == (0.5, 0.5)


REPORT = """<!doctype html><html><head><meta charset="utf-8">
<title>Final evaluation of the Border Skills project</title>
<style>@page {{ size: A5; margin: 2cm }} body {{ font-family: sans-serif; font-size: 10pt }}
h2 {{ break-before: page }} td {{ padding: 2pt 8pt }}</style></head><body>
<h1>Final evaluation of the Border Skills project</h1>
<p>Commissioned by: IOM</p>
<h2>2. Evaluation questions</h2>
<p>To what extent did the training change recruitment practices?</p>
<ul style="list-style: none"><li>• Were the certificates recognised by employers?</li></ul>
<h2>5. Lessons learned</h2>
<ul style="list-style: none"><li>• Joint training of border officials and employers built trust between them.</li>
<li>• Certificates issued in two languages were recognised faster.</li></ul>
<h2>6. Recommendations</h2>
<h3>Recommendation 1</h3>
<p>Publish the skills standards in every language of the corridor.</p>
<table><tr><td>Responsible unit</td><td>IOM Nairobi</td></tr><tr><td>Priority</td><td>High</td></tr>
<tr><td>Time implication</td><td>Short-term</td></tr><tr><td>Resource implication</td><td>Low</td></tr></table>
<h3>Recommendation 2</h3>
<p>Fund a follow-up survey of certified workers one year after their return.</p>
<h2>7. Management response</h2>
<h3>Recommendation 1</h3>
<p>Management partially agrees: the standards will be published in the two main languages first.</p>
<h3>Recommendation 2</h3>
<p>Management does not agree, as the project has closed.</p>
</body></html>"""


def _report_files(folder: Path) -> list[Path]:
    """The same report as HTML, PDF and DOCX. The PDF's bullets are text before each item, as word processors
    write them (WeasyPrint draws list markers apart from their text, and apart they are not read as bullets)."""
    import docx
    from weasyprint import HTML

    html = folder / "border-skills.html"
    html.write_text(REPORT.format(), encoding="utf-8")
    pdf = folder / "border-skills.pdf"
    HTML(string=REPORT.format()).write_pdf(pdf)
    document = docx.Document()
    document.add_heading("Final evaluation of the Border Skills project (DOCX)", 0)
    document.add_heading("2. Evaluation questions", 1)
    document.add_paragraph("To what extent did the training change recruitment practices?")
    document.add_paragraph("Were the certificates recognised by employers?", "List Bullet")
    document.add_heading("5. Lessons learned", 1)
    document.add_paragraph("Joint training of border officials and employers built trust between them.", "List Bullet")
    document.add_paragraph("Certificates issued in two languages were recognised faster.", "List Bullet")
    document.add_heading("6. Recommendations", 1)
    document.add_heading("Recommendation 1", 2)
    document.add_paragraph("Publish the skills standards in every language of the corridor.")
    table = document.add_table(rows=4, cols=2)
    for row, (label, value) in enumerate(
        (
            ("Responsible unit", "IOM Nairobi"),
            ("Priority", "High"),
            ("Time implication", "Short-term"),
            ("Resource implication", "Low"),
        )
    ):
        table.cell(row, 0).text, table.cell(row, 1).text = label, value
    document.add_heading("Recommendation 2", 2)
    document.add_paragraph("Fund a follow-up survey of certified workers one year after their return.")
    document.add_heading("7. Management response", 1)
    document.add_heading("Recommendation 1", 2)
    document.add_paragraph(
        "Management partially agrees: the standards will be published in the two main languages first."
    )
    document.add_heading("Recommendation 2", 2)
    document.add_paragraph("Management does not agree, as the project has closed.")
    path = folder / "border-skills.docx"
    document.save(str(path))
    return [html, pdf, path]


def test_extraction_is_the_same_in_every_format(cli: Cli, tmp_path: Path) -> None:
    files = _report_files(tmp_path)
    assert cli("evidence", "add", *map(str, files), "--jobs", "1").exit_code == 0
    documents = {d["id"]: d["format"] for d in json.loads(cli("evidence", "list", "--json").stdout)}
    for document_id, fmt in documents.items():
        run = cli("evidence", "items", "--document", str(document_id), "--json")
        items = [
            (i["kind"], i["number"], i["text"], i["fields"], i["response"] and i["response"]["stance"])
            for i in json.loads(run.stdout)
        ]
        assert items == [
            ("evaluation_question", "1", "To what extent did the training change recruitment practices?", {}, None),
            ("evaluation_question", "2", "Were the certificates recognised by employers?", {}, None),
            ("lesson", "1", "Joint training of border officials and employers built trust between them.", {}, None),
            ("lesson", "2", "Certificates issued in two languages were recognised faster.", {}, None),
            (
                "recommendation",
                "1",
                "Publish the skills standards in every language of the corridor.",
                {
                    "responsible_unit": "IOM Nairobi",
                    "priority": "High",
                    "time_implication": "Short-term",
                    "resource_implication": "Low",
                },
                "partially_agrees",
            ),
            (
                "recommendation",
                "2",
                "Fund a follow-up survey of certified workers one year after their return.",
                {},
                "disagrees",
            ),
        ], fmt
    text = cli("evidence", "items", "--kind", "recommendation", "--document", str(next(iter(documents))))
    assert "recommendation 1 (p. " in text.stdout
    assert "    priority: High" in text.stdout
    assert "    response (partially agrees): Management partially agrees" in text.stdout
    assert cli("evidence", "items", "--kind", "anecdote").exit_code == 2


def test_an_office_response_line_under_a_recommendation_is_its_response(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "passports.txt").write_text(
        "Evaluation of the passport scheme\n\nRecommendations\n\n"
        "Recommendation 1: Publish the list of agencies that signed the pledge.\n\n"
        "Office response: The Office agrees and will publish the list by June.\n\n"
        "The scheme ran in three districts.\n",
        encoding="utf-8",
    )
    assert cli("evidence", "add", str(tmp_path / "passports.txt")).exit_code == 0
    [item] = json.loads(cli("evidence", "items", "--kind", "recommendation", "--json").stdout)
    assert item["text"] == "Publish the list of agencies that signed the pledge."
    assert item["response"] == {
        "stance": "agrees",
        "text": "The Office agrees and will publish the list by June.",
        "pages": [1],
    }


def _items(cli: Cli, path: Path) -> list[tuple[str, str, str]]:
    run = cli("evidence", "add", str(path))
    assert run.exit_code == 0, run.stderr
    return [(i["kind"], i["number"], i["text"]) for i in json.loads(cli("evidence", "items", "--json").stdout)]


def test_lists_a_lead_in_paragraph_introduces(cli: Cli, tmp_path: Path) -> None:
    """No heading names these lists: a paragraph ending in a colon does ("The main findings are:"); one that names
    no kind ends the list, and so do the annexes. Glyph bullets after a dash are not part of the text."""
    (tmp_path / "ferries.txt").write_text(
        "Review of the ferry workers' project\n\nSummary\n\n"
        "The key findings of this review are:\n\n"
        "- ✚ Two thirds of the trained crews found work within a year.\n"
        "- ✚ The licence office kept the new register after the project.\n\n"
        "Key recommendations:\n\n"
        "- ✦ Extend the register to the river ports.\n\n"
        "Findings\n\n"
        "Budget figures by year:\n\n"
        "- 2019 was the first year of spending.\n\n"
        "Recommendations for Monitoring\n\n"
        "- ✦ Count the crews again after two years, with the licence office\n\n"
        "General Recommendations\n\n"
        "- ✦ Publish the register.\n\n"
        "Annexes\n\n"
        "- Terms of reference\n",
        encoding="utf-8",
    )
    assert _items(cli, tmp_path / "ferries.txt") == [
        ("key_finding", "1", "Two thirds of the trained crews found work within a year."),
        ("key_finding", "2", "The licence office kept the new register after the project."),
        ("recommendation", "1", "Extend the register to the river ports."),
        ("recommendation", "1", "Count the crews again after two years, with the licence office"),
        ("recommendation", "1", "Publish the register."),
    ]


PDF_REPORT = """<!doctype html><html><head><meta charset="utf-8"><title>Ferry crews</title>
<style>@page {{ size: A5; margin: 2cm }} body {{ font-family: serif; font-size: 10pt }}
h2 {{ font-size: 16pt }}</style></head><body>
<h2>Lessons learned</h2>
<ul><li>Crews trained together kept in touch after the course.</li>
<li>Exams in the crews' own language were passed more often</li></ul>
<h2>Recommendations for Future Ferry Workers' Training Projects in the Region</h2>
<ul style="list-style: square"><li>Hold the exams in the crews' own language.</li></ul>
<h2>1. Background</h2><h2>1.1 The ferries</h2>
<p>The project ran for two years on three ferry lines.</p>
</body></html>"""


def test_a_pdf_list_with_markers_drawn_apart_and_a_wrapped_heading(cli: Cli, tmp_path: Path) -> None:
    """WeasyPrint draws list markers after a page's text (they are put back on their lines); a heading the page
    wraps over two lines is one heading, two headings in a row stay two, and a heading after a list item that
    does not end in a full stop is not that item's last line."""
    from weasyprint import HTML

    HTML(string=PDF_REPORT.format()).write_pdf(tmp_path / "ferries.pdf")
    assert _items(cli, tmp_path / "ferries.pdf") == [
        ("lesson", "1", "Crews trained together kept in touch after the course."),
        ("lesson", "2", "Exams in the crews' own language were passed more often"),
        ("recommendation", "1", "Hold the exams in the crews' own language."),
    ]
    document = json.loads(cli("evidence", "list", "--json").stdout)[0]
    show = cli("evidence", "show", str(document["id"])).stdout
    outline = [line.split("  ", 2)[-1] for line in show.split("outline:")[1].splitlines() if line.strip()]
    assert outline == [
        "Lessons learned",
        "Recommendations for Future Ferry Workers' Training Projects in the Region",
        "1. Background",
        "1.1 The ferries",
    ]


def test_items_across_the_library_filtered_by_project_organisation_and_year(cli: Cli, tmp_path: Path) -> None:
    """The CLI narrows the items of every document by project, organisation and years, as the web page does."""
    reports = (
        ("ilo-2018.txt", "ILO", 2018, "GLO/06/57/UKM", "Register the recruitment agencies of the corridor."),
        ("iom-2021.txt", "IOM", 2021, "LM.0181", "Train the labour inspectors of the three districts."),
        ("iom-2023.txt", "IOM", 2023, "LM.0200", "Translate the contracts into the workers' languages."),
    )
    for name, organisation, year, code, recommendation in reports:
        (tmp_path / name).write_text(
            f"Evaluation of project {code}\n\nCommissioned by: {organisation}\nFinal report date: {year}\n\n"
            f"Recommendations\n\n- {recommendation}\n\nLessons learned\n\n- Lesson of {year}.\n",
            encoding="utf-8",
        )
    assert cli("evidence", "add", str(tmp_path), "--jobs", "1").exit_code == 0

    def texts(*args: str) -> list[str]:
        run = cli("evidence", "items", "--kind", "recommendation", *args, "--json")
        assert run.exit_code == 0, run.stderr
        return [i["text"] for i in json.loads(run.stdout)]

    assert len(texts()) == 3
    assert texts("--organisation", "iom") == [reports[1][4], reports[2][4]]
    assert texts("--organisation", "IOM", "--year-from", "2022") == [reports[2][4]]
    assert texts("--year-to", "2021") == [reports[0][4], reports[1][4]]
    assert texts("--project", "LM.0181") == [reports[1][4]]
    assert texts("--organisation", "UNDP") == []
    lessons = cli("evidence", "items", "--kind", "lesson", "--year-from", "2021", "--year-to", "2021")
    assert "lesson 1 (p. 1): Lesson of 2021." in lessons.stdout
    assert "2018" not in lessons.stdout
    bad = cli("evidence", "items", "--year-from", "1066")
    assert bad.exit_code == 2
    assert "year_from" in bad.stderr
    assert "Traceback" not in bad.stderr


CONCLUDED = """<!doctype html><html><head><meta charset="utf-8"><title>Review of the harbour skills project</title>
<style>@page {{ size: A5; margin: 2cm }} body {{ font-family: serif; font-size: 10pt }}</style></head><body>
<h2>1. Evaluation criteria and questions</h2>
<p>The review answered the questions of its terms of reference.</p>
<p>Table 1. Key evaluation questions</p>
<p>Relevance: Did the courses answer the needs of the harbour employers?</p>
<p>Were the trainees chosen fairly?</p>
<h2>2. Findings and conclusions</h2>
<p>Relevance: The courses matched the employers' needs for crane operators and welders in both harbours.</p>
<p>The employers' association asked for the courses to go on after the project.</p>
<p>Efficiency: Two courses in three started late, as the instructors were hired after the equipment arrived.</p>
<h2>3. Good practices: two courses at a glance</h2>
<h3>1. CRANE OPERATORS IN MOMBASA</h3>
<ul><li>Trainees worked on the harbour's own cranes.</li></ul>
<h3>2. WELDERS IN DAR ES SALAAM</h3>
<p>Employers marked the final test with the instructors.</p>
<h2>4. Lessons learned</h2>
<p>Courses planned with the employers filled their places at once, and their trainees were hired sooner.</p>
<p>Equipment bought before the instructors were hired stood unused for months.</p>
<h2>5. Annexes</h2>
<p>The list of people met runs to four pages.</p>
</body></html>"""


def _concluded_files(folder: Path) -> list[Path]:
    """The same review as HTML, PDF (paragraphs apart only by the space between them) and DOCX."""
    import docx
    from weasyprint import HTML

    html = folder / "harbour.html"
    html.write_text(CONCLUDED.format(), encoding="utf-8")
    pdf = folder / "harbour.pdf"
    HTML(string=CONCLUDED.format()).write_pdf(pdf)
    document = docx.Document()
    soup_blocks = re.findall(r"<(h2|h3|p|li)>(.*?)</\1>", CONCLUDED)
    for tag, text in soup_blocks:
        text = text.replace("&#x27;", "'")
        if tag in ("h2", "h3"):
            document.add_heading(text, 1 if tag == "h2" else 2)
        elif tag == "li":
            document.add_paragraph(text, "List Bullet")
        else:
            document.add_paragraph(text)
    path = folder / "harbour.docx"
    document.save(str(path))
    return [html, pdf, path]


def test_questions_conclusions_good_practices_and_lessons_in_every_format(cli: Cli, tmp_path: Path) -> None:
    """Questions under "Evaluation criteria and questions" (a table caption is not one); under "Findings and
    conclusions" one conclusion per criterion, with the paragraphs that follow it; good practices under their
    numbered headings (their details are not items); lessons as the paragraphs of their section; the annexes end
    it all."""
    files = _concluded_files(tmp_path)
    assert cli("evidence", "add", *map(str, files), "--jobs", "1").exit_code == 0
    documents = {d["id"]: d["format"] for d in json.loads(cli("evidence", "list", "--json").stdout)}
    assert sorted(documents.values()) == ["docx", "html", "pdf"]
    for document_id, fmt in documents.items():
        run = cli("evidence", "items", "--document", str(document_id), "--json")
        items = [(i["kind"], i["number"], i["text"], i["rule"]) for i in json.loads(run.stdout)]
        assert items == [
            (
                "evaluation_question",
                "1",
                "Relevance: Did the courses answer the needs of the harbour employers?",
                "question in section",
            ),
            ("evaluation_question", "2", "Were the trainees chosen fairly?", "question in section"),
            (
                "conclusion",
                "1",
                "Relevance: The courses matched the employers' needs for crane operators and welders in both harbours."
                " The employers' association asked for the courses to go on after the project.",
                "criterion in section",
            ),
            (
                "conclusion",
                "2",
                "Efficiency: Two courses in three started late, as the instructors were hired after the equipment"
                " arrived.",
                "criterion in section",
            ),
            ("good_practice", "1", "CRANE OPERATORS IN MOMBASA", "numbered heading in section"),
            ("good_practice", "2", "WELDERS IN DAR ES SALAAM", "numbered heading in section"),
            (
                "lesson",
                "1",
                "Courses planned with the employers filled their places at once, and their trainees were hired sooner.",
                "paragraph in section",
            ),
            (
                "lesson",
                "2",
                "Equipment bought before the instructors were hired stood unused for months.",
                "paragraph in section",
            ),
        ], fmt


def test_a_lessons_section_with_a_list_keeps_the_list_only(cli: Cli, tmp_path: Path) -> None:
    """Paragraphs are a section's items only when it has no list: a paragraph before the list is its lead."""
    (tmp_path / "ports.txt").write_text(
        "Review of the ports project\n\nLessons learned\n\nThe review drew these lessons from the interviews.\n\n"
        "- Trainees hired before the course stayed longer.\n- Employers who marked the tests hired more trainees.\n\n"
        "Conclusion:\n\nThe project reached its targets in both ports.\n\nProject challenges\n\n"
        "Staff changed twice in the first year.\n",
        encoding="utf-8",
    )
    assert _items(cli, tmp_path / "ports.txt") == [
        ("lesson", "1", "Trainees hired before the course stayed longer."),
        ("lesson", "2", "Employers who marked the tests hired more trainees."),
        ("conclusion", "1", "The project reached its targets in both ports."),
    ]
