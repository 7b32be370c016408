"""Personal API tokens: ``Authorization: Bearer lmr_…`` opens the REST API (``/api/v1``) as its user.

A token is 32 random bytes, shown once when it is made; lmreview keeps only its SHA-256 (and its first characters,
to recognise it in a list). A request's token is found by the hash of what it sends, through a unique index, so no
secret is ever compared character by character. A token stops working when it is revoked, when it expires, and
while its user's account is switched off. ``read`` tokens may only read; ``write`` tokens may also change what
their user's role allows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.errors import BadInput, NotFound, Problem
from lmreview.store import audit
from lmreview.store.base import find_row, utcnow
from lmreview.store.models import ApiToken, User
from lmreview.store.users import get_user
from lmreview.text import text_problem

PREFIX = "lmr_"
SCOPES = ("read", "write")
MAX_DAYS = 3650
SHOWN = 12  # characters of a token kept in clear to recognise it: "lmr_" and 8 random ones
_TOUCH_EVERY = dt.timedelta(minutes=1)  # last_used_at is written at most this often per token


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # the whole token, shown to its user once


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value  # SQLite drops it


def state(token: ApiToken, now: dt.datetime | None = None) -> str:
    """``active``, ``expired`` or ``revoked``."""
    now = now or utcnow()
    if token.revoked_at is not None:
        return "revoked"
    expires = _aware(token.expires_at)
    if expires is not None and expires <= now:
        return "expired"
    return "active"


def create_token(
    session: Session,
    user_name: str,
    name: str,
    *,
    actor: str,
    scope: str = "read",
    expires_days: int | None = None,
    now: dt.datetime | None = None,
) -> NewToken:
    """A new token for the user ``user_name``; ``expires_days`` None: it never expires (until revoked)."""
    problems = []
    name = name.strip()
    if not name or len(name) > 80:
        problems.append(Problem("name", 0, "-", "a token's name has 1 to 80 characters"))
    elif problem := text_problem(name):
        problems.append(Problem("name", 0, "-", f"the name {problem}"))
    if scope not in SCOPES:
        problems.append(Problem("scope", 0, "-", f'"{scope}" is not a scope; use read or write'))
    if expires_days is not None and not 1 <= expires_days <= MAX_DAYS:
        problems.append(Problem("expires", 0, "-", f"a token expires after 1 to {MAX_DAYS} days"))
    if problems:
        raise BadInput(problems)
    user = get_user(session, user_name)
    now = now or utcnow()
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=secret[:SHOWN],
        token_hash=token_hash(secret),
        scope=scope,
        created_at=now,
        expires_at=now + dt.timedelta(days=expires_days) if expires_days is not None else None,
    )
    session.add(token)
    session.flush()
    expiry = f", expires {token.expires_at:%Y-%m-%d}" if token.expires_at else ""
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="api_token",
        entity_id=token.id,
        after=token_json(token, user.name),
        summary=f"API token {name!r} ({scope}{expiry}) for {user.name}",
    )
    return NewToken(token, secret)


def token_json(token: ApiToken, user: str, now: dt.datetime | None = None) -> dict[str, object]:
    """What lists and the audit log show of a token: never its hash."""
    return {
        "id": token.id,
        "user": user,
        "name": token.name,
        "prefix": token.prefix,
        "scope": token.scope,
        "created": _iso(token.created_at),
        "expires": _iso(token.expires_at),
        "last_used": _iso(token.last_used_at),
        "revoked": _iso(token.revoked_at),
        "state": state(token, now),
    }


def _iso(value: dt.datetime | None) -> str | None:
    aware = _aware(value)
    return aware.isoformat(timespec="seconds") if aware is not None else None


def list_tokens(session: Session, user_name: str | None = None) -> list[tuple[ApiToken, str]]:
    """Tokens with their user's name, newest first; only ``user_name``'s when given."""
    query = select(ApiToken, User.name).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id.desc())
    if user_name is not None:
        query = query.where(User.id == get_user(session, user_name).id)
    return [(token, name) for token, name in session.execute(query).all()]


def revoke_token(
    session: Session, token_id: int, *, actor: str, owner: str | None = None, now: dt.datetime | None = None
) -> ApiToken:
    """Revoke a token (revoking it again changes nothing). With ``owner``, only a token of that user is found."""
    token = find_row(session, ApiToken, token_id)
    user = session.get(User, token.user_id) if token is not None else None
    if token is None or user is None or (owner is not None and user.name != owner):
        raise NotFound(f"there is no API token {token_id}" + (f" of {owner}" if owner else ""))
    if token.revoked_at is None:
        before = token_json(token, user.name, now)
        token.revoked_at = now or utcnow()
        audit.record(
            session,
            actor=actor,
            action="update",
            entity="api_token",
            entity_id=token.id,
            before=before,
            after=token_json(token, user.name, now),
            summary=f"revoked API token {token.name!r} of {user.name}",
        )
    return token


def authenticate(session: Session, secret: str, now: dt.datetime | None = None) -> tuple[User, ApiToken] | None:
    """The active user and the token for ``secret``, or None when it is unknown, revoked, expired, or its user's
    account is switched off. Records when the token was last used (at most once a minute)."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    # one query for the token and its user: it runs on every API request
    found = session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.token_hash == token_hash(secret))
    ).first()
    now = now or utcnow()
    if found is None:
        return None
    token, user = found
    if state(token, now) != "active" or not user.active:
        return None
    last = _aware(token.last_used_at)
    if last is None or now - last >= _TOUCH_EVERY:
        token.last_used_at = now
    return user, token
