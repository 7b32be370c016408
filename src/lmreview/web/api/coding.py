"""``/api/v1/coding``: codebooks and their codes and groups, codings applied to and removed from a text, and the
suggestions a coder accepts or rejects — what the coding pages do, with the same service functions as they and
``lmreview coding``.

Rights as on the web: codebooks are the office's (the site reviewer role); an answer of a review is coded by that
review's reviewers and managers (a reader hears 403, a non-member hears what a source that does not exist hears:
404); a document or an extracted item of the evidence library by a site reviewer. A coder removes their own
codings, a site administrator anyone's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from lmreview import access
from lmreview.coding import agreement, codebooks, segments, suggest, view
from lmreview.coding.models import Code, Coding
from lmreview.coding.sources import Source, find_answer
from lmreview.errors import BadInput, Forbidden, LmreviewError, NotFound, Problem
from lmreview.questionnaire.models import Submission
from lmreview.store.base import INT_MAX, find_row
from lmreview.store.models import User
from lmreview.store.users import can
from lmreview.web.api.deps import CallerDep, WriterDep, created, etag_json, need_role
from lmreview.web.api.schemas import Line, Text
from lmreview.web.pages import RowId

router = APIRouter(tags=["coding"])
Id = Annotated[int, Field(strict=True, ge=1, le=INT_MAX)]
Offset = Annotated[
    int, Field(strict=True, ge=0, le=INT_MAX, description="in characters (code points) of the source's text")
]
Reference = Annotated[Line, Field(max_length=300, description="a document id or file name, SUBMISSION/PATH, item:ID")]


def _bad(field: str, message: str) -> BadInput:
    return BadInput([Problem(field, 0, "-", message)], message=f"{field}: {message}")


@contextmanager
def _invalid_as(field: str) -> Iterator[None]:
    """A plain refusal of the coding services (a span outside the text, a rule that is no pattern…) as a 422 naming
    ``field``; not found, forbidden and conflicts keep their status."""
    try:
        yield
    except LmreviewError as exc:
        if type(exc) is LmreviewError:
            raise _bad(field, exc.message) from None
        raise


class CodeOut(BaseModel):
    id: int
    name: str
    path: str
    depth: int
    colour: str | None
    description: str | None
    codable: bool = Field(description="false: a heading, not applied itself")
    groups: list[str]


class GroupOut(BaseModel):
    name: str
    exclusive: bool
    codes: list[str]


class CodebookOut(BaseModel):
    name: str
    title: str | None
    codes: list[CodeOut]
    groups: list[GroupOut]


class CodebookSummary(BaseModel):
    name: str
    title: str | None
    codes: int
    groups: int
    codings: int


def _codebook_json(book: Any) -> dict[str, Any]:
    groups = {r.code.id: [g.name for g in r.groups] for r in codebooks.code_rows(book)}
    by_id = {c.id: c for c in book.codes}
    return {
        "name": book.name,
        "title": book.title,
        "codes": [{**c, "groups": groups.get(c["id"], [])} for c in view.codes_json(book)],
        "groups": [
            {
                "name": g.name,
                "exclusive": g.exclusive,
                "codes": [codebooks.code_path(by_id[m.code_id], by_id) for m in g.members if m.code_id in by_id],
            }
            for g in book.groups
        ],
    }


@router.get("/coding/codebooks", response_model=list[CodebookSummary], summary="The codebooks")
def list_codebooks(request: Request, who: CallerDep) -> Response:
    need_role(who, "reviewer")
    with request.app.state.store.session() as session:
        data = [
            {"name": b.name, "title": b.title, "codes": b.codes, "groups": b.groups, "codings": b.codings}
            for b in codebooks.list_codebooks(session)
        ]
    return etag_json(request, who, data, list[CodebookSummary])


@router.get("/coding/codebooks/{name}", response_model=CodebookOut, summary="A codebook: its codes (with ids), groups")
def get_codebook(request: Request, who: CallerDep, name: str) -> Response:
    need_role(who, "reviewer")
    with request.app.state.store.session() as session:
        data = _codebook_json(codebooks.get_codebook(session, name))
    return etag_json(request, who, data, CodebookOut)


class CodebookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line | None = Field(default=None, max_length=80, description="required unless a starter is installed")
    starter: Line | None = Field(default=None, max_length=80, description="install a starter codebook (e.g. dac)")


@router.post("/coding/codebooks", response_model=CodebookOut, status_code=201, summary="Create a codebook")
def create_codebook(request: Request, who: WriterDep, body: CodebookIn | None = None) -> Response:
    """An empty codebook, or a starter one (``starter``; ``name`` renames it), as the Coding page (the site reviewer
    role; 409 when the name is taken)."""
    need_role(who, "reviewer")
    given = body or CodebookIn()
    with request.app.state.store.session() as session:
        if given.starter:
            book = codebooks.install_starter(session, given.starter, actor=who.user.name, name=given.name or None)
        elif not (given.name or "").strip():
            raise _bad("name", "name the codebook (or choose a starter)")
        else:
            book = codebooks.create_codebook(session, (given.name or "").strip(), actor=who.user.name)
        data = _codebook_json(book)
    return created(data, CodebookOut)


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Line | None = Field(default=None, max_length=300, description="the code's name (required)")
    parent: Line | None = Field(default=None, max_length=1000, description="the parent code's name or path")
    description: Text | None = Field(default=None, max_length=20_000)
    colour: Line | None = Field(default=None, max_length=20, description="#RRGGBB")
    group: Line | None = Field(default=None, max_length=300, description="a group of the codebook to join")


@router.post(
    "/coding/codebooks/{name}/codes", response_model=CodeOut, status_code=201, summary="Add a code to a codebook"
)
def add_code(request: Request, who: WriterDep, name: str, body: CodeIn | None = None) -> Response:
    need_role(who, "reviewer")
    given = body or CodeIn()
    with request.app.state.store.session() as session:
        book = codebooks.get_codebook(session, name)
        if not (given.code or "").strip():
            raise _bad("code", "name the code")
        code = codebooks.add_code(
            session,
            book,
            given.code or "",
            actor=who.user.name,
            parent=given.parent or None,
            description=given.description or None,
            colour=given.colour or None,
            group=given.group or None,
        )
        session.flush()
        session.refresh(book)
        data = next(c for c in _codebook_json(book)["codes"] if c["id"] == code.id)
    return created(data, CodeOut)


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group: Line | None = Field(default=None, max_length=300, description="the group's name (required)")
    exclusive: bool = Field(
        default=False, strict=True, description="a coder may give a unit only one code of the group"
    )
    codes: list[Annotated[Line, Field(max_length=1000)]] = Field(
        default_factory=list, max_length=1000, description="its codes, by name or path"
    )


@router.post(
    "/coding/codebooks/{name}/groups", response_model=GroupOut, status_code=201, summary="Add a group of codes"
)
def add_group(request: Request, who: WriterDep, name: str, body: GroupIn | None = None) -> Response:
    need_role(who, "reviewer")
    given = body or GroupIn()
    with request.app.state.store.session() as session:
        book = codebooks.get_codebook(session, name)
        if not (given.group or "").strip():
            raise _bad("group", "name the group")
        group_name = (given.group or "").strip()
        codebooks.add_group(
            session, book, group_name, exclusive=given.exclusive, actor=who.user.name, codes=given.codes
        )
        session.flush()
        session.refresh(book)
        data = next(g for g in _codebook_json(book)["groups"] if g["name"] == group_name)
    return created(data, GroupOut)


# --- codings ------------------------------------------------------------------------------------------------------


def _source(session: Session, user: User, reference: str) -> Source:
    """The source ``user`` may code: an answer of a review they are a reviewer or manager of, or (site reviewer) a
    document or item of the library. A non-member hears what a source that does not exist hears (404)."""
    unknown = NotFound(segments.unknown_source(reference))
    if "/" in reference:
        submission, _ = find_answer(session, reference)
        review_id = submission.review_id if submission is not None else None
        if review_id is not None and access.review_role(session, user, review_id) is None:
            raise unknown
    source = segments.resolve_source(session, reference)
    if isinstance(source, str):
        if source == segments.unknown_source(reference):
            raise unknown
        raise _bad("source", source)
    if source.submission_id is not None:
        submission = find_row(session, Submission, source.submission_id)
        if submission is not None and submission.review_id is not None:
            access.require_review(session, user, submission.review_id, "write")
            return source
    if not can(user, "reviewer"):
        raise Forbidden(f"this needs the reviewer role; you are a {user.role}")
    return source


class CodingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Reference | None = Field(
        default=None, description="what is coded (required): a document id or file name, SUBMISSION/PATH, item:ID"
    )
    start: Offset | None = Field(default=None, description="where the span starts (required)")
    end: Offset | None = Field(default=None, description="where it ends, exclusive (required)")
    code_id: Id | None = Field(default=None, description="the code's id (GET /coding/codebooks/{name})")
    memo: Text | None = Field(default=None, max_length=20_000)


class CodingOut(BaseModel):
    id: int
    source: str
    start: int
    end: int
    code: str
    code_id: int
    colour: str | None
    coder: str
    memo: str | None


def _apply(session: Session, user: User, given: CodingIn, memo: str | None) -> dict[str, Any]:
    for field in ("source", "start", "end", "code_id"):
        if getattr(given, field) is None:
            raise _bad(field, "give source, start, end and code_id")
    reference = (given.source or "").strip()
    source = _source(session, user, reference)
    code = session.get(Code, given.code_id)
    if code is None:
        raise NotFound(f"there is no code {given.code_id}")
    with _invalid_as("start"):
        coding = segments.apply_code(
            session, source, code, given.start or 0, given.end or 0, coder=user.name, actor=user.name, memo=memo
        )
    return {
        "id": coding.id,
        "source": reference,
        "start": coding.start,
        "end": coding.end,
        "code": code.name,
        "code_id": code.id,
        "colour": code.colour,
        "coder": coding.coder,
        "memo": coding.memo,
    }


@router.post("/coding/codings", response_model=CodingOut, status_code=201, summary="Code a span of a text")
def add_coding(request: Request, who: WriterDep, body: CodingIn | None = None) -> Response:
    """As the coding page: ``source``'s text from ``start`` to ``end`` (code points, end exclusive) gets the code,
    coded by you; 422 for a span outside the text, a heading, a second code of an exclusive group, or a coding you
    made already."""
    with request.app.state.store.session() as session:
        data = _apply(session, who.user, body or CodingIn(), (body.memo or "").strip() or None if body else None)
    return created(data, CodingOut)


class CodingRemoved(BaseModel):
    removed: int


@router.delete("/coding/codings/{coding_id}", response_model=CodingRemoved, summary="Remove a coding")
def remove_coding(request: Request, who: WriterDep, coding_id: RowId) -> Response:
    """Your own coding (a site administrator: anyone's); audited."""
    user = who.user
    with request.app.state.store.session() as session:
        found = find_row(session, Coding, coding_id)
        missing = NotFound(f"no coding {coding_id}" + ("" if user.role == "admin" else f" of {user.name}"))
        if found is None:
            raise missing
        submission = find_row(session, Submission, found.submission_id) if found.submission_id else None
        if submission is not None and submission.review_id is not None:
            if access.review_role(session, user, submission.review_id) is None:
                raise missing
            access.require_review(session, user, submission.review_id, "write")
        elif not can(user, "reviewer"):
            raise Forbidden(f"this needs the reviewer role; you are a {user.role}")
        segments.remove_coding(session, coding_id, actor=user.name, coder=None if user.role == "admin" else user.name)
    return created({"removed": coding_id}, CodingRemoved, status_code=200)


# --- suggestions ----------------------------------------------------------------------------------------------------


class SuggestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codebook: Line | None = Field(default=None, max_length=80, description="required")
    sources: list[Reference] | None = Field(
        default=None, max_length=10_000, description="the texts to look in (default: all of the review's)"
    )
    code_id: Id | None = Field(default=None, description="the code to suggest (a rule)")
    words: Line | None = Field(
        default=None, max_length=suggest.MAX_RULE, description="keywords separated by commas, or a pattern"
    )
    regex: bool = Field(default=False, strict=True, description="words is a regular expression")
    earlier: bool = Field(
        default=False, strict=True, description="instead of a rule: the codes you gave the same passage earlier"
    )


class SuggestionOut(BaseModel):
    source: str
    start: int
    end: int
    code: str
    code_id: int | None
    text: str


class Suggestions(BaseModel):
    suggestions: list[SuggestionOut]


def _code_of(book: Any, code_id: int | None) -> Code:
    code: Code | None = next((c for c in book.codes if c.id == code_id), None)
    if code is None:
        raise _bad("code_id", f"no code {code_id} in codebook {book.name}")
    return code


@router.post(
    "/coding/reviews/{name}/suggestions",
    response_model=Suggestions,
    summary="Suggested codings of a review's texts (nothing is coded)",
)
def suggestions(request: Request, who: WriterDep, name: str, body: SuggestIn | None = None) -> Response:
    """For you as the coder (a reviewer or manager of the review): the spans a keyword rule finds (``code_id``,
    ``words``, ``regex``), or with ``earlier`` the codes you gave the same passage before. Accept one with
    ``…/suggestions/accept``, reject it with ``…/suggestions/reject``."""
    user = who.user
    with request.app.state.store.session() as session:
        review = access.require_review_named(session, user, name, "write")
        given = body or SuggestIn()
        if not given.codebook:
            raise _bad("codebook", "name the codebook")
        book = codebooks.get_codebook(session, given.codebook)
        wanted = set(given.sources) if given.sources is not None else None
        ids = {c.name: c.id for c in reversed(book.codes)}
        if given.earlier:
            found = suggest.from_earlier(session, review.name, codebook=book.name, coder=user.name, sources=wanted)
        else:
            code = _code_of(book, given.code_id)
            ids = {code.name: code.id}
            with _invalid_as("words"):
                found = suggest.suggest(
                    session,
                    review.name,
                    codebook=book.name,
                    code=codebooks.code_path(code, {c.id: c for c in book.codes}),
                    rule=given.words or "",
                    coder=user.name,
                    regex=given.regex,
                    sources=wanted,
                )
        rows = [
            {
                "source": x.source,
                "start": x.start,
                "end": x.end,
                "code": x.code,
                "code_id": ids.get(x.code),
                "text": x.text,
            }
            for x in found
        ]
    return created({"suggestions": rows}, Suggestions, status_code=200)


class SuggestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codebook: Line | None = Field(default=None, max_length=80, description="required")
    source: Reference | None = Field(default=None, description="required")
    start: Offset | None = None
    end: Offset | None = None
    code_id: Id | None = None


def _suggestion(session: Session, user: User, name: str, body: SuggestionIn | None) -> tuple[Any, Code, str]:
    access.require_review_named(session, user, name, "write")
    given = body or SuggestionIn()
    for field in ("codebook", "source", "start", "end", "code_id"):
        if getattr(given, field) is None:
            raise _bad(field, "give the suggestion's codebook, source, start, end and code_id")
    book = codebooks.get_codebook(session, given.codebook or "")
    return book, _code_of(book, given.code_id), (given.source or "").strip()


@router.post(
    "/coding/reviews/{name}/suggestions/accept",
    response_model=CodingOut,
    status_code=201,
    summary="Accept a suggestion: the span is coded",
)
def accept(request: Request, who: WriterDep, name: str, body: SuggestionIn | None = None) -> Response:
    """As the coding page's Accept: the span is coded with the memo "suggested"."""
    with request.app.state.store.session() as session:
        _book, code, reference = _suggestion(session, who.user, name, body)
        given = body or SuggestionIn()
        coding = CodingIn(source=reference, start=given.start, end=given.end, code_id=code.id)
        data = _apply(session, who.user, coding, "suggested")
    return created(data, CodingOut)


class Rejected(BaseModel):
    id: int
    source: str
    start: int
    end: int
    text: str = Field(description="the text of the span, read from the source")


@router.post(
    "/coding/reviews/{name}/suggestions/reject",
    response_model=Rejected,
    status_code=201,
    summary="Reject a suggestion: not proposed to you again",
)
def reject(request: Request, who: WriterDep, name: str, body: SuggestionIn | None = None) -> Response:
    """Remembered for you: the suggestion is not proposed to you again while the source holds the same text there;
    audited."""
    with request.app.state.store.session() as session:
        book, code, reference = _suggestion(session, who.user, name, body)
        given = body or SuggestionIn()
        _source(session, who.user, reference)
        path = codebooks.code_path(code, {c.id: c for c in book.codes})
        found = suggest.Suggestion(reference, given.start or 0, given.end or 0, path, who.user.name, "", "")
        with _invalid_as("start"):
            rejection = suggest.reject(session, found, codebook=book.name, actor=who.user.name)
        data = {"id": rejection.id, "source": reference, "start": found.start, "end": found.end, "text": rejection.text}
    return created(data, Rejected)


# --- comparing the coders ------------------------------------------------------------------------------------------


class CodebookOfReview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codebook: Line | None = Field(default=None, max_length=80, description="required")


class Comparison(BaseModel):
    review: str
    codebook: str
    opened: bool = Field(description="false: it was open already")


@router.post(
    "/coding/reviews/{name}/compare",
    response_model=Comparison,
    summary="Open the comparison: the coders of a codebook see one another's codings",
)
def open_comparison(request: Request, who: WriterDep, name: str, body: CodebookOfReview | None = None) -> Response:
    """As the agreement page and ``lmreview coding compare`` (a manager of the review); until then each coder sees
    only their own codings. Audited."""
    with request.app.state.store.session() as session:
        review = access.require_review_named(session, who.user, name, "manage")
        if body is None or not body.codebook:
            raise _bad("codebook", "name the codebook")
        opened = agreement.open_comparison(session, review.name, body.codebook, actor=who.user.name)
        data = {"review": review.name, "codebook": body.codebook, "opened": opened}
    return created(data, Comparison, status_code=200)


class AgreementOut(BaseModel):
    agreement: dict[str, Any] | None = Field(
        description="the coders, and per code, per exclusive group and overall: units, percent_agreement, kappa, "
        "alpha (null where undefined); null while it cannot be measured (see note)"
    )
    note: str | None = Field(description="why there is no agreement yet (the comparison is closed, one coder…)")
    disagreements: list[dict[str, Any]] = Field(description='{"unit", "text", "codes": {coder: [code, …]}}')


@router.get(
    "/coding/reviews/{name}/agreement",
    response_model=AgreementOut,
    summary="The coders' agreement on a codebook, and the units where they disagree",
)
def coders_agreement(
    request: Request, who: CallerDep, name: str, codebook: Annotated[str, Query(max_length=80)]
) -> Response:
    """As the agreement page (any member): measured once the manager opened the comparison."""
    with request.app.state.store.session() as session:
        review = access.require_review_named(session, who.user, name)
        codebooks.get_codebook(session, codebook)
        data: dict[str, Any] = {"agreement": None, "note": None, "disagreements": []}
        try:
            data["agreement"] = agreement.agreement(session, review.name, codebook=codebook).as_json()
            data["disagreements"] = [
                {"unit": d.unit, "text": d.text, "codes": d.codes}
                for d in agreement.disagreements(session, review.name, codebook=codebook)
            ]
        except (Forbidden, BadInput) as exc:
            data["note"] = exc.message
        except LmreviewError as exc:
            if type(exc) is not LmreviewError:
                raise
            data["note"] = exc.message
    return etag_json(request, who, data, AgreementOut)


class ConsensusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codebook: Line | None = Field(default=None, max_length=80, description="required")
    unit: Line | None = Field(default=None, max_length=1000, description="the unit, as the disagreements name it")
    codes: list[Annotated[Line, Field(max_length=1000)]] = Field(
        default_factory=list, max_length=1000, description="the codes kept (names or paths); none: the unit has none"
    )
    reason: Text | None = Field(default=None, max_length=20_000)


class Consensus(BaseModel):
    unit: str
    codings: int = Field(description="the consensus codings made")


@router.post(
    "/coding/reviews/{name}/consensus",
    response_model=Consensus,
    status_code=201,
    summary="Record the consensus on a unit the coders disagree on",
)
def record_consensus(request: Request, who: WriterDep, name: str, body: ConsensusIn | None = None) -> Response:
    """As the agreement page and ``lmreview coding consensus`` (a manager of the review, the comparison open): the
    codes kept are copied from the coders' segments as the consensus coder's; an earlier consensus is replaced."""
    with request.app.state.store.session() as session:
        review = access.require_review_named(session, who.user, name, "manage")
        given = body or ConsensusIn()
        if not given.codebook:
            raise _bad("codebook", "name the codebook")
        if not given.unit:
            raise _bad("unit", "name the unit")
        with _invalid_as("unit"):
            made = agreement.consensus(
                session,
                review.name,
                codebook=given.codebook,
                unit=given.unit,
                codes=given.codes,
                actor=who.user.name,
                reason=(given.reason or "").strip() or None,
            )
    return created({"unit": given.unit, "codings": made}, Consensus)
