"""Opening an export: a CSV, a zip of CSV files (ODK Central) or a workbook (KoboToolbox, a filled table), each
table named so that problems can be located, and which tool wrote it."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO
from urllib.parse import parse_qs, unquote, urlsplit

from lmreview.errors import BadInput, Problem
from lmreview.questionnaire.exchange.layout import unescape_formula
from lmreview.tables import MAX_RATIO, MAX_UNCOMPRESSED, Table, read_sheets, read_table, read_workbook

MAX_MEMBERS = 1000
# The files sent with answers in an export's zip: each is also read at most LMREVIEW_MAX_MEDIA_BYTES, and none may
# unpack more than MAX_RATIO times its packed size, as every member.
MAX_MEDIA_MEMBERS = 50_000
MAX_MEDIA_TOTAL = 8 * 1024 * 1024 * 1024


# An export as bytes (a web upload), or as an open file (the command line): a zip is then read member by member from
# the disk, so an ODK Central export of several GiB of photos never sits in memory; its tables are read whole.
Source = bytes | BinaryIO


def is_zip(source: Source) -> bool:
    """Whether the export is a zip (ODK Central's, lmreview's, or an XLSX workbook): it starts with a member or, empty,
    with its end record."""
    if isinstance(source, bytes):
        head = source[:4]
    else:
        source.seek(0)
        head = source.read(4)
        source.seek(0)
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06"))


def whole(source: Source) -> bytes:
    """The bytes of an export that is read whole (a CSV, a workbook)."""
    if isinstance(source, bytes):
        return source
    source.seek(0)
    return source.read()


@dataclass
class Sheet:
    name: str  # sheet name, zip member name, or the file name
    file: str  # how problems name it
    table: Table


def open_zip(data: Source, filename: str) -> zipfile.ZipFile:
    """The zip of an export, checked by its directory before anything is read from it: the number of tables and media
    files, what they unpack to together, and no member of over 1 MiB that unpacks more than ``MAX_RATIO`` times its
    packed size (a zip bomb). Reading a member stops at the size the directory declares (zipfile checks it and the
    CRC), so these limits hold for what is read too."""

    def refuse(message: str) -> BadInput:
        return BadInput([Problem(filename, 0, "-", message)])

    try:
        if not isinstance(data, bytes):
            data.seek(0)
        archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise refuse("this zip file is damaged and cannot be opened") from None
    media = [info for info in infos if _in_media_folder(info.filename)]
    tables = [info for info in infos if not _in_media_folder(info.filename)]
    if len(tables) > MAX_MEMBERS or len(media) > MAX_MEDIA_MEMBERS:
        raise refuse(f"refused: the zip holds {len(infos)} files (limit {MAX_MEMBERS}, and {MAX_MEDIA_MEMBERS} media)")
    if (total := sum(info.file_size for info in tables)) > MAX_UNCOMPRESSED:
        raise refuse(f"refused: the zip expands to {total // 1024 // 1024} MiB")
    if (total := sum(info.file_size for info in media)) > MAX_MEDIA_TOTAL:
        raise refuse(f"refused: the media files of the zip expand to {total // 1024 // 1024} MiB")
    for info in infos:
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise refuse(f"refused: {info.filename} expands {info.file_size // max(info.compress_size, 1)} times")
    return archive


def _in_media_folder(name: str) -> bool:
    """A member of an export's ``media/`` (ODK Central, lmreview) or ``files/`` folder: a file sent with answers."""
    return name.startswith(("media/", "files/"))


def media_name(cell: str) -> str:
    """The file name an export's cell gives: ``photo.jpg``, or the last part of a KoboToolbox attachment URL
    (``https://kc.kobotoolbox.org/media/original?media_file=ana%2Fattachments%2F…%2Fphoto.jpg``)."""
    text = cell.strip()
    if "://" not in text:
        return text
    parts = urlsplit(text)
    inside = parse_qs(parts.query).get("media_file")
    return PurePosixPath(inside[0] if inside else unquote(parts.path)).name or text


def media_members(archive: zipfile.ZipFile) -> dict[str, list[zipfile.ZipInfo]]:
    """The files of an export's zip that are not its tables (ODK Central's ``media/``), by file name."""
    found: dict[str, list[zipfile.ZipInfo]] = {}
    for info in archive.infolist():
        if info.is_dir() or (info.filename.lower().endswith(".csv") and "/" not in info.filename):
            continue
        found.setdefault(PurePosixPath(info.filename).name, []).append(info)
    return found


def sheets_of(source: Source, filename: str) -> tuple[str, list[Sheet]]:
    """The tables of the file: ("xlsx", sheets) for a workbook, ("zip", CSV members) or ("csv", [the table])."""
    if not is_zip(source):
        return "csv", [Sheet(filename, filename, _csv_table(whole(source), filename))]
    sheets = []
    with open_zip(source, filename) as archive:
        if "[Content_Types].xml" in archive.namelist():
            data = whole(source)
            try:
                tables = read_workbook(data, filename)
            except BadInput:  # a later sheet may be free text (instructions): a filled workbook needs only the first
                first, (name, _) = read_table(data, filename), read_sheets(data, filename, first_only=True)[0]
                if detect(first.header) is not None:
                    raise
                tables = {name: first}
            return "xlsx", [Sheet(name, f"{filename}:{name}", table) for name, table in tables.items()]
        for info in archive.infolist():
            name = info.filename
            if not name.lower().endswith(".csv") or name.startswith(("media/", "files/")) or " - audit" in name:
                continue
            try:
                with archive.open(info) as member:
                    content = member.read(MAX_UNCOMPRESSED + 1)
            except Exception as exc:  # zlib, CRC and truncation errors all mean a damaged member
                raise BadInput([Problem(filename, 0, "-", f"{name} cannot be read ({type(exc).__name__})")]) from None
            sheets.append(Sheet(name, f"{filename}:{name}", _csv_table(content, f"{filename}:{name}")))
    if not sheets:
        raise BadInput([Problem(filename, 0, "-", "this zip file holds no CSV table")])
    return "zip", sheets


def _csv_table(data: bytes, filename: str) -> Table:
    """A CSV table, its cells without the quote lmreview's export puts before a would-be formula."""
    table = read_table(data, filename)
    for _, cells in table.rows:
        cells[:] = [unescape_formula(cell) for cell in cells]
    return table


def detect(header: list[str]) -> str | None:
    names = set(header)
    if names & {"SubmissionDate", "KEY", "ReviewState", "SubmitterID", "FormVersion", "meta-instanceID"}:
        return "odk"
    if names & {"_uuid", "_id", "_submission_time", "_index", "__version__", "_validation_status", "meta/instanceID"}:
        return "kobo"
    return None
