"""``lmreview coding``: codebooks, codings of documents and answers, code matrices and inter-coder agreement."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.cli.common import State, console, err, print_json, state
from lmreview.coding import agreement, codebooks, interchange, matrix, segments, suggest, units, view
from lmreview.coding.models import Codebook
from lmreview.errors import LmreviewError
from lmreview.questionnaire.reviews import get_review

app = typer.Typer(help="Qualitative coding: codebooks, codings, code matrices, agreement.", no_args_is_help=True)
codebook_app = typer.Typer(help="Codebooks: create, add codes and groups, import, export.", no_args_is_help=True)
app.add_typer(codebook_app, name="codebook")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise LmreviewError(f"cannot read {path}: {exc.strerror}") from None


@codebook_app.command("list")
def codebook_list(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """The codebooks, with their numbers of codes, groups and codings.

    Example: lmreview coding codebook list
    """
    with state(ctx).session() as session:
        books = codebooks.list_codebooks(session)
    if as_json:
        print_json([b.__dict__ for b in books])
        return
    if not books:
        console.print("No codebook yet: lmreview coding codebook starter challenges-2022")
        return
    table = Table("name", "title", "codes", "groups", "codings", "origin")
    for b in books:
        table.add_row(b.name, b.title or "", str(b.codes), str(b.groups), str(b.codings), b.origin or "")
    console.print(table)


@codebook_app.command("show")
def codebook_show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The codebook's name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A codebook's codes as a tree, with their groups.

    Example: lmreview coding codebook show dac-criteria
    """
    with state(ctx).session() as session:
        data = codebooks.codebook_json(codebooks.get_codebook(session, name))
    if as_json:
        print_json(data)
        return
    for code in data["codes"]:
        depth = code["path"].count("/")
        groups = f"  [{', '.join(code['groups'])}]" if code["groups"] else ""
        console.print(f"{'  ' * depth}{code['name']} {code['colour'] or ''}{groups}", markup=False, soft_wrap=True)
    for group in data["groups"]:
        console.print(f"group {group['name']}{' (exclusive)' if group['exclusive'] else ''}", markup=False)


@codebook_app.command("create")
def codebook_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A short name: letters, digits, '.', '_', '-'.")],
    title: Annotated[str | None, typer.Option("--title")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
) -> None:
    """Create an empty codebook.

    Example: lmreview coding codebook create outcomes --title "Outcomes reached"
    """
    st = state(ctx)
    with st.session() as session:
        codebooks.create_codebook(session, name, actor=st.settings.actor, title=title, description=description)
    console.print(f"Created codebook {name}", markup=False)


@codebook_app.command("add-code")
def codebook_add_code(
    ctx: typer.Context,
    codebook: Annotated[str, typer.Argument(help="The codebook's name.")],
    name: Annotated[str, typer.Argument(help="The code's name.")],
    parent: Annotated[str | None, typer.Option("--parent", help="The parent code (name or path).")] = None,
    description: Annotated[str | None, typer.Option("--description", help="What the code covers.")] = None,
    colour: Annotated[str | None, typer.Option("--colour", help="#RRGGBB")] = None,
    group: Annotated[str | None, typer.Option("--group", help="A code group (created when new).")] = None,
) -> None:
    """Add a code.

    Example: lmreview coding codebook add-code outcomes "Fully reached" --group reached --colour #2ca02c
    """
    st = state(ctx)
    with st.session() as session:
        book = codebooks.get_codebook(session, codebook)
        codebooks.add_code(
            session,
            book,
            name,
            actor=st.settings.actor,
            parent=parent,
            description=description,
            colour=colour,
            group=group,
        )
    console.print(f"Added code {name} to {codebook}", markup=False)


@codebook_app.command("add-group")
def codebook_add_group(
    ctx: typer.Context,
    codebook: Annotated[str, typer.Argument(help="The codebook's name.")],
    name: Annotated[str, typer.Argument(help="The group's name.")],
    codes: Annotated[list[str] | None, typer.Argument(help="Codes of the group.")] = None,
    exclusive: Annotated[
        bool, typer.Option("--exclusive", help="A coder gives a unit at most one code of the group.")
    ] = False,
) -> None:
    """Add a code group; ``--exclusive`` makes its codes mutually exclusive (one per passage or answer).

    Example: lmreview coding codebook add-group outcomes reached "Fully" "Partly" "Not" --exclusive
    """
    st = state(ctx)
    with st.session() as session:
        book = codebooks.get_codebook(session, codebook)
        codebooks.add_group(session, book, name, exclusive=exclusive, actor=st.settings.actor, codes=codes or [])
    console.print(f"Added {'exclusive ' if exclusive else ''}group {name} to {codebook}", markup=False)


@codebook_app.command("import")
def codebook_import(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="A REFI-QDA codebook (.qdc), or CSV/XLSX: code, parent, description, colour, group, exclusive."
        ),
    ],
    name: Annotated[str, typer.Option("--name", help="The new codebook's name.")],
) -> None:
    """Import a codebook as a new one; nothing is written when the file has a problem.

    Example: lmreview coding codebook import themes.qdc --name themes
    """
    st = state(ctx)
    data = _read(file)
    with st.session() as session:
        book = codebooks.import_codebook(session, data, file.name, name=name, actor=st.settings.actor)
        counts = len(book.codes), len(book.groups)
    console.print(f"Imported codebook {name}: {counts[0]} codes, {counts[1]} groups", markup=False)


@codebook_app.command("export")
def codebook_export(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The codebook's name.")],
    out: Annotated[Path, typer.Option("--out", help="The file to write (.qdc, .csv or .xlsx).")],
    fmt: Annotated[str | None, typer.Option("--format", help="qdc, csv or xlsx (default: from --out).")] = None,
) -> None:
    """Export a codebook as a REFI-QDA codebook (.qdc), CSV or XLSX.

    Example: lmreview coding codebook export challenges-2022 --out challenges.qdc
    """
    fmt = fmt or out.suffix.lstrip(".").lower()
    with state(ctx).session() as session:
        data = codebooks.export_codebook(codebooks.get_codebook(session, name), fmt)
    out.write_bytes(data)
    console.print(f"Wrote {out}", markup=False)


@codebook_app.command("starter")
def codebook_starter(
    ctx: typer.Context,
    which: Annotated[str, typer.Argument(help="challenges-2022 (the 20 challenges) or dac-criteria.")],
    name: Annotated[str | None, typer.Option("--name", help="Another name for the new codebook.")] = None,
) -> None:
    """Install a starter codebook that lmreview ships.

    Example: lmreview coding codebook starter challenges-2022
    """
    st = state(ctx)
    with st.session() as session:
        book = codebooks.install_starter(session, which, actor=st.settings.actor, name=name)
        summary = book.name, len(book.codes)
    console.print(f"Installed codebook {summary[0]}: {summary[1]} codes", markup=False)


@app.command("add")
def coding_add(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="A document's id or file name, or an answer's UUID/path.")],
    start: Annotated[int, typer.Argument(help="First character, 0-based.")],
    end: Annotated[int, typer.Argument(help="End character, exclusive.")],
    code: Annotated[str, typer.Argument(help="The code (name or path).")],
    codebook: Annotated[str, typer.Option("--codebook", help="The code's codebook.")],
    coder: Annotated[str | None, typer.Option("--coder", help="Default: the --user acting.")] = None,
    memo: Annotated[str | None, typer.Option("--memo")] = None,
) -> None:
    """Code a span of a document or an answer.

    Example: lmreview coding add 3f1c2a9e-8b7d-4e2f-9a61-5c0d7e4b2a10/not_sustained_why 0 12 "Lack of funding"
    --codebook challenges-2022
    """
    st = state(ctx)
    with st.session() as session:
        found = segments.resolve_source(session, source)
        if isinstance(found, str):
            raise LmreviewError(found)
        code_ = codebooks.find_code(codebooks.get_codebook(session, codebook), code)
        coding = segments.apply_code(
            session, found, code_, start, end, coder=coder or st.settings.actor, actor=st.settings.actor, memo=memo
        )
        shown = coding.id, coding.text
    console.print(f'Coding {shown[0]}: "{shown[1]}" as {code}', markup=False, soft_wrap=True)


@app.command("remove")
def coding_remove(ctx: typer.Context, coding_id: Annotated[int, typer.Argument(help="The coding's id.")]) -> None:
    """Remove a coding (audited).

    Example: lmreview coding remove 42
    """
    st = state(ctx)
    with st.session() as session:
        segments.remove_coding(session, coding_id, actor=st.settings.actor)
    console.print(f"Removed coding {coding_id}", markup=False)


@app.command("list")
def coding_list(
    ctx: typer.Context,
    codebook: Annotated[str | None, typer.Option("--codebook")] = None,
    coders: Annotated[str | None, typer.Option("--coders", help="Only these coders, comma-separated.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The codings, source by source.

    Example: lmreview coding list --codebook challenges-2022 --coders ana
    """
    st = state(ctx)
    with st.session() as session:
        rows = _visible(session, st.settings.actor, codebook, _names(coders))
    if as_json:
        print_json([r.as_json() for r in rows])
        return
    if not rows:
        console.print("No coding yet.")
        return
    for r in rows:
        console.print(
            f'{r.id}  {r.source} {r.start}-{r.end}  {r.code_path} ({r.coder})  "{r.text}"', markup=False, soft_wrap=True
        )


@app.command("sources")
def coding_sources(
    ctx: typer.Context,
    review: Annotated[str, typer.Option("--review", help="The review whose answers to list.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The free-text answers of a review's submissions and the items extracted from its documents (recommendations,
    lessons...) that can be coded, with their references.

    Example: lmreview coding sources --review r22 --json
    """
    with state(ctx).session() as session:
        answers = [a.as_json() for a in units.review_answers(session, review)]
        items = [i.as_json() for i in units.review_items(session, review)]
    if as_json:
        print_json([*answers, *items])
        return
    for a in answers:
        console.print(f"{a['reference']}  [{a['project'] or '-'}]  {a['text'][:80]}", markup=False, soft_wrap=True)
    for i in items:
        what = " ".join(x for x in (i["kind"], i["number"] or "") if x)
        projects = ",".join(i["projects"]) or "-"
        console.print(f"{i['reference']}  [{projects}] {what}: {i['text'][:80]}", markup=False, soft_wrap=True)


@app.command("import")
def coding_import(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="A REFI-QDA project (.qdpx), or CSV/XLSX: source, start, end, code, coder[, memo].")
    ],
    codebook: Annotated[
        str | None,
        typer.Option("--codebook", help="CSV: the codes' codebook. QDPX: the codebook to create or to add to."),
    ] = None,
) -> None:
    """Import codings; every problem is reported with its place and nothing is written unless all is right.

    Example: lmreview coding import codings.csv --codebook challenges-2022
    Example: lmreview coding import nvivo-project.qdpx --codebook themes
    """
    st = state(ctx)
    data = _read(file)
    with st.session() as session:
        if file.suffix.lower() == ".qdpx" or (data[:4] == b"PK\x03\x04" and b"project.qde" in data.lower()):
            project = interchange.import_qdpx(session, data, file.name, actor=st.settings.actor, codebook=codebook)
            for line in project.skipped:
                err.print(f"skipped {line}", markup=False, soft_wrap=True)
            console.print(
                f"Imported {project.codings} codings by {', '.join(project.coders) or 'nobody'} on "
                f"{project.sources} sources into codebook {project.codebook} ({project.codes} codes)",
                markup=False,
                soft_wrap=True,
            )
            return
        result = segments.import_csv(session, data, file.name, actor=st.settings.actor, codebook=codebook)
    console.print(f"Imported {result.created} codings by {', '.join(result.coders) or 'nobody'}", markup=False)


@app.command("export")
def coding_export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="The file to write.")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv, xlsx or qdpx (default: from --out).")] = None,
    codebook: Annotated[str | None, typer.Option("--codebook", help="Needed for qdpx when there are several.")] = None,
    coders: Annotated[str | None, typer.Option("--coders", help="Only these coders, comma-separated.")] = None,
) -> None:
    """Export codings: CSV or XLSX (the CSV imports again as it is), or a REFI-QDA project (.qdpx) with the
    codebook, the coders and each coded text.

    Example: lmreview coding export --format qdpx --codebook challenges-2022 --out review.qdpx
    """
    fmt = (fmt or out.suffix.lstrip(".")).lower()
    st = state(ctx)
    with st.session() as session:
        if fmt == "qdpx":
            book = matrix.pick_codebook(session, codebook)
            viewer = view.cli_viewer(session, st.settings.actor)
            names = view.visible_coders(session, viewer, book, wanted=_names(coders))
            data = interchange.export_qdpx(session, book.name, names)
            count = len(segments.list_codings(session, codebook=book.name, coders=names))
        else:
            rows = _visible(session, st.settings.actor, codebook, _names(coders))
            data = segments.export_table(rows, fmt)
            count = len(rows)
    out.write_bytes(data)
    console.print(f"Wrote {count} codings to {out}", markup=False)


@app.command("matrix")
def coding_matrix(
    ctx: typer.Context,
    review: Annotated[str, typer.Option("--review", help="The review.")],
    codebook: Annotated[str | None, typer.Option("--codebook", help="Default: the only codebook.")] = None,
    by: Annotated[str, typer.Option("--by", help="project, document, region or category.")] = "project",
    coders: Annotated[str | None, typer.Option("--coders", help="Only these coders' codings, comma-separated.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (unrounded shares, coding ids per cell).")
    ] = False,
    xlsx: Annotated[
        Path | None,
        typer.Option("--xlsx", help="Also write a workbook: the counts, and the segments behind each cell."),
    ] = None,
) -> None:
    """How many of the review's projects (or documents) have each code, with denominators; and co-occurrence.

    Example: lmreview coding matrix --review r22 --codebook challenges-2022 --by region
    """
    st = state(ctx)
    with st.session() as session:
        viewer = view.cli_viewer(session, st.settings.actor)
        book = matrix.pick_codebook(session, codebook)
        names = view.visible_coders(session, viewer, book, get_review(session, review), _names(coders))
        result = matrix.code_matrix(
            session, review, codebook=book.name, by=by, coders=names, segment_ids=as_json or xlsx is not None
        )
        if xlsx is not None:
            xlsx.write_bytes(matrix.matrix_xlsx(session, result))
            err.print(f"Wrote {xlsx}", markup=False)
    if as_json:
        print_json(result.as_json())
        return
    console.print(f"Review {result.review}, codebook {result.codebook}, by {result.by}", markup=False)
    for figure in result.codes:
        console.print(f"{figure.text()} ({figure.segments} segments)", markup=False, soft_wrap=True)
    if by != "project" and result.columns:
        table = Table("code", *(f"{label} (n={n})" for _, label, n in result.columns))
        for figure in result.codes:
            table.add_row(
                figure.code, *(str(c.units) if by != "document" else str(len(c.segments)) for c in figure.cells)
            )
        console.print(table)
    if result.co_occurrence:
        console.print("Codes found together:")
        for a, b, n in result.co_occurrence:
            console.print(f"  {a} + {b}: {n} {matrix.UNIT_WORD[by]}", markup=False, soft_wrap=True)


def _names(coders: str | None) -> list[str] | None:
    return [c.strip() for c in coders.split(",") if c.strip()] if coders else None


def _visible(session: Session, actor: str, codebook: str | None, wanted: list[str] | None) -> list[segments.CodingRow]:
    """The codings ``actor`` may see (coders blind: see :func:`lmreview.coding.view.visible_coders`)."""
    viewer = view.cli_viewer(session, actor)
    if viewer.manager:
        return segments.list_codings(session, codebook=codebook, coders=wanted)
    books = [codebooks.get_codebook(session, codebook)] if codebook else session.scalars(select(Codebook)).all()
    allowed = {book.name: view.visible_coders(session, viewer, book, wanted=wanted) for book in books}
    rows = segments.list_codings(session, codebook=codebook, coders=wanted)
    return [r for r in rows if (names := allowed.get(r.codebook)) is None or r.coder in names]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


@app.command("compare")
def coding_compare(
    ctx: typer.Context,
    review: Annotated[str, typer.Option("--review")],
    codebook: Annotated[str | None, typer.Option("--codebook", help="Default: the only codebook.")] = None,
) -> None:
    """Open the comparison (review manager): the coders' codings of the codebook become visible to one another,
    and agreement, disagreements and consensus become available. Audited.

    Example: lmreview coding compare --review r22 --codebook challenges-2022
    """
    st = state(ctx)
    with st.session() as session:
        name = matrix.pick_codebook(session, codebook).name
        opened = agreement.open_comparison(session, review, name, actor=st.settings.actor)
    console.print(
        f"{'Opened' if opened else 'Already open:'} the comparison of {name} in review {review}", markup=False
    )


@app.command("agreement")
def coding_agreement(
    ctx: typer.Context,
    review: Annotated[str, typer.Option("--review")],
    codebook: Annotated[str | None, typer.Option("--codebook", help="Default: the only codebook.")] = None,
    coders: Annotated[
        str | None, typer.Option("--coders", help="Coders to compare, comma-separated (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (unrounded, null where undefined).")] = False,
) -> None:
    """Inter-coder agreement per code and overall: units, percent agreement, Cohen's kappa, Krippendorff's alpha.

    Example: lmreview coding agreement --review r22 --codebook challenges-2022 --coders ana,ben
    """
    with state(ctx).session() as session:
        name = matrix.pick_codebook(session, codebook).name
        result = agreement.agreement(session, review, codebook=name, coders=_names(coders))
    if as_json:
        print_json(result.as_json())
        return
    console.print(
        f"Agreement of {', '.join(result.coders)} on {result.codebook}, {result.overall.units} units", markup=False
    )
    table = Table("code", "units", "agreement", "kappa", "alpha")
    for label, m in [*result.codes, *((f"{g} (group)", m) for g, m in result.groups), ("overall", result.overall)]:
        table.add_row(label, str(m.units), _pct(m.percent_agreement), _num(m.kappa), _num(m.alpha))
    console.print(table)


@app.command("disagreements")
def coding_disagreements(
    ctx: typer.Context,
    review: Annotated[str, typer.Option("--review")],
    codebook: Annotated[str | None, typer.Option("--codebook", help="Default: the only codebook.")] = None,
    coders: Annotated[str | None, typer.Option("--coders", help="Coders to compare, comma-separated.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The units where the coders' codes differ, side by side (units with a consensus are left out).

    Example: lmreview coding disagreements --review r22 --codebook challenges-2022
    """
    with state(ctx).session() as session:
        name = matrix.pick_codebook(session, codebook).name
        rows = agreement.disagreements(session, review, codebook=name, coders=_names(coders))
    if as_json:
        print_json([r.__dict__ for r in rows])
        return
    if not rows:
        console.print("The coders agree on every unit.")
        return
    for row in rows:
        console.print(f'{row.unit}  "{row.text}"', markup=False, soft_wrap=True)
        for coder, names in row.codes.items():
            console.print(f"    {coder}: {', '.join(names) or '(no code)'}", markup=False, soft_wrap=True)


@app.command("consensus")
def coding_consensus(
    ctx: typer.Context,
    review: Annotated[str, typer.Option("--review")],
    unit: Annotated[str, typer.Option("--unit", help="The unit, as disagreements prints it.")],
    codes: Annotated[list[str] | None, typer.Option("--code", help="A code to keep (repeat; none: no code).")] = None,
    codebook: Annotated[str | None, typer.Option("--codebook", help="Default: the only codebook.")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why, for the audit log.")] = None,
) -> None:
    """Record the consensus on a unit as the coder "consensus" (audited).

    Example: lmreview coding consensus --review r22 --unit passage:12 --code Covid-19 --reason "both read it so"
    """
    st = state(ctx)
    with st.session() as session:
        name = matrix.pick_codebook(session, codebook).name
        made = agreement.consensus(
            session, review, codebook=name, unit=unit, codes=codes or [], actor=st.settings.actor, reason=reason
        )
    console.print(f"Consensus on {unit}: {made} coding{'s' if made != 1 else ''}", markup=False)


@app.command("suggest")
def coding_suggest(
    ctx: typer.Context,
    review: Annotated[str, typer.Option("--review")],
    code: Annotated[str | None, typer.Option("--code", help="The code to propose.")] = None,
    rule: Annotated[
        str | None, typer.Option("--words", help="Keywords, comma-separated (or a pattern with --regex).")
    ] = None,
    earlier: Annotated[
        bool, typer.Option("--from-earlier", help="Propose the codes the coder gave the same passage text before.")
    ] = False,
    codebook: Annotated[str | None, typer.Option("--codebook", help="Default: the only codebook.")] = None,
    regex: Annotated[bool, typer.Option("--regex", help="--words is a regular expression.")] = False,
    coder: Annotated[str | None, typer.Option("--coder", help="Default: the --user acting.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the suggestions as a codings CSV.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ask: Annotated[
        bool, typer.Option("--ask", help="Ask about each suggestion: a accepts it (it is coded), r rejects, q stops.")
    ] = False,
    forget_rejected: Annotated[
        bool,
        typer.Option("--forget-rejected", help="Propose again what the coder rejected before (for this code)."),
    ] = False,
) -> None:
    """Propose codings where the words occur; nothing is coded unless accepted. Accept or reject each with --ask,
    or delete the rows you reject from the --out file and accept the rest with ``lmreview coding import FILE``.
    A suggestion rejected with --ask (or on the coding page) is not proposed to that coder again.

    Example: lmreview coding suggest --review r22 --code Covid-19 --words "covid,pandemic,lockdown" --out s.csv
    Example: lmreview coding suggest --review r22 --from-earlier --coder ana --out s.csv
    Example: lmreview coding suggest --review r22 --code Covid-19 --words covid --ask
    """
    st = state(ctx)
    with st.session() as session:
        name = matrix.pick_codebook(session, codebook).name
        who = coder or st.settings.actor
        if forget_rejected:
            forgotten = suggest.forget_rejections(
                session, codebook=name, coder=who, actor=st.settings.actor, code=None if earlier else code
            )
            console.print(f"Forgot {forgotten} rejected suggestion{'s' if forgotten != 1 else ''}", markup=False)
        if earlier:
            rows = suggest.from_earlier(session, review, codebook=name, coder=who)
        elif code and rule:
            rows = suggest.suggest(session, review, codebook=name, code=code, rule=rule, coder=who, regex=regex)
        else:
            raise LmreviewError("give --code and --words, or --from-earlier")
    if ask:
        _ask(st, rows, name)
        return
    if out is not None:
        out.write_bytes(suggest.suggestions_csv(rows))
    if as_json:
        print_json([r.__dict__ for r in rows])
        return
    for r in rows:
        console.print(f'{r.source} {r.start}-{r.end}  "{r.text}"  …{r.context}…', markup=False, soft_wrap=True)
    tail = f"; written to {out}: delete the rows you reject, then lmreview coding import {out}" if out else ""
    what = f" for {code}" if code and not earlier else ""
    console.print(f"{len(rows)} suggestion{'s' if len(rows) != 1 else ''}{what}{tail}", markup=False)


def _ask(st: State, rows: list[suggest.Suggestion], codebook: str) -> None:
    """Each suggestion in turn: accepted ones are coded at once (memo "suggested"), rejected ones remembered."""
    accepted = rejected = 0
    for index, r in enumerate(rows, start=1):
        console.print(
            f'[{index}/{len(rows)}] {r.code}: {r.source} {r.start}-{r.end} "{r.text}"  …{r.context}…',
            markup=False,
            soft_wrap=True,
        )
        choice = ""
        while choice not in ("a", "r", "q"):
            try:
                choice = typer.prompt("Accept (a), reject (r) or stop (q)?").strip().lower()[:1]
            except typer.Abort:
                choice = "q"
        if choice == "q":
            break
        if choice == "r":
            with st.session() as session:
                suggest.reject(session, r, codebook=codebook, actor=st.settings.actor)
            rejected += 1
            continue
        with st.session() as session:
            coding = suggest.accept(session, r, codebook=codebook, actor=st.settings.actor)
            console.print(f"Coding {coding.id}: accepted", markup=False)
        accepted += 1
    left = len(rows) - accepted - rejected
    console.print(f"Accepted {accepted}, rejected {rejected}, left {left} of {len(rows)} suggestions", markup=False)
