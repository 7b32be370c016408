"""``lmreview coding``: codebooks, codings of documents and answers, code matrices and inter-coder agreement."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lmreview.cli.common import console, print_json, state
from lmreview.coding import codebooks

app = typer.Typer(help="Qualitative coding: codebooks, codings, code matrices, agreement.", no_args_is_help=True)
codebook_app = typer.Typer(help="Codebooks: create, add codes and groups, import, export.", no_args_is_help=True)
app.add_typer(codebook_app, name="codebook")


def _read(path: Path) -> bytes:
    from lmreview.errors import LmreviewError

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
