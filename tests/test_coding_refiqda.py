"""REFI-QDA projects (.qdpx): the export validates against Project.xsd and imports again into an empty workspace
with the same codes, segments and coders; real files of NVivo (UTF-16 offsets, BOM, CRLF, folder case), MAXQDA,
ATLAS.ti and QualCoder land; bad files are refused whole."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, Cli
from tests.fixtures.coding.material import REPORTS, answer, make_review

REFIQDA = ROOT.parent / "shared" / "realworld" / "refiqda"


def sample(name: str) -> Path:
    path = REFIQDA / "samples" / name
    if not path.is_file():
        pytest.skip(f"the REFI-QDA samples are not beside the project ({path.parent})")
    return path


def codings(cli: Cli) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = json.loads(cli("coding", "list", "--json").stdout)
    return result


def state(cli: Cli) -> tuple[Any, Any, Any]:
    return (
        json.loads(cli("coding", "codebook", "list", "--json").stdout),
        codings(cli),
        json.loads(cli("evidence", "list", "--json").stdout),
    )


@pytest.fixture
def coded(cli: Cli, tmp_path: Path) -> Path:
    make_review(cli, tmp_path)
    assert cli("coding", "codebook", "starter", "challenges-2022").exit_code == 0
    assert (
        cli(
            "coding",
            "codebook",
            "add-group",
            "challenges-2022",
            "political",
            "Political instability ex-ante project approval",
            "Political instability ex-post project approval",
            "--exclusive",
        ).exit_code
        == 0
    )
    r181 = REPORTS["report-0181.txt"][1]
    at = r181.index("The pandemic")
    rows = [
        (answer("LM.0181"), 0, 14, "Covid-19", "ana", "borders"),
        (answer("LM.0221"), 0, 7, "Lack of funding", "ben", ""),
        ("report-0181.txt", at, at + 12, "Covid-19", "ana", "the pandemic named"),
        ("report-0181.txt", at, at + 12, "Covid-19", "ben", ""),
    ]
    csv = tmp_path / "codings.csv"
    csv.write_text(
        "source,start,end,code,coder,memo\n" + "".join(",".join(map(str, r)) + "\n" for r in rows), encoding="utf-8"
    )
    run = cli("coding", "import", str(csv))
    assert run.exit_code == 0, run.stderr
    out = tmp_path / "review.qdpx"
    run = cli("coding", "export", "--format", "qdpx", "--codebook", "challenges-2022", "--out", str(out))
    assert run.exit_code == 0, run.stderr
    assert "Wrote 4 codings" in run.stdout
    return out


def test_export_validates_against_the_schema(coded: Path) -> None:
    schema_path = REFIQDA / "schema" / "Project-mrt2019.xsd"
    if not schema_path.is_file():
        pytest.skip(f"the REFI-QDA schemas are not beside the project ({schema_path.parent})")
    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(schema_path)))
    with zipfile.ZipFile(coded) as archive:
        names = archive.namelist()
        document = etree.fromstring(archive.read("project.qde"))
    assert schema.validate(document), schema.error_log
    assert len([n for n in names if n.startswith("sources/")]) == 3  # two answers and one report
    users = document.findall(".//{urn:QDA-XML:project:1.0}User")
    assert sorted(u.get("name") for u in users) == ["ana", "ben"]
    assert len(document.findall(".//{urn:QDA-XML:project:1.0}Note")) == 2


def test_round_trip_into_an_empty_workspace(coded: Path, cli: Cli, cli_factory: type[Cli], tmp_path: Path) -> None:
    empty = cli_factory(str(tmp_path / "empty.db"))
    run = empty("coding", "import", str(coded), "--codebook", "challenges-2022")
    assert run.exit_code == 0, run.stderr
    assert "Imported 4 codings by ana, ben on 3 sources" in run.stdout
    before = json.loads(cli("coding", "codebook", "show", "challenges-2022", "--json").stdout)
    after = json.loads(empty("coding", "codebook", "show", "challenges-2022", "--json").stdout)
    assert after["codes"] == before["codes"]
    assert after["groups"] == before["groups"]

    def segments(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return sorted((r["text"], r["start"], r["end"], r["code"], r["coder"], r["memo"]) for r in rows)

    assert segments(codings(empty)) == segments(codings(cli))
    # the answers became documents of the library, named by their references
    files = {d["file"] for d in json.loads(empty("evidence", "list", "--json").stdout)}
    assert "report-0181.txt" in files
    assert any(name.endswith("_actions.txt") for name in files)


def test_round_trip_into_a_workspace_with_the_same_answers(coded: Path, cli_factory: type[Cli], tmp_path: Path) -> None:
    folder = tmp_path / "same"
    folder.mkdir()
    same = cli_factory(str(folder / "same.db"))
    make_review(same, folder)
    run = same("coding", "import", str(coded))
    assert run.exit_code == 0, run.stderr
    sources = {r["source"] for r in codings(same)}
    assert answer("LM.0181") in sources  # landed on the answer itself
    assert "report-0181.txt" in sources  # the same text: the library's document
    assert len(json.loads(same("evidence", "list", "--json").stdout)) == 2


def test_the_same_file_twice_is_refused_whole(coded: Path, cli: Cli, cli_factory: type[Cli], tmp_path: Path) -> None:
    other = cli_factory(str(tmp_path / "twice.db"))
    assert other("coding", "import", str(coded), "--codebook", "cb").exit_code == 0
    before = state(other)
    again = other("coding", "import", str(coded), "--codebook", "cb")
    assert again.exit_code == 2
    assert "exists already (imported before, or another coder's file reuses it)" in again.stderr
    assert state(other) == before


def test_real_projects_of_other_tools(cli: Cli) -> None:
    run = cli("coding", "import", str(sample("qc-1.3.2__qualitative-coding__demo.qdpx")))
    assert run.exit_code == 0, run.stderr
    assert "Imported 205 codings by cp on 2 sources" in run.stdout
    assert len(codings(cli)) == 205

    nvivo = cli("coding", "import", str(sample("nvivo-win-12.6__pyqdpx__oltas0517.qdpx")), "--codebook", "nvivo")
    assert nvivo.exit_code == 0, nvivo.stderr
    assert "Imported 303 codings" in nvivo.stdout
    texts = [r["text"] for r in codings(cli) if r["codebook"] == "nvivo"]
    # UTF-16 offsets, a BOM and CRLF line breaks: the selections start on the words NVivo's coder selected
    assert "Senkit nem lehet kötelezni oltásra, ilyet csak ostoba korlát" in " ".join(texts)
    at_word_start = [t for t in texts if t[:1].isupper() or not t[:1].isalnum()]
    assert len(at_word_start) / len(texts) > 0.8  # counted as code points with CRLF as one: under 0.1

    maxqda = cli("coding", "import", str(sample("maxqda-24.7__paper_themes__ICLS_Conf_Themes_ALL_just10.qdpx")))
    assert maxqda.exit_code == 0, maxqda.stderr
    assert "on 10 sources" in maxqda.stdout
    atlas = cli("coding", "import", str(sample("atlasti-win-23.2.3__ponte__target-atlas-project.qdpx")))
    assert atlas.exit_code == 0, atlas.stderr
    assert "(3 codes)" in atlas.stdout


def _qdpx(qde: str, files: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qde.encode("utf-8"))
        for name, data in (files or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


G = "1FF58B12-6F6F-4B0C-8BE5-BBDC91F5529"
TEXT = "The pandemic closed the borders and the training moved online for a year."


def _project(selection: str, code: str = G + "1") -> str:
    return (
        '<Project xmlns="urn:QDA-XML:project:1.0" name="p"><Users><User guid="' + G + '9" name="zoe"/></Users>'
        '<CodeBook><Codes><Code guid="' + G + '1" name="Covid-19" isCodable="true"/></Codes></CodeBook><Sources>'
        '<TextSource guid="' + G + '2" name="notes.txt" plainTextPath="internal://' + G + '2.txt">'
        '<PlainTextSelection guid="'
        + G
        + '3" '
        + selection
        + ' creatingUser="'
        + G
        + '9"><Coding guid="'
        + G
        + '4" creatingUser="'
        + G
        + '9"><CodeRef targetGUID="'
        + code
        + '"/></Coding></PlainTextSelection>'
        "</TextSource></Sources></Project>"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a zip at all", "not a REFI-QDA project (.qdpx is a zip file)"),
        (_qdpx("<Project/>").replace(b"project.qde", b"other.xmlxx"), "the zip has no project.qde"),
        (
            _qdpx('<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><Project name="&x;"/>'),
            "refused: the XML declares entities",
        ),
        (
            _qdpx(
                '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><Project name="&b;"/>'
            ),
            "refused: the XML declares entities",
        ),
        (
            _qdpx(_project('startPosition="10" endPosition="999"'), {f"sources/{G}2.txt": TEXT.encode()}),
            "lies outside the text",
        ),
        (
            _qdpx(_project('startPosition="0" endPosition="12"', code=G + "7"), {f"Sources/{G}2.txt": TEXT.encode()}),
            "refers to the unknown code",
        ),
        (_qdpx(_project('startPosition="0" endPosition="12"')), "is not in the zip"),
    ],
)
def test_bad_projects_are_refused_whole(cli: Cli, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.qdpx"
    path.write_bytes(content)
    before = state(cli)
    run = cli("coding", "import", str(path))
    assert run.exit_code == 2
    assert message in run.stderr
    assert "bad.qdpx" in run.stderr
    assert state(cli) == before


def test_a_zip_bomb_is_refused(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bomb.qdpx"
    path.write_bytes(_qdpx(_project('startPosition="0" endPosition="12"'), {"sources/big.txt": b"\0" * (8 << 20)}))
    run = cli("coding", "import", str(path))
    assert run.exit_code == 2
    assert "a zip bomb?" in run.stderr


def test_a_good_small_project_lands(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "good.qdpx"
    crlf = TEXT.replace(" the training", "\r\nthe training")
    path.write_bytes(
        _qdpx(_project('startPosition="0" endPosition="12"'), {f"Sources/{G}2.txt": b"\xef\xbb\xbf" + crlf.encode()})
    )
    run = cli("coding", "import", str(path), "--codebook", "small")
    assert run.exit_code == 0, run.stderr
    rows = codings(cli)
    assert [(r["text"], r["coder"], r["code"], r["source"]) for r in rows] == [
        ("The pandemic", "zoe", "Covid-19", "notes.txt")
    ]


def test_two_coders_files_of_one_codebook_come_together(
    coded: Path, cli: Cli, cli_factory: type[Cli], tmp_path: Path
) -> None:
    for coder in ("ana", "ben"):
        out = tmp_path / f"{coder}.qdpx"
        run = cli(
            "coding",
            "export",
            "--format",
            "qdpx",
            "--codebook",
            "challenges-2022",
            "--coders",
            coder,
            "--out",
            str(out),
        )
        assert run.exit_code == 0, run.stderr
    merged = cli_factory(str(tmp_path / "merged.db"))
    first = merged("coding", "import", str(tmp_path / "ana.qdpx"), "--codebook", "shared")
    assert first.exit_code == 0, first.stderr
    second = merged("coding", "import", str(tmp_path / "ben.qdpx"), "--codebook", "shared")
    assert second.exit_code == 0, second.stderr
    listed = json.loads(merged("coding", "codebook", "list", "--json").stdout)
    assert [(b["name"], b["codes"], b["codings"]) for b in listed] == [("shared", 20, 4)]
    rows = codings(merged)
    assert sorted({r["coder"] for r in rows}) == ["ana", "ben"]
    # the report both coded is one document: the same passage, a unit the two coders share
    report = [r for r in rows if r["source"] == "report-0181.txt"]
    assert len(report) == 2
    assert report[0]["unit"] == report[1]["unit"]
