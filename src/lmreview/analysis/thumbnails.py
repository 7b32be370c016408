"""Thumbnails of the images sent with the answers, for the report: a few small pictures under the count of an image
question, so that a reader of the PDF or the Word file sees what arrived (the web UI links every file).

Bounded: at most :data:`PER_QUESTION` pictures per question and :data:`PER_REPORT` in a report, each at most
:data:`SIDE` pixels on its longest side and re-encoded as JPEG (a 12-megapixel photo becomes some 10 KB). Only PNG,
JPEG, GIF and WebP files are drawn (the kinds lmreview shows in its pages); an image of over :data:`MAX_PIXELS` or
one Pillow cannot read is left out and counted. Read-only, like the rest of ``analysis/``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.questionnaire.models import MediaBlob, SubmissionFile

PER_QUESTION = 6
PER_REPORT = 36
SIDE = 240
MAX_PIXELS = 40_000_000  # as media.fit_image: a larger image is not decoded
DRAWN = ("image/png", "image/jpeg", "image/gif", "image/webp")


@dataclass(frozen=True, slots=True)
class Thumbnail:
    unit: str  # the row the file belongs to (a project code, or a respondent or submission key)
    filename: str
    jpeg: bytes
    width: int
    height: int


@dataclass
class Budget:
    """How many thumbnails the report may still hold."""

    left: int = PER_REPORT


def thumbnail(data: bytes) -> tuple[bytes, int, int] | None:
    """A JPEG of at most SIDE × SIDE pixels from an image's bytes, with its size; None when it cannot be drawn."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                return None
            image.draft("RGB", (SIDE, SIDE))  # a JPEG is decoded at a fraction of its size: much faster
            image.thumbnail((SIDE, SIDE))
            picture = image.convert("RGB")
            out = io.BytesIO()
            picture.save(out, "JPEG", quality=80, optimize=True)
            return out.getvalue(), picture.width, picture.height
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def thumbnails(session: Session, files: Sequence[tuple[str, int, str]], budget: Budget) -> tuple[Thumbnail, ...]:
    """Thumbnails of the first images of ``files`` ((unit, submission row id, file name), in the report's order):
    at most PER_QUESTION, and no more than the budget of the report has left."""
    made: list[Thumbnail] = []
    for unit, submission_id, filename in files:
        if len(made) >= PER_QUESTION or budget.left <= 0:
            break
        found = session.execute(
            select(MediaBlob.content, MediaBlob.media_type)
            .join(SubmissionFile, SubmissionFile.sha256 == MediaBlob.sha256)
            .where(SubmissionFile.submission_id == submission_id, SubmissionFile.filename == filename)
        ).first()
        if found is None or found.media_type not in DRAWN:
            continue
        drawn = thumbnail(bytes(found.content))
        if drawn is None:
            continue
        made.append(Thumbnail(unit, filename, *drawn))
        budget.left -= 1
    return tuple(made)
