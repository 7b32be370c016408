"""What every page shares: rendering a template, flash messages, uploads, URLs and download headers.

Routes import these from here, and ``create_app`` too, so that the routes and the app never import each other.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Path as PathParam
from fastapi import Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from lmreview import __version__
from lmreview.errors import BadInput, LmreviewError, Problem
from lmreview.store.base import INT_MAX
from lmreview.text import BadText, is_number, text_problem
from lmreview.web.security import csrf_token, current_user

# A row id in a URL: PostgreSQL's INTEGER range, the same on SQLite; anything else answers 404 (see create_app).
RowId = Annotated[int, PathParam(ge=1, le=INT_MAX)]


def url_with(path: str, params: dict[str, str], **changes: str | None) -> str:
    """``path`` with the query ``params`` and ``changes`` applied (a None or empty value removes a key)."""
    merged = {**params, **changes}
    query = urlencode({k: v for k, v in merged.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


def segment(value: object) -> str:
    """One path segment of a URL: a project code may hold "/", "#", "?" or spaces."""
    return quote(str(value), safe="")


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    user = context.pop("user", None) or current_user(request)
    flashes = request.session.pop("flash", [])
    return templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "csrf_token": csrf_token(request),
            "flashes": flashes,
            "version": __version__,
            "review_role": getattr(request.state, "review_role", None),  # set by security.require_member
            **context,
        },
        status_code=status_code,
    )


async def read_upload(request: Request, file: UploadFile) -> tuple[str, bytes]:
    """The name and bytes of an uploaded file, refused (422) above LMREVIEW_MAX_UPLOAD_BYTES."""
    filename = Path(file.filename or "upload").name
    limit: int = request.app.state.settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise BadInput([Problem(filename, 0, "-", f"the file is larger than {limit // 1024 // 1024} MiB")])
    if not data:
        raise BadInput([Problem(filename, 0, "-", "the file is empty (or no file was chosen)")])
    return filename, data


async def refuse_control_characters(request: Request) -> None:
    """Every route's first dependency: no control character in a path segment, a query value or a form field.

    Path and query values are one line; form fields may hold line breaks and tabs (notes, narratives), and the
    store refuses them where a column holds one line (names, codes, e-mail addresses).
    """
    for key, value in request.path_params.items():
        if isinstance(value, str) and (problem := text_problem(value)):
            raise BadText(f"the address ({key}) {problem}")
    for key, value in request.query_params.multi_items():
        if problem := text_problem(key) or text_problem(value):
            raise BadText(f"the query parameter {key!r} {problem}")
    content_type = request.headers.get("content-type", "")
    if request.method == "POST" and content_type.startswith("multipart/"):
        _check_length(request)
    if request.method == "POST" and content_type.startswith(("application/x-www-form-urlencoded", "multipart/")):
        form = await request.form()
        for key, item in form.multi_items():
            if isinstance(item, str) and (problem := text_problem(key) or text_problem(item, multiline=True)):
                raise BadText(f"the field {key!r} {problem}")


class TooLarge(LmreviewError):
    status = 413


def _check_length(request: Request) -> None:
    """A form with files is refused before it is read (and spooled to disk) when it is larger than any lmreview
    takes: an import (LMREVIEW_MAX_UPLOAD_BYTES) or a page of the questionnaire with up to 20 files
    (LMREVIEW_MAX_MEDIA_BYTES each). Browsers always say how long a form is; a request that does not is refused."""
    settings = request.app.state.settings
    limit = max(settings.max_upload_bytes, 20 * settings.max_media_bytes) + 1024 * 1024
    length = request.headers.get("content-length", "")
    if not is_number(length, 18):
        raise TooLarge("a form with files must give its length (Content-Length); send it from the page")
    if int(length) > limit:
        raise TooLarge(f"the files sent together are larger than {limit // 1024 // 1024} MiB; send fewer at a time")


def flash(request: Request, message: str, kind: str = "info") -> None:
    request.session.setdefault("flash", []).append({"kind": kind, "message": message})


def attachment(filename: str) -> dict[str, str]:
    """A Content-Disposition header offering ``filename`` for download (RFC 6266): an ASCII fallback in
    ``filename`` and the name itself, percent-encoded UTF-8, in ``filename*`` (RFC 5987). Control characters,
    quotes, slashes and backslashes never reach the header.

    >>> print(attachment("Анкета 2024.xlsx")["Content-Disposition"])
    attachment; filename="Anketa 2024.xlsx"; filename*=UTF-8''%D0%90%D0%BD%D0%BA%D0%B5%D1%82%D0%B0%202024.xlsx
    """
    name = "".join(c if c.isprintable() and c not in '"\\/' else "_" for c in filename).strip() or "download"
    ascii_name = _ascii(name)
    return {"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"}


def _ascii(name: str) -> str:
    """``name`` in printable ASCII for old clients: accents dropped, Cyrillic transliterated, the rest as "_"."""
    folded = unicodedata.normalize("NFKD", name.translate(_CYRILLIC))
    return "".join(c if " " <= c <= "~" else "_" for c in folded if not unicodedata.combining(c))


# а-я with ё after е, letter by letter; "-" drops the hard and soft signs.
_LATIN = "a b v g d e yo zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya".split()  # noqa: SIM905
_CYRILLIC = str.maketrans(
    {
        **{c: "" if t == "-" else t for c, t in zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", _LATIN, strict=True)},
        **{
            c: "" if t == "-" else t.capitalize()
            for c, t in zip("АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ", _LATIN, strict=True)
        },
    }
)


def media_response(filename: str, media_type: str, content: bytes, inline: bool) -> Response:
    """A file sent with answers, back to a browser: shown in the page only when ``inline`` (a PNG, JPEG, GIF or WebP
    image, see questionnaire/media.py), else a download; never sniffed, never cached by shared caches."""
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=300"}
    if inline:
        headers["Content-Disposition"] = attachment(filename)["Content-Disposition"].replace("attachment", "inline", 1)
        headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    else:
        headers.update(attachment(filename))
    return Response(content, media_type=media_type, headers=headers)


def page_number(value: str | None, name: str) -> int:
    """The page number a query parameter ``name`` asks for (1 when absent), or a 400 naming the parameter."""
    if not value:
        return 1
    if not is_number(value, 7) or not 1 <= int(value) <= 1_000_000:
        raise BadInput([Problem(name, 0, "-", f"{value[:20]!r} is not a page number (1, 2, …)")])
    return int(value)


def pager(page: int, size: int, total: int, shown: int) -> dict[str, int]:
    """Where a page stands: its number, the last page, and the rows it shows (first-last of total)."""
    pages = max(1, -(-total // size))
    first = (page - 1) * size + 1 if shown else 0
    return {"page": page, "pages": pages, "size": size, "total": total, "first": first, "last": first + shown - 1}
