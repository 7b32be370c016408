"""Sessions, the current user, roles and CSRF tokens.

The session cookie is signed (Starlette's SessionMiddleware) and carries the user's id and the ``session_version``
of the account when it was issued; a cookie whose version is no longer the account's is refused, so logging out,
a new password, a new role or a switched-off account end every copy of it (see ``store/users.py``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from fastapi import Request
from sqlalchemy import delete, select

from lmreview.access import require_review, require_review_named, review_role, visible_review_ids
from lmreview.errors import Forbidden, NotFound
from lmreview.settings import check_secret_key
from lmreview.store import Store
from lmreview.store.models import AppSetting, LoginFailure, User
from lmreview.store.users import can

SESSION_SECRET_KEY = "session_secret"


class LoginRequired(Exception):
    """Raised by a page that needs a logged-in user; answered with a redirect to /login (or 401 for JSON)."""


def session_secret(store: Store, configured: str | None) -> str:
    """The configured secret, else the one generated on first start and kept in the store."""
    if configured:
        return check_secret_key(configured)
    with store.session() as session:
        row = session.get(AppSetting, SESSION_SECRET_KEY)
        if row is None:
            row = AppSetting(key=SESSION_SECRET_KEY, value=secrets.token_urlsafe(48))
            session.add(row)
        return row.value


def rotate_session_secret(store: Store) -> None:
    """A new stored session secret: every session cookie signed with the old one stops working once the web
    processes restart (each reads the secret when it starts)."""
    with store.session() as session:
        row = session.get(AppSetting, SESSION_SECRET_KEY)
        if row is None:
            session.add(AppSetting(key=SESSION_SECRET_KEY, value=secrets.token_urlsafe(48)))
        else:
            row.value = secrets.token_urlsafe(48)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, submitted: object) -> None:
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not isinstance(submitted, str):
        raise Forbidden("the form has expired or did not come from lmreview; reload the page and try again")
    if not hmac.compare_digest(expected, submitted):
        raise Forbidden("the form has expired or did not come from lmreview; reload the page and try again")


def start_session(request: Request, user: User) -> None:
    """A fresh session for ``user`` (a new CSRF token too), valid until their session version moves on."""
    request.session.clear()
    request.session["user_id"] = user.id
    request.session["session_version"] = user.session_version or 0


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def current_user(request: Request) -> User | None:
    """The logged-in user, or None when the session has none, or one the account has since ended."""
    user_id = _int(request.session.get("user_id"))
    version = _int(request.session.get("session_version"))
    if user_id is None:
        return None
    store: Store = request.app.state.store
    with store.session() as session:
        user = session.scalar(select(User).where(User.id == user_id, User.active.is_(True)))
        if user is None or version is None or (user.session_version or 0) != version:
            request.session.pop("user_id", None)
            request.session.pop("session_version", None)
            return None
        session.expunge(user)
        return user


def require(request: Request, role: str = "viewer") -> User:
    user = current_user(request)
    if user is None:
        raise LoginRequired()
    if not can(user, role):
        raise Forbidden(f"this needs the {role} role; you are a {user.role}")
    return user


class LoginThrottle:
    """At most ``limit`` failed logins per user name in ``window`` seconds; then the name is locked until the oldest
    failure leaves the window, whatever password is tried. The failures live in the database (``login_failure``),
    so the lock holds across every web process and a restart. ``now`` is wall-clock time (``time.time()``)."""

    def __init__(self, store: Store, limit: int = 5, window: float = 15 * 60) -> None:
        self.store = store
        self.limit = limit
        self.window = window

    @staticmethod
    def _key(name: str) -> str:
        return hashlib.sha256(name.strip().casefold().encode()).hexdigest()

    @staticmethod
    def _at(now: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(now, dt.UTC)

    def wait(self, name: str, now: float) -> float:
        """Seconds until ``name`` may try again (0 when it may)."""
        with self.store.session() as session:
            recent = session.scalars(
                select(LoginFailure.at)
                .where(LoginFailure.name_hash == self._key(name), LoginFailure.at > self._at(now - self.window))
                .order_by(LoginFailure.at)
                .limit(self.limit)
            ).all()
        if len(recent) < self.limit:
            return 0.0
        oldest = recent[0] if recent[0].tzinfo else recent[0].replace(tzinfo=dt.UTC)  # SQLite drops the zone
        return max(0.0, oldest.timestamp() + self.window - now)

    def failed(self, name: str, now: float) -> None:
        with self.store.session() as session:
            session.add(LoginFailure(name_hash=self._key(name), at=self._at(now)))
            # failures that left the window count no more: the table stays small
            session.execute(delete(LoginFailure).where(LoginFailure.at <= self._at(now - self.window)))

    def succeeded(self, name: str) -> None:
        with self.store.session() as session:
            session.execute(delete(LoginFailure).where(LoginFailure.name_hash == self._key(name)))


def require_member(request: Request, review: str, need: str = "read") -> User:
    """The logged-in user when they may ``need`` (read, write, manage) the review named ``review``: a non-member
    gets 404 (as for a review that does not exist), a member whose role is too low 403 (see lmreview/access.py)."""
    user = require(request)
    store: Store = request.app.state.store
    with store.session() as session:
        found = require_review_named(session, user, review, need)
        request.state.review_role = review_role(session, user, found.id)  # the page shows what the role may do
    return user


def require_member_of(
    request: Request, review_id: int | None, need: str = "read", site_role: str = "viewer", missing: str = ""
) -> User:
    """:func:`require_member` for a record that belongs to review ``review_id``; a non-member hears ``missing``,
    what an unknown record's id hears. A record of no review (one found in an evidence document) needs
    ``site_role`` only."""
    if review_id is None:
        return require(request, site_role)
    user = require(request)
    store: Store = request.app.state.store
    with store.session() as session:
        if missing and review_role(session, user, review_id) is None:
            raise NotFound(missing)
        require_review(session, user, review_id, need)
        request.state.review_role = review_role(session, user, review_id)
    return user


def visible_reviews(request: Request, user: User) -> set[int] | None:
    """The ids of the reviews ``user`` may see (None: all of them, for a site admin)."""
    store: Store = request.app.state.store
    with store.session() as session:
        return visible_review_ids(session, user)
