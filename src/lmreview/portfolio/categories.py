"""Thematic categories: reviewers put projects in categories (the 2016-2020 review had five); keyword rules
*suggest* a category from a project's title and objective, and a person accepts or ignores each suggestion.
Nothing is ever assigned by a rule alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.errors import BadInput, NotFound, Problem
from lmreview.portfolio import snapshot
from lmreview.portfolio.models import Category, Project
from lmreview.portfolio.service import get_portfolio, get_project, portfolio_projects
from lmreview.store import audit

MAX_KEYWORDS = 50


@dataclass
class CategoryCount:
    name: str
    projects: int
    keywords: list[str]


@dataclass
class Suggestion:
    code: str
    title: str
    current: str | None
    category: str
    matched: list[str]  # the keywords found, as written in the rule


def list_categories(session: Session, portfolio: str) -> list[CategoryCount]:
    found = get_portfolio(session, portfolio)
    projects = portfolio_projects(session, found.id)
    counts: dict[int, int] = {}
    for project in projects:
        if project.category_id is not None:
            counts[project.category_id] = counts.get(project.category_id, 0) + 1
    categories = session.scalars(select(Category).where(Category.portfolio_id == found.id).order_by(Category.name))
    return [CategoryCount(c.name, counts.get(c.id, 0), list(c.keywords or [])) for c in categories]


def _category(session: Session, portfolio_id: int, name: str, create: bool) -> Category:
    clean = " ".join(name.split())
    if not clean or len(clean) > 200:
        raise BadInput([Problem("category", 0, "-", "a category name has 1 to 200 characters")])
    for category in session.scalars(select(Category).where(Category.portfolio_id == portfolio_id)):
        if category.name.casefold() == clean.casefold():
            return category
    if not create:
        raise NotFound(f"there is no category {clean!r} in this portfolio")
    category = Category(portfolio_id=portfolio_id, name=clean)
    session.add(category)
    session.flush()
    return category


def set_category(session: Session, portfolio: str, code: str, category: str | None, *, actor: str) -> Project:
    """Put a project in a category (created if new), or take it out of any with ``None``; audited."""
    project = get_project(session, portfolio, code)
    before = snapshot.of_project(project, children=False)
    project.category = _category(session, project.portfolio_id, category, True) if category else None
    session.flush()
    after = snapshot.of_project(project, children=False)
    if before["category"] != after["category"]:
        audit.record(
            session,
            actor=actor,
            action="update",
            entity="project",
            entity_id=project.id,
            before={"category": before["category"]},
            after={"category": after["category"]},
            summary=f"category {before['category'] or '–'} → {after['category'] or '–'}",
        )
    return project


def set_keywords(session: Session, portfolio: str, category: str, keywords: list[str], *, actor: str) -> Category:
    """The keywords that suggest ``category`` (created if new); an empty list removes the rule."""
    found = get_portfolio(session, portfolio)
    target = _category(session, found.id, category, True)
    words = [" ".join(k.split()) for k in keywords if k.strip()]
    if len(words) > MAX_KEYWORDS or any(len(w) > 100 for w in words):
        raise BadInput([Problem(category, 0, "keywords", f"at most {MAX_KEYWORDS} keywords of 100 characters")])
    before = list(target.keywords or [])
    target.keywords = words or None
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="category",
        entity_id=target.id,
        before={"keywords": before},
        after={"keywords": words},
        summary=f"keywords of {target.name}: {', '.join(words) or '–'}",
    )
    return target


def _pattern(keyword: str) -> re.Pattern[str]:
    """A keyword matches whole words, ignoring case; a trailing * matches any ending (``recruit*``)."""
    stem = re.escape(keyword.rstrip("*"))
    ending = r"\w*" if keyword.endswith("*") else ""
    return re.compile(rf"\b{stem}{ending}\b", re.IGNORECASE)


def suggestions(session: Session, portfolio: str, *, include_categorised: bool = False) -> list[Suggestion]:
    """For each project without a category (or every project), the category whose keywords its title and
    objective match most, with the words found. Ties and projects matching nothing get no suggestion."""
    found = get_portfolio(session, portfolio)
    rules = [
        (c.name, [(k, _pattern(k)) for k in c.keywords or []])
        for c in session.scalars(select(Category).where(Category.portfolio_id == found.id).order_by(Category.name))
        if c.keywords
    ]
    result = []
    for project in portfolio_projects(session, found.id):
        current = project.category.name if project.category else None
        if current is not None and not include_categorised:
            continue
        text = f"{project.title}\n{project.objective or ''}"
        scored = []
        for name, patterns in rules:
            matched = [k for k, pattern in patterns if pattern.search(text)]
            if matched:
                scored.append((len(matched), name, matched))
        scored.sort(key=lambda s: (-s[0], s[1]))
        if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
            continue
        _count, name, matched = scored[0]
        if name != current:
            result.append(Suggestion(project.code, project.title, current, name, matched))
    return result
