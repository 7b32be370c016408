"""Full-text search of passages: one function, two engines.

The user's query is parsed here, never handed to an engine as typed: words, "quoted phrases", prefixes
(``migra*``), ``AND`` (also implied between words), ``OR``, ``NOT`` (or a leading ``-``). Anything else (stray
quotes, brackets, an operator without a word) is dropped, so a query never makes the database raise; a query
left without a word to look for is refused with a message. The parsed query is written out in FTS5's syntax on
SQLite (ranked by ``bm25``, shown with ``snippet``) and in ``tsquery`` syntax on PostgreSQL (ranked by
``ts_rank_cd`` normalised by length, shown with ``ts_headline``). Raw SQL is used here only: neither engine's
full-text functions have an SQLAlchemy expression.
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from lmreview.errors import LmreviewError

# Around a matched word in a snippet: control characters, which stored text never holds (lmreview.text refuses
# them), so that no character of a passage can be taken for a marker.
MARK_START, MARK_END = "\x02", "\x03"
_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')
_WORD = re.compile(r"[^\W_]+")
# PostgreSQL's English stop words (Snowball's list): ignored in a query on both engines, so that they agree.
_STOP_TEXT = (
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her "
    "hers herself it its itself they them their theirs themselves what which who whom this that these "
    "those am is are was were be been being have has had having do does did doing a an the and but if or "
    "because as until while of at by for with about against between into through during before after "
    "above below to from up down in out on off over under again further then once here there when where "
    "why how all any both each few more most other some such no nor not only own same so than too very s "
    "t can will just don should now"
)
_STOPWORDS = frozenset(_STOP_TEXT.split())
# Letters with a diacritic and their base letter: SQLite's index folds them (remove_diacritics 2); on PostgreSQL
# the passage text and the query are folded alike with translate().


def _folding() -> tuple[str, str]:
    accented = plain = ""
    for char in map(chr, range(0xC0, 0x250)):
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        if len(base) == 1 and base.isascii() and base.isalpha() and base != char:
            accented, plain = accented + char, plain + base
    return accented, plain


_ACCENTED, _PLAIN = _folding()
_FOLD = str.maketrans(_ACCENTED, _PLAIN)
WHOLE = 300  # a passage up to this many characters is shown whole, longer ones as a snippet
YEARS = (1900, 2200)  # the years a filter accepts
MAX_TERMS, MAX_CHARS, MAX_LIMIT = 32, 500, 1000
# Matches ranked and counted: a query matching more passages (a word most passages hold) ranks the CAP matches
# most recently added, and its total reads "CAP or more". Counting and ranking every match of such a word took
# seconds on a million passages; this keeps every query's work bounded (docs/evidence.md, docs/benchmarks.md).
CAP = 2000


def check_year(value: int | None, name: str) -> int | None:
    """``value`` if it is a plausible year (or None); otherwise the user's mistake, named after the option."""
    if value is not None and not YEARS[0] <= value <= YEARS[1]:
        message = f"{value} is not a year between {YEARS[0]} and {YEARS[1]}"
        raise LmreviewError(f"{name}: {message}")
    return value


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        message = f"{limit} is not a number of hits between 1 and {MAX_LIMIT}"
        raise LmreviewError(f"limit: {message}")
    return limit


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]
    prefix: bool = False
    negated: bool = False
    text: str = ""  # the term as typed (lower case, accents folded, without - and *): PostgreSQL parses it itself


@dataclass(frozen=True)
class Query:
    """OR of clauses; a clause is an AND of terms, some negated."""

    clauses: tuple[tuple[Term, ...], ...]

    @property
    def words(self) -> list[tuple[str, bool]]:
        """The words to highlight: (word, prefix)."""
        return [
            (w, t.prefix and i == len(t.words) - 1)
            for clause in self.clauses
            for t in clause
            if not t.negated
            for i, w in enumerate(t.words)
        ]


def parse_query(query: str) -> Query:
    """The query's clauses, in one pass over it; a term repeated within a clause, or a clause repeated, counts once.

    A query of more than ``MAX_CHARS`` characters or ``MAX_TERMS`` distinct terms is refused: each term costs the
    engines a pass over the index, and no one reads the hits of such a query.
    """
    if len(query) > MAX_CHARS:
        raise LmreviewError(f"the query is {len(query)} characters long; at most {MAX_CHARS} are searched")
    clauses: list[list[Term]] = [[]]
    common: list[str] = []  # terms of stop words only, which neither engine looks for
    negate = False
    for match in _TOKEN.finditer(query):
        phrase, bare = match[1], match[2]
        if phrase is None and bare in ("AND", "&&"):
            continue
        if phrase is None and bare in ("OR", "||", "|"):
            if clauses[-1]:
                clauses.append([])
            negate = False
            continue
        if phrase is None and bare == "NOT":
            negate = True
            continue
        raw = phrase if phrase is not None else bare
        if phrase is None and raw.startswith("-") and len(raw) > 1:
            negate, raw = True, raw.lstrip("-")
        words = tuple(w.lower() for w in _WORD.findall(raw))
        if not words:
            continue
        prefix = phrase is None and raw.rstrip("\"')]}").endswith("*")
        negated, negate = negate, False
        if not prefix and all(w in _STOPWORDS for w in words):
            common.append(raw)
            continue
        clauses[-1].append(Term(words, prefix, negated, raw.rstrip("*").lower().translate(_FOLD)))
    unique = dict.fromkeys(tuple(dict.fromkeys(c)) for c in clauses if any(not t.negated for t in c))
    kept = tuple(unique)
    terms = sum(len(c) for c in kept)
    if terms > MAX_TERMS:
        raise LmreviewError(f"the query has {terms} different terms; at most {MAX_TERMS} are searched at once")
    if not kept:
        if any(clauses[0]) or len(clauses) > 1:
            raise LmreviewError(
                "NOT needs a word to search for beside the words it excludes, e.g. recruitment NOT fees"
            )
        if common:
            raise LmreviewError(
                f"the query {query.strip()!r} has only common words ({', '.join(common[:3])}), which are not searched"
            )
        raise LmreviewError(f"the query {query.strip()!r} has no word to search for")
    return Query(kept)


def to_fts5(query: Query) -> str:
    def term(t: Term) -> str:
        return '"' + " ".join(t.words) + '"' + ("*" if t.prefix else "")

    parts = []
    for clause in query.clauses:
        positive = " AND ".join(term(t) for t in clause if not t.negated)
        negative = "".join(f" NOT {term(t)}" for t in clause if t.negated)
        parts.append(f"({positive}{negative})")
    return " OR ".join(parts)


def to_tsquery(query: Query) -> tuple[str, dict[str, str]]:
    """An SQL expression of the query's ``tsquery`` and its parameters.

    Each term is parsed by PostgreSQL itself with the configuration of the index (``phraseto_tsquery``), so that
    the query's words are tokenised as the passages' are (``LM.0301`` stays one token, stop words drop out); a
    prefix term is written out with ``:*``. Terms are joined with ``&&``, ``||`` and ``!!``.
    """
    params: dict[str, str] = {}

    def term(t: Term) -> str:
        name = f"t{len(params)}"
        if t.prefix:
            words = [f"'{w.translate(_FOLD)}'" for w in t.words]
            words[-1] += ":*"
            params[name] = " <-> ".join(words)
            sql = f"to_tsquery('english', :{name})"
        else:
            params[name] = t.text
            sql = f"phraseto_tsquery('english', :{name})"
        return f"!!{sql}" if t.negated else sql

    expression = " || ".join("(" + " && ".join(term(t) for t in clause) + ")" for clause in query.clauses)
    return expression, params


def pg_folded(column: str) -> str:
    """PostgreSQL's expression of ``column`` with its accents folded as the query's are (``translate`` is
    IMMUTABLE, so the GIN index of migration 0010 is built on ``to_tsvector('english', pg_folded("text"))``)."""
    return f"translate({column}, '{_ACCENTED}', '{_PLAIN}')"


PG_TEXT = pg_folded("p.text")  # the passage with its accents folded, as the query


def unfold(headline: str, original: str) -> str:
    """``headline``, an extract of ``original`` with its accents folded and with marks around the matched words,
    written with the letters of ``original`` (folding keeps the length of a text: one letter for one letter)."""
    plain = headline.replace(MARK_START, "").replace(MARK_END, "")
    start = original.translate(_FOLD).find(plain)
    if start < 0:  # not an extract of the text as it is: shown as PostgreSQL gave it
        return headline
    letters = iter(original[start : start + len(plain)])
    return "".join(c if c in (MARK_START, MARK_END) else next(letters) for c in headline)


@dataclass
class Filters:
    doc_type: str | None = None
    organisation: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    project: str | None = None
    kind: str | None = None


@dataclass
class Hit:
    passage_id: int
    document_id: int
    title: str
    page: int
    section: str | None
    kind: str
    snippet: str  # matched words between MARK_START and MARK_END
    score: float

    def as_json(self) -> dict[str, Any]:
        return {
            "document": self.document_id,
            "title": self.title,
            "page": self.page,
            "section": self.section,
            "snippet": self.snippet.replace(MARK_START, "**").replace(MARK_END, "**"),
            "score": round(self.score, 6),
            "passage": self.passage_id,
        }


@dataclass
class SearchResult:
    query: str
    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    capped: bool = False  # more than CAP passages match: total is CAP, the hits and facets are of those CAP

    @property
    def total_text(self) -> str:
        """The number of matching passages as a person reads it ("2,000 or more")."""
        return f"{self.total:,} or more" if self.capped else f"{self.total:,}"


def _where(filters: Filters, params: dict[str, Any]) -> str:
    conditions = []
    if filters.doc_type:
        conditions.append("d.doc_type = :doc_type")
        params["doc_type"] = filters.doc_type
    if filters.organisation:
        conditions.append("lower(d.organisation) = lower(:organisation)")
        params["organisation"] = filters.organisation
    if filters.year_from is not None:
        conditions.append("d.year >= :year_from")
        params["year_from"] = filters.year_from
    if filters.year_to is not None:
        conditions.append("d.year <= :year_to")
        params["year_to"] = filters.year_to
    if filters.project:
        conditions.append(
            "EXISTS (SELECT 1 FROM evidence_document_project dp WHERE dp.document_id = d.id AND dp.code = :project)"
        )
        params["project"] = filters.project
    if filters.kind:
        conditions.append("p.kind = :kind")
        params["kind"] = filters.kind
    return "".join(f" AND {c}" for c in conditions)


def _document_where(filters: Filters, params: dict[str, Any]) -> str:
    """The conditions on the document of a passage (``d``), without the passage's own (``kind``)."""
    return _where(
        Filters(filters.doc_type, filters.organisation, filters.year_from, filters.year_to, filters.project), params
    )


def search(session: Session, query: str, filters: Filters | None = None, limit: int = 20) -> SearchResult:
    """Passages matching ``query`` best first (ties by passage order), with facet counts of the documents hit.

    Both engines only find the matches (the ``CAP`` + 1 most recently added); lmreview ranks them itself with the
    same formula on both (``_rank``), so that SQLite and PostgreSQL give the same order, and so that no query pays
    for a pass over every passage that holds a common word (SQLite's ``bm25()`` counts them all to weigh the word).
    """
    parsed = parse_query(query)
    filters = filters or Filters()
    check_year(filters.year_from, "year_from")
    check_year(filters.year_to, "year_to")
    check_limit(limit)
    sqlite = session.get_bind().dialect.name == "sqlite"
    candidates = _matches_sqlite(session, parsed, filters) if sqlite else _matches_postgres(session, parsed, filters)
    capped = len(candidates) > CAP
    counted = candidates[:CAP]
    best = _rank(session, parsed, counted, limit, sqlite)
    ids = ", ".join(str(i) for i in best) or "NULL"
    columns = "p.id, p.document_id, d.title, p.page, p.section, p.kind"
    joined = "evidence_passage p JOIN evidence_document d ON d.id = p.document_id"
    shown: list[Sequence[Any]]
    if sqlite:
        shown = list(
            session.execute(
                text(
                    f"SELECT {columns}, CASE WHEN length(p.text) <= {WHOLE} "
                    "THEN highlight(evidence_passage_fts, 0, :mark_start, :mark_end) "
                    "ELSE snippet(evidence_passage_fts, 0, :mark_start, :mark_end, '…', 24) END "
                    "FROM evidence_passage_fts f JOIN evidence_passage p ON p.id = f.rowid "
                    "JOIN evidence_document d ON d.id = p.document_id "
                    f"WHERE evidence_passage_fts MATCH :q AND f.rowid IN ({ids})"
                ),
                {"q": to_fts5(parsed), "mark_start": MARK_START, "mark_end": MARK_END},
            )
        )
    else:
        rows = session.execute(
            text(
                f"SELECT {columns}, ts_headline('english', {PG_TEXT}, CAST(:q AS tsquery), "
                f"CASE WHEN length(p.text) <= {WHOLE} THEN :whole ELSE :options END), p.text "
                f"FROM {joined} WHERE p.id IN ({ids})"
            ),
            {
                "q": _pg_query(session, parsed),
                "options": f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=24, MinWords=12",
                "whole": f"StartSel={MARK_START}, StopSel={MARK_END}, HighlightAll=true",
            },
        ).all()
        # the headline marks the words of the folded text (cafe for café); put the passage's own letters back
        shown = [(*r[:6], unfold(r[6], r[7])) for r in rows]
    by_id = {r[0]: r for r in shown}
    hits = [
        Hit(r[0], r[1], r[2], r[3], r[4], r[5], r[6], score)
        for i, score in best.items()
        if (r := by_id.get(i)) is not None
    ]
    documents = sorted({int(c[1]) for c in counted})
    return SearchResult(query, len(counted), hits, _facets(session, documents), capped)


def _matches_sqlite(session: Session, parsed: Query, filters: Filters) -> list[Sequence[Any]]:
    """(id, document, text) of the ``CAP`` + 1 most recently added passages that match and pass the filters.

    FTS5 walks the query's matches from the newest; a filter on the documents is checked on each match, so a
    filter that few documents pass would walk many matches. Then the walk is restricted to the id ranges of those
    documents' passages (a document's passages are added in one transaction, so their ids follow each other),
    newest range first, until enough matches are found.
    """
    params: dict[str, Any] = {"q": to_fts5(parsed), "cap": CAP + 1}
    where = _where(filters, params)
    documents = "JOIN evidence_document d ON d.id = p.document_id " if _document_where(filters, {}) else ""
    source = (
        "SELECT p.id, p.document_id, p.text FROM evidence_passage_fts f JOIN evidence_passage p ON p.id = f.rowid "
        f"{documents}WHERE evidence_passage_fts MATCH :q" + where
    )
    ranges = _document_ranges(session, filters)
    if ranges is None:
        return list(session.execute(text(f"{source} ORDER BY f.rowid DESC LIMIT :cap"), params).all())
    found: list[Sequence[Any]] = []
    statement = text(f"{source} AND f.rowid BETWEEN :low AND :high ORDER BY f.rowid DESC LIMIT :cap")
    for low, high in ranges:
        params.update(low=low, high=high, cap=CAP + 1 - len(found))
        found.extend(session.execute(statement, params).all())
        if len(found) > CAP:
            break
    return found


def _document_ranges(session: Session, filters: Filters) -> list[tuple[int, int]] | None:
    """The id ranges of the passages of the documents the filters keep, newest first, merged where they touch;
    None when there is no filter on the documents or when it keeps a quarter of them or more (then checking each
    match is cheaper)."""
    params: dict[str, Any] = {}
    where = _document_where(filters, params)
    if not where:
        return None
    kept = session.execute(text(f"SELECT d.id FROM evidence_document d WHERE 1 = 1{where}"), params).scalars().all()
    if 4 * len(kept) >= session.execute(text("SELECT count(*) FROM evidence_document")).scalar_one():
        return None
    # two seeks a document in the index (document_id, id); a GROUP BY read every passage of the kept documents
    spans = sorted(
        (low, high)
        for low, high in session.execute(
            text(
                "SELECT (SELECT min(p.id) FROM evidence_passage p WHERE p.document_id = d.id), "
                "(SELECT max(p.id) FROM evidence_passage p WHERE p.document_id = d.id) "
                f"FROM evidence_document d WHERE d.id IN ({', '.join(str(int(i)) for i in kept) or 'NULL'})"
            )
        )
        if low is not None
    )
    merged: list[list[int]] = []
    for low, high in spans:
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return [(low, high) for low, high in reversed(merged)]


def _matches_postgres(session: Session, parsed: Query, filters: Filters) -> list[Sequence[Any]]:
    params: dict[str, Any] = {"q": _pg_query(session, parsed), "cap": CAP + 1}
    where = _where(filters, params)
    return list(
        session.execute(
            text(
                "SELECT p.id, p.document_id, p.text FROM evidence_passage p "
                "JOIN evidence_document d ON d.id = p.document_id "
                f"WHERE to_tsvector('english', {PG_TEXT}) @@ CAST(:q AS tsquery){where} ORDER BY p.id DESC LIMIT :cap"
            ),
            params,
        )
    )


def _pg_query(session: Session, parsed: Query) -> str:
    """The query's ``tsquery`` as text, parsed by PostgreSQL with the index's configuration."""
    expression, terms = to_tsquery(parsed)
    value: str = session.execute(text(f"SELECT CAST({expression} AS text)"), terms).scalar_one()
    return value


# The ranking (BM25, computed by lmreview on both databases over the matches the engine found).
K1, B = 1.2, 0.75
REFERENCE = 500  # characters: the passage length the ranking takes as usual (a paragraph of 80 words or so)
PROBE = 5000  # matches counted to weigh a term; a term with more is weighed by how densely the newest hold it
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ers", "er", "ies", "ied", "es", "ed", "s", "e", "y")


def _root(word: str) -> str:
    """The word without a common English ending (``recruitment`` → ``recruit``), at least three letters long."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _key(term: Term) -> str:
    """What a passage's folded, lower-case text holds where it holds ``term``, counted after a space or at its
    start: the phrase's words, the last one cut to its root (or as typed, for a prefix)."""
    words = [w.translate(_FOLD) for w in term.words]
    if not term.prefix:
        words[-1] = _root(words[-1])
    return " ".join(words)


def _rank(
    session: Session, parsed: Query, candidates: Sequence[Sequence[Any]], limit: int, sqlite: bool
) -> dict[int, float]:
    """The ids and scores of the ``limit`` best of the (id, document, text) candidates: best first, ties by id.

    BM25 (k1 1.2, b 0.75): each term of the query a passage holds adds its weight (the inverse of the share of
    passages holding it, ``_weights``) times ``tf (k1 + 1) / (tf + k1 (1 - b + b len / REFERENCE))``, where ``tf``
    is how often the passage holds the term (counted on its text, ``_key``; at least once for a query without OR,
    whose every match holds every term) and ``len`` its length in characters. The same arithmetic on both
    databases, so they order the same matches alike.
    """
    terms = list(dict.fromkeys(t for clause in parsed.clauses for t in clause if not t.negated))
    weights = {terms[0]: 1.0} if len(terms) == 1 else _weights(session, terms, sqlite)
    every = len(parsed.clauses) == 1  # each match holds each term
    # list comprehensions, one pass of each kind over the candidates: a loop per passage cost twice as much
    lows = [str(c[2]).lower() for c in candidates]
    lows = [low if low.isascii() else low.translate(_FOLD) for low in lows]
    norms = [K1 * (1 - B + B * len(c[2]) / REFERENCE) for c in candidates]
    scores = [0.0] * len(candidates)
    for term, weight in weights.items():
        key = _key(term)
        spaced, gain = " " + key, weight * (K1 + 1)
        counts = [low.count(spaced) + low.startswith(key) for low in lows]
        if every:
            counts = [n or 1 for n in counts]
        scores = [s + gain * n / (n + norm) if n else s for s, n, norm in zip(scores, counts, norms, strict=True)]
    # a match of an OR query none of whose terms was counted (a word after a bracket) scores as one of the least
    least = min(weights.values()) * (K1 + 1)
    ranked = heapq.nsmallest(
        limit,
        ((-(s or least / (1 + norm)), int(c[0])) for s, norm, c in zip(scores, norms, candidates, strict=True)),
    )
    return {passage_id: -score for score, passage_id in ranked}


def _weights(session: Session, terms: list[Term], sqlite: bool) -> dict[Term, float]:
    """Each term's inverse document frequency, ``ln(1 + (N - n + 0.5) / (n + 0.5))``: ``N`` the passages of the
    library, ``n`` those holding the term, counted up to ``PROBE`` (from the newest), estimated beyond it from
    the share of the passages since the oldest of those that hold it. Bounded work, whatever the library's size."""
    passages = _passage_count(session, sqlite)
    weights = {}
    for term in terms:
        alone = Query(((term,),))
        if sqlite:
            sql = (
                "SELECT count(*), min(r) FROM (SELECT rowid AS r FROM evidence_passage_fts "
                "WHERE evidence_passage_fts MATCH :q ORDER BY rowid DESC LIMIT :probe)"
            )
            params: dict[str, Any] = {"q": to_fts5(alone)}
        else:
            sql = (
                "SELECT count(*), min(r) FROM (SELECT p.id AS r FROM evidence_passage p "
                f"WHERE to_tsvector('english', {PG_TEXT}) @@ CAST(:q AS tsquery) ORDER BY p.id DESC LIMIT :probe) s"
            )
            params = {"q": _pg_query(session, alone)}
        count, oldest = session.execute(text(sql), {**params, "probe": PROBE}).one()
        held = float(count)
        if count >= PROBE and oldest:  # the share of the ids from the oldest counted to the newest that hold it
            newest = session.execute(text("SELECT max(id) FROM evidence_passage")).scalar_one()
            held = min(passages, count * passages / (newest - oldest + 1))
        weights[term] = math.log(1 + (passages - held + 0.5) / (held + 0.5))
    return weights


def _passage_count(session: Session, sqlite: bool) -> int:
    """The passages in the library: on SQLite read from the FTS5 index's own record of its row count (counting the
    rows took 4 ms on a million passages), on PostgreSQL counted."""
    if sqlite:
        record = session.execute(text("SELECT block FROM evidence_passage_fts_data WHERE id = 1")).scalar()
        if record:  # a varint, as SQLite writes them: 7 bits a byte, the last byte without its high bit
            value = 0
            for byte in bytes(record)[:8]:
                value = (value << 7) | (byte & 0x7F)
                if byte < 0x80:
                    return value
    counted: int = session.execute(text("SELECT count(*) FROM evidence_passage")).scalar_one()
    return counted


def _facets(session: Session, document_ids: list[int]) -> dict[str, list[tuple[str, int]]]:
    """Counts of the documents by type, organisation, year and project code, in one statement."""
    counts: dict[str, list[tuple[str, int]]] = {k: [] for k in ("type", "organisation", "year", "project")}
    if not document_ids:
        return counts
    ids = ", ".join(str(int(i)) for i in document_ids)
    rows = session.execute(
        text(
            f"WITH hit AS (SELECT id, doc_type, organisation, year FROM evidence_document WHERE id IN ({ids})) "
            "SELECT 'type', doc_type, count(*) FROM hit GROUP BY doc_type "
            "UNION ALL SELECT 'organisation', coalesce(nullif(organisation, ''), '(none)'), count(*) FROM hit "
            "GROUP BY coalesce(nullif(organisation, ''), '(none)') "
            "UNION ALL SELECT 'year', CASE WHEN year > 0 THEN CAST(year AS TEXT) ELSE '(none)' END, count(*) FROM hit "
            "GROUP BY CASE WHEN year > 0 THEN CAST(year AS TEXT) ELSE '(none)' END "
            "UNION ALL SELECT 'project', code, count(*) FROM evidence_document_project "
            f"WHERE document_id IN ({ids}) GROUP BY code "
            "UNION ALL SELECT 'project', '(none)', count(*) FROM hit WHERE NOT EXISTS "
            "(SELECT 1 FROM evidence_document_project dp WHERE dp.document_id = hit.id)"
        )
    ).all()
    for facet, value, count in rows:
        if count:
            counts[facet].append((str(value), int(count)))
    return {k: sorted(c, key=lambda kv: (-kv[1], kv[0])) for k, c in counts.items()}


def highlight_pattern(query: Query) -> re.Pattern[str] | None:
    """A pattern for the query's words in a passage (a word's ending may vary, as the engines' stemming allows)."""
    alternatives = []
    for word, prefix in query.words:
        if word in _STOPWORDS and not prefix:
            continue
        root = word if prefix or len(word) <= 4 else word[: max(4, len(word) - 3)]
        alternatives.append(re.escape(root) + r"\w*")
    if not alternatives:
        return None
    return re.compile(r"\b(?:" + "|".join(sorted(set(alternatives), key=len, reverse=True)) + r")", re.IGNORECASE)
