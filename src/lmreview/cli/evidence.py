"""``lmreview evidence``: the evidence library (evaluation reports, final reports, briefs) and its search."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from lmreview.cli.common import ROW_ID, console, err, print_json, progress_bar, state
from lmreview.figures import plural

app = typer.Typer(
    help="The evidence library: add documents, search them, list their recommendations, responses and lessons.",
    no_args_is_help=True,
)


@app.command("add")
def add(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (read recursively): PDF, DOCX, TXT, MD, HTML.")],
    doc_type: Annotated[
        str | None,
        typer.Option("--type", help="Document type: evaluation_report, final_report, evaluation_brief, review, other."),
    ] = None,
    project: Annotated[str | None, typer.Option("--project", help="A project code the documents concern.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Files read at once (default: the cores).")] = 0,
) -> None:
    """Add documents; a file already in the library (same content) is skipped, an unreadable one is reported
    (``FILE: reason``) and the others are added. Exit status 2 when any file was refused.

    Example: lmreview evidence add reports/ --type evaluation_report --jobs 4
    """
    from lmreview.evidence.metadata import code_patterns
    from lmreview.evidence.parsing import Reading, default_jobs

    st = state(ctx)
    patterns = st.settings.project_code_patterns
    code_patterns(patterns)  # a wrong pattern stops the command before any file is read
    # the files are being read while the database side is imported and opened (a second of one core's time)
    with Reading(paths, jobs or default_jobs(), patterns) as reading:
        from lmreview.evidence import service

        with st.session(immediate=True) as session, progress_bar("Reading") as progress:
            report = service.add_paths(
                session,
                paths,
                actor=st.settings.actor,
                doc_type=doc_type,
                project=project,
                progress=progress,
                patterns_of_codes=patterns,
                reading=reading,
            )
            added = [(d.id, d.filename, d.title, d.page_count) for d in report.added]
    for document_id, filename, title, pages in added:
        console.print(f"added {document_id}: {filename} ({pages} p.) {title}", markup=False, soft_wrap=True)
    for filename, existing in report.duplicates:
        console.print(f"skipped {filename}: already in the library as document {existing}", markup=False)
    for problem in report.refused:
        err.print(f"{problem.file}: {problem.message}", markup=False, soft_wrap=True)
    skipped = f", {len(report.skipped)} skipped (not a format lmreview reads)" if report.skipped else ""
    console.print(
        f"{len(added)} added, {len(report.duplicates)} already there, {len(report.refused)} refused{skipped}",
        markup=False,
    )
    if report.refused:
        sys.exit(2)


@app.command("list")
def list_(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The documents of the library.

    Example: lmreview evidence list --json
    """
    from lmreview.evidence import service

    with state(ctx).session() as session:
        documents = [service.document_json(d) for d in service.list_documents(session)]
    if as_json:
        print_json(documents)
        return
    if not documents:
        console.print("The library is empty: lmreview evidence add FILE-OR-FOLDER")
        return
    table = Table("id", "title", "type", "organisation", "year", "projects", "pages")
    for d in documents:
        table.add_row(
            str(d["id"]),
            d["title"],
            d["type"],
            d["organisation"] or "",
            str(d["year"] or ""),
            ", ".join(d["project_codes"][:3]) + (" …" if len(d["project_codes"]) > 3 else ""),
            str(d["pages"]),
        )
    console.print(table)


@app.command("show")
def show(ctx: typer.Context, document_id: Annotated[int, typer.Argument(help="The document's id.")]) -> None:
    """A document's metadata, the items found in it (recommendations, responses, lessons, findings) and its outline.

    Example: lmreview evidence show 3
    """
    from lmreview.evidence import service

    with state(ctx).session() as session:
        document = service.get_document(session, document_id)
        data = service.document_json(document)
        headings = [(h.page, h.text) for h in service.outline(session, document_id)]
        found = [service.item_json(i, d) for i, d in service.items(session, document_id=document_id)]
    for key, value in data.items():
        shown = ", ".join(value) if isinstance(value, list) else ("" if value is None else str(value))
        console.print(f"{key}: {shown}", markup=False, soft_wrap=True)
    console.print("items:" if found else "items: (none found)")
    for item in found:
        _print_item(item, indent="  ")
    console.print("outline:" if headings else "outline: (no headings found)")
    for page, heading in headings:
        console.print(f"  p. {page}  {heading}", markup=False, soft_wrap=True)


@app.command("search")
def search_(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help='Words, "a phrase", prefix*, AND, OR, NOT (or -word).')],
    doc_type: Annotated[str | None, typer.Option("--type", help="Only documents of this type.")] = None,
    organisation: Annotated[str | None, typer.Option("--organisation", help="Only this organisation's.")] = None,
    year_from: Annotated[int | None, typer.Option("--year-from", help="Documents of this year or later.")] = None,
    year_to: Annotated[int | None, typer.Option("--year-to", help="Documents of this year or earlier.")] = None,
    project: Annotated[str | None, typer.Option("--project", help="Documents about this project code.")] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Passages of this kind: heading, paragraph, list_item, table_cell.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many hits.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Search the passages of the library, best first.

    Example: lmreview evidence search '"fair recruitment" AND fee* NOT visa' --year-from 2018
    """
    from lmreview.evidence import service
    from lmreview.evidence.search import MARK_END, MARK_START, Filters

    filters = Filters(doc_type, organisation, year_from, year_to, project, kind)
    with state(ctx).session() as session:
        result = service.search(session, query, filters, limit)
    if as_json:
        print_json([hit.as_json() for hit in result.hits])
        return
    if not result.hits:
        console.print(f"No passage matches {query}.", markup=False)
        return
    if result.capped:
        console.print(
            f"{result.total_text} passages match; the best {len(result.hits)} of the {result.total:,} most recently "
            "added (add a word or a filter to narrow the search):",
            markup=False,
        )
    else:
        console.print(
            f"{plural(result.total, 'passage matches', 'passages match')}; the best {len(result.hits)}:", markup=False
        )
    for hit in result.hits:
        snippet = escape(hit.snippet).replace(MARK_START, "[bold]").replace(MARK_END, "[/bold]")
        where = f"p. {hit.page}" + (f", {hit.section}" if hit.section else "")
        console.print(f"[{hit.document_id}] {hit.title} — {where}", markup=False, soft_wrap=True)
        console.print(f"    {snippet}", soft_wrap=True)


def _print_item(item: dict[str, Any], indent: str = "") -> None:
    pages = ", ".join(str(p) for p in item["pages"])
    number = f" {item['number']}" if item["number"] else ""
    console.print(
        f"{indent}{item['kind'].replace('_', ' ')}{number} (p. {pages}): {item['text']}", markup=False, soft_wrap=True
    )
    for name, value in item["fields"].items():
        console.print(f"{indent}    {name.replace('_', ' ')}: {value}", markup=False, soft_wrap=True)
    if item["response"]:
        response = item["response"]
        console.print(
            f"{indent}    response ({response['stance'].replace('_', ' ')}): {response['text']}",
            markup=False,
            soft_wrap=True,
        )


@app.command("items")
def items(
    ctx: typer.Context,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind", help="recommendation, lesson, good_practice, key_finding, conclusion or evaluation_question."
        ),
    ] = None,
    document: Annotated[int | None, typer.Option("--document", help="Only this document's items.")] = None,
    project: Annotated[str | None, typer.Option("--project", help="Only documents about this project code.")] = None,
    organisation: Annotated[
        str | None, typer.Option("--organisation", help="Only documents of this organisation.")
    ] = None,
    year_from: Annotated[int | None, typer.Option("--year-from", help="Documents of this year or later.")] = None,
    year_to: Annotated[int | None, typer.Option("--year-to", help="Documents of this year or earlier.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Recommendations (with their fields and the response to them), lessons, good practices, key findings,
    conclusions and evaluation questions found in the documents, across the library or filtered.

    Example: lmreview evidence items --kind recommendation --project LM.0181 --year-from 2018 --json
    """
    from lmreview.evidence import service

    with state(ctx).session() as session:
        found = [
            service.item_json(i, d)
            for i, d in service.items(
                session,
                kind=kind,
                document_id=document,
                project=project,
                organisation=organisation,
                year_from=year_from,
                year_to=year_to,
            )
        ]
    if as_json:
        print_json(found)
        return
    if not found:
        console.print("No items found.")
        return
    last = None
    for item in found:
        if item["document"] != last:
            console.print(f"[{item['document']}] {item['title']}", markup=False, soft_wrap=True)
            last = item["document"]
        _print_item(item, indent="  ")


@app.command("set")
def set_(
    ctx: typer.Context,
    document_id: Annotated[int, typer.Argument(help="The document's id.")],
    title: Annotated[str | None, typer.Option("--title")] = None,
    doc_type: Annotated[str | None, typer.Option("--type", help="evaluation_report, final_report, …")] = None,
    evaluation_type: Annotated[str | None, typer.Option("--evaluation-type", help="final, mid-term, …")] = None,
    organisation: Annotated[str | None, typer.Option("--organisation")] = None,
    evaluators: Annotated[str | None, typer.Option("--evaluators")] = None,
    period: Annotated[str | None, typer.Option("--period")] = None,
    year: Annotated[str | None, typer.Option("--year")] = None,
    language: Annotated[str | None, typer.Option("--language")] = None,
    projects: Annotated[str | None, typer.Option("--projects", help="Project codes, comma-separated.")] = None,
) -> None:
    """Correct a document's metadata (an empty value clears a field); the change is audited.

    Example: lmreview evidence set 3 --type evaluation_brief --year 2023 --projects LM.0181,LM.0200
    """
    from lmreview.evidence import service

    given = {
        "title": title,
        "doc_type": doc_type,
        "evaluation_type": evaluation_type,
        "organisation": organisation,
        "evaluators": evaluators,
        "period": period,
        "year": year,
        "language": language,
        "project_codes": projects,
    }
    changes: dict[str, str | None] = {k: v for k, v in given.items() if v is not None}
    if not changes:
        err.print("error: name a field to change, e.g. --title or --year", markup=False)
        sys.exit(2)
    st = state(ctx)
    with st.session() as session:
        data = service.document_json(service.set_metadata(session, document_id, changes, actor=st.settings.actor))
    console.print(
        f"Document {document_id}: {data['title']} ({data['type']}, {data['year'] or 'no year'})", markup=False
    )


@app.command("links")
def links_(
    ctx: typer.Context,
    document_id: Annotated[int, typer.Argument(help="The document's id.", **ROW_ID)],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The portfolio projects a document may concern: suggestions by title likeness (looked for again among the
    projects imported since), and the links a reviewer confirmed or rejected.

    Example: lmreview evidence links 3
    """
    from lmreview.evidence import links, service

    with state(ctx).session() as session:
        document = service.get_document(session, document_id)
        links.suggest(session, document)
        found = [links.link_json(link) for link in links.links(session, document_id)]
        codes = document.project_codes
    if as_json:
        print_json(found)
        return
    console.print(f"Document {document_id}: projects {', '.join(codes) or '(none)'}", markup=False, soft_wrap=True)
    if not found:
        console.print("No project's title is alike enough to suggest.")
    for link in found:
        score = f"{link['score']:.0f}/100" if link["score"] is not None else "by hand"
        decided = f" by {link['decided_by']}" if link["decided_by"] else ""
        console.print(
            f"  {link['status']}{decided}: {link['code']} {link['project_title']} ({score})",
            markup=False,
            soft_wrap=True,
        )
    if any(link["status"] == "suggested" for link in found):
        console.print(f"Confirm with: lmreview evidence link {document_id} --project CODE (or --reject)")


@app.command("link")
def link(
    ctx: typer.Context,
    document_id: Annotated[int, typer.Argument(help="The document's id.", **ROW_ID)],
    project: Annotated[str, typer.Option("--project", help="The project's code.")],
    reject: Annotated[bool, typer.Option("--reject", help="Reject the link instead of confirming it.")] = False,
) -> None:
    """Confirm that a document concerns a portfolio project (its code joins the document's codes), or reject the
    link (it is not suggested again); the decision is audited.

    Example: lmreview evidence link 3 --project LM.0181
    """
    from lmreview.evidence import links

    st = state(ctx)
    with st.session() as session:
        decided = links.link_json(
            links.decide(session, document_id, project, confirm=not reject, actor=st.settings.actor)
        )
    console.print(f"Document {document_id}: {decided['status']} project {decided['code']}", markup=False)
