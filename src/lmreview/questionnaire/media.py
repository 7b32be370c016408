"""Files sent with answers: the photo of an image question, a recording, a video, a report attached to a file
question.

The answer itself is the file's name (``photo.jpg``), as Kobo and ODK write it in their exports; the file is a
:class:`SubmissionFile` row of the submission under that name, whose bytes are a :class:`MediaBlob` stored once by
their SHA-256 (the same photo sent twice is kept once). The bytes live in the database, SQLite or PostgreSQL, so that
an answer and its file are written in one transaction and travel together in every backup (docs/architecture.md
says why this departs from "files beside the workspace").

What is accepted is decided from the content, never from the name or the type the browser claims: the first bytes
say what a file is (:func:`sniff`). An image question takes PNG, JPEG, GIF, WebP, BMP, TIFF or HEIC; an audio
question MP3, Ogg, WAV, FLAC, AMR or M4A; a video question MP4, QuickTime, 3GP, WebM/Matroska or AVI; a file
question anything but a program. The XLSForm ``body::accept`` column narrows it (``.pdf,.docx`` or ``image/*``).
A file is at most ``LMREVIEW_MAX_MEDIA_BYTES`` (10 MiB unless set). Served back, only PNG, JPEG, GIF and WebP images
are shown in the page; every other file is a download (:func:`serving`).
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lmreview.errors import BadInput, Conflict, NotFound, Problem
from lmreview.questionnaire.form_types import MEDIA_TYPES
from lmreview.questionnaire.models import MediaBlob, Submission, SubmissionFile
from lmreview.questionnaire.xlsform import FormDefinition, Question

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
INLINE_IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_FTYP_BRANDS = {
    **dict.fromkeys(("heic", "heix", "heim", "heis", "mif1", "msf1", "heif", "avif"), "image/heic"),
    **dict.fromkeys(("M4A ", "M4B "), "audio/mp4"),
    **dict.fromkeys(("qt  ",), "video/quicktime"),
    **dict.fromkeys(("3gp4", "3gp5", "3gp6", "3g2a", "3gp7"), "video/3gpp"),
}
_ZIP_KINDS = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
}
_PROGRAMS: tuple[bytes, ...] = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe")
_PROGRAMS += (b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")
_MARKUP = re.compile(rb"^\s*(<!doctype\s+html|<html|<script|<svg|<\?xml|<body|<head|<iframe)", re.IGNORECASE)
KIND_WORDS = {"image": "an image", "audio": "a sound recording", "video": "a video", "file": "a file"}


def sniff(data: bytes, filename: str = "") -> str:
    """The media type of ``data`` from its first bytes (``application/octet-stream`` when they say nothing)."""
    head = data[:64]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}[head[8:12]]
    if head.startswith(b"BM") and len(data) > 26:
        return "image/bmp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if head[4:8] == b"ftyp":
        brand = head[8:12].decode("latin-1")
        return _FTYP_BRANDS.get(brand, "video/3gpp" if brand.startswith("3g") else "video/mp4")
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"#!AMR"):
        return "audio/amr"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        return _ZIP_KINDS.get(PurePosixPath(filename.lower()).suffix, "application/zip")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/x-ole-storage"  # .doc, .xls, .ppt
    if head.startswith(_PROGRAMS):
        return "application/x-executable"
    if b"\x00" not in data[:4096]:
        try:
            data[:4096].decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < 4090:  # a character cut at the end of the sample is still text
                return "application/octet-stream"
        if _MARKUP.match(data[:1024].lstrip(b"\xef\xbb\xbf")):
            return "text/html"
        return "text/csv" if filename.lower().endswith(".csv") else "text/plain"
    return "application/octet-stream"


def safe_name(filename: str) -> str:
    """A file name fit to store and to show: the last part of any path (``../../etc/passwd`` is ``passwd``,
    ``C:\\photos\\a.jpg`` is ``a.jpg``), without control characters or ``%``, at most 120 characters (the extension
    kept)."""
    name = PureWindowsPath(PurePosixPath(filename.replace("\x00", "")).name).name
    name = "".join(c for c in unicodedata.normalize("NFC", name) if c.isprintable()).strip().strip(".")
    name = name.replace("%", "_")  # no percent-escape to be decoded twice on its way back in a URL
    if len(name) > 120:
        suffix = PurePosixPath(name).suffix[:16]
        name = name[: 120 - len(suffix)] + suffix
    return name or "file"


def _accepts(accept: str, media_type: str, filename: str) -> bool:
    """Whether ``body::accept`` (``.pdf,.docx``, ``image/*``, ``application/pdf``) lets this file in."""
    for token in (t.strip().lower() for t in accept.replace(";", ",").split(",")):
        if not token:
            continue
        if token.startswith(".") and filename.lower().endswith(token):
            return True
        if token.endswith("/*") and media_type.startswith(token[:-1]):
            return True
        if token == media_type:
            return True
    return False


def problem_with(question: Question, filename: str, data: bytes, limit: int = DEFAULT_MAX_BYTES) -> str | None:
    """Why ``data`` cannot be the answer to ``question``; None when it can."""
    if not data:
        return "the file is empty (or no file was chosen)"
    if len(data) > limit:
        return f"the file is {_size(len(data))}; a file sent with the answers is at most {_size(limit)}"
    media_type = sniff(data, filename)
    if media_type == "application/x-executable":
        return "programs and scripts are not accepted"
    if question.type in ("image", "audio", "video") and not media_type.startswith(f"{question.type}/"):
        shown = media_type if media_type != "application/octet-stream" else "not a format lmreview recognises"
        return f"this question asks for {KIND_WORDS[question.type]}; this file is {shown}"
    if question.accept and not _accepts(question.accept, media_type, filename):
        return f"this question accepts only {question.accept}"
    return None


def max_pixels(question: Question) -> int | None:
    """An image question's ``max-pixels`` parameter (``parameters: max-pixels=1024``), as ODK Collect reads it."""
    found = re.search(r"max-pixels\s*=\s*([0-9]{1,6})", question.parameters or "")
    return int(found[1]) if found and int(found[1]) > 0 else None


def fit_image(question: Question, data: bytes, media_type: str) -> bytes:
    """The image scaled down so that its longest side is the question's ``max-pixels``, as ODK Collect does before
    sending it (PNG, JPEG and WebP; the orientation its EXIF gives is applied first, as the other EXIF is dropped).
    The bytes as sent when there is no such parameter, the image is small enough, it cannot be read, or it is too
    large to decode safely (over 40 megapixels)."""
    longest = max_pixels(question) if question.type == "image" else None
    if longest is None or media_type not in ("image/png", "image/jpeg", "image/webp"):
        return data
    from PIL import Image, ImageOps  # Pillow (MIT-CMU): loaded when an image is to be scaled

    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or "PNG"
            if max(image.size) <= longest or image.width * image.height > 40_000_000:
                return data
            turned = ImageOps.exif_transpose(image)
            turned.thumbnail((longest, longest))
            if kind == "JPEG" and turned.mode not in ("RGB", "L"):
                turned = turned.convert("RGB")
            out = io.BytesIO()
            turned.save(out, format=kind, **({"quality": 90} if kind in ("JPEG", "WEBP") else {}))
            return out.getvalue()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return data


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.1f} MiB" if count >= 1024 * 1024 else f"{count / 1024:.0f} KiB"


def accept_attribute(question: Question) -> str:
    """The ``accept`` of the page's file input: the form's own, else the kind of file asked for."""
    if question.accept:
        return question.accept
    return {"image": "image/*", "audio": "audio/*", "video": "video/*"}.get(question.type, "")


def media_answers(definition: FormDefinition, data: Mapping[str, Any]) -> dict[str, tuple[Question, str]]:
    """Every answer to an image, audio, video or file question: instance path -> (question, file name)."""
    found: dict[str, tuple[Question, str]] = {}

    def walk(questions: list[Question], node: Any, prefix: str) -> None:
        for q in questions:
            raw = node.get(q.name) if isinstance(node, Mapping) else None
            path = f"{prefix}{q.name}"
            if q.type == "group":
                walk(q.children, raw, f"{path}/")
            elif q.type == "repeat":
                for index, item in enumerate(raw if isinstance(raw, list) else [], start=1):
                    walk(q.children, item, f"{path}[{index}]/")
            elif q.type in MEDIA_TYPES and isinstance(raw, str) and raw.strip():
                found[path] = (q, raw.strip())

    walk(definition.survey, data, "")
    return found


def has_media(definition: FormDefinition) -> bool:
    return any(q.type in MEDIA_TYPES for q in definition.walk())


def store(
    session: Session,
    submission: Submission,
    question: Question,
    path: str,
    filename: str,
    data: bytes,
    *,
    limit: int = DEFAULT_MAX_BYTES,
    where: str = "upload",
) -> SubmissionFile:
    """Keep ``data`` as the file of ``path`` in ``submission`` (checked against the question first) and return its
    row; the answer is then its ``filename``, which is made unique within the submission when another file holds
    the name already."""
    name = safe_name(filename)
    problem = problem_with(question, name, data, limit)
    if problem:
        raise BadInput([Problem(where, 0, path, f"{name}: {problem}")], "1 error; the file was not kept")
    media_type = sniff(data, name)
    data = fit_image(question, data, media_type)
    digest = hashlib.sha256(data).hexdigest()
    if session.get(MediaBlob, digest) is None:
        try:  # another request (the page's background save) may store the same bytes at the same moment
            with session.begin_nested():
                session.add(MediaBlob(sha256=digest, size=len(data), media_type=media_type, content=data))
        except IntegrityError:
            pass
    for _attempt in range(3):
        taken = {f.filename: f for f in files_of(session, submission.id)}
        if name in taken and taken[name].sha256 == digest:
            return taken[name]
        stem, suffix = PurePosixPath(name).stem, PurePosixPath(name).suffix
        chosen, number = name, 2
        while chosen in taken:
            chosen = f"{stem}-{number}{suffix}"
            number += 1
        row = SubmissionFile(
            submission_id=submission.id,
            filename=chosen,
            path=path,
            sha256=digest,
            media_type=media_type,
            size=len(data),
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue  # the same name was just taken by another request: look again
        return row
    raise Conflict("the questionnaire is being saved from another window; save again")


def files_of(session: Session, submission_id: int) -> list[SubmissionFile]:
    query = select(SubmissionFile).where(SubmissionFile.submission_id == submission_id)
    return list(session.scalars(query.order_by(SubmissionFile.id)))


def read(session: Session, submission_id: int, filename: str) -> tuple[SubmissionFile, bytes]:
    """A file of a submission and its bytes; NotFound when the submission has no file of that name."""
    row = session.scalar(
        select(SubmissionFile).where(SubmissionFile.submission_id == submission_id, SubmissionFile.filename == filename)
    )
    blob = session.get(MediaBlob, row.sha256) if row is not None else None
    if row is None or blob is None:
        raise NotFound(f"this submission has no file named {filename!r}")
    return row, bytes(blob.content)


def prune(session: Session, submission: Submission, definition: FormDefinition) -> int:
    """Drop the files no answer of the submission names any more (replaced or removed), and the stored bytes no
    file uses; returns how many files were dropped."""
    named = {name for _q, name in media_answers(definition, submission.data or {}).values()}
    named |= {name for _q, name in media_answers(definition, submission.original or {}).values()}
    dropped = [f for f in files_of(session, submission.id) if f.filename not in named]
    for row in dropped:
        session.delete(row)
    if dropped:
        session.flush()
        drop_unused_blobs(session, {row.sha256 for row in dropped})
    return len(dropped)


def drop_unused_blobs(session: Session, digests: set[str]) -> None:
    """Delete the stored bytes of ``digests`` that no file uses; one that another request has just given to a file
    stays (the foreign key refuses the delete, and that is the right answer)."""
    used = exists().where(SubmissionFile.sha256 == MediaBlob.sha256)
    try:
        with session.begin_nested():
            session.execute(
                delete(MediaBlob)
                .where(MediaBlob.sha256.in_(digests), ~used)
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        pass


@dataclass
class Served:
    media_type: str
    inline: bool


def serving(row: SubmissionFile) -> Served:
    """How a file goes back to a browser: PNG, JPEG, GIF and WebP images shown in the page; everything else a
    download, and markup (HTML, SVG, XML) as plain bytes, so that nothing a respondent sent runs in the site."""
    if row.media_type in INLINE_IMAGES:
        return Served(row.media_type, True)
    if row.media_type.startswith("text/"):
        return Served("application/octet-stream" if row.media_type == "text/html" else row.media_type, False)
    return Served(row.media_type, False)


@dataclass
class FileStatus:
    """A media answer and whether its file is stored, for the pages and the CLI."""

    path: str
    label: str
    filename: str
    file: SubmissionFile | None

    @property
    def image(self) -> bool:
        return self.file is not None and self.file.media_type in INLINE_IMAGES


def answers_with_files(
    session: Session, submission: Submission, definition: FormDefinition, language: str | None = None
) -> list[FileStatus]:
    """Every media answer of a submission, each with its stored file (None when the file never arrived)."""
    stored = {f.filename: f for f in files_of(session, submission.id)}
    language = language or definition.default_language
    return [
        FileStatus(path, q.label(language), name, stored.get(name))
        for path, (q, name) in media_answers(definition, submission.data or {}).items()
    ]


def missing(session: Session, submission: Submission, definition: FormDefinition) -> Iterator[str]:
    """The file names the answers give whose files are not stored."""
    for status in answers_with_files(session, submission, definition):
        if status.file is None:
            yield status.filename


@dataclass
class ReviewFile:
    """A media answer of one of a review's submissions, for ``lmreview responses files``."""

    submission: Submission
    status: FileStatus


def review_files(session: Session, review_id: int, submission_id: int | None = None) -> list[ReviewFile]:
    """Every media answer of the review's submissions (or of one of them), in submission order, each with its file
    when it is stored; NotFound when ``submission_id`` is not a submission of the review."""
    from lmreview.questionnaire import submissions as submissions_module  # submissions imports this module

    query = select(Submission).where(Submission.review_id == review_id).order_by(Submission.id)
    if submission_id is not None:
        query = query.where(Submission.id == submission_id)
    found = list(session.scalars(query))
    if submission_id is not None and not found:
        raise NotFound(f"the review has no submission {submission_id}")
    listed = []
    for submission in found:
        definition = submissions_module.definition(submission)
        for status in answers_with_files(session, submission, definition):
            listed.append(ReviewFile(submission, status))
    return listed
