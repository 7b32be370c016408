"""Users and roles. Passwords are hashed with Argon2id; roles are admin, reviewer and viewer.

* viewer: reads everything.
* reviewer: also imports files and records revisions (later: codes, rates, writes).
* admin: also manages users and deletes records.

A web session is good only while the account's ``session_version`` is the one it was issued at: logging out, a new
password, switching the account off and a new role raise the version, so every cookie issued before stops working
(a copied cookie included), not only the one in the browser that logged out.
"""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.errors import BadInput, Conflict, NotFound, Problem
from lmreview.store import audit
from lmreview.store.base import find_row
from lmreview.store.models import ROLES, User

_hasher = PasswordHasher()
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,79}$")
MIN_PASSWORD = 8
RANK = {"viewer": 0, "reviewer": 1, "admin": 2}


def _user_json(user: User) -> dict[str, object]:
    return {"name": user.name, "role": user.role, "email": user.email, "active": user.active}


def can(user: User | None, role: str) -> bool:
    """Whether ``user`` has ``role`` or a higher one."""
    return user is not None and user.active and RANK[user.role] >= RANK[role]


def add_user(session: Session, name: str, role: str, password: str, *, actor: str, email: str | None = None) -> User:
    problems = []
    if not USER_NAME.match(name):
        problems.append(Problem("name", 0, "-", f'"{name}" cannot name a user: letters, digits, "_.@-", at most 80'))
    if role not in ROLES:
        problems.append(Problem("role", 0, "-", f'"{role}" is not a role; use {", ".join(ROLES)}'))
    if len(password) < MIN_PASSWORD:
        problems.append(Problem("password", 0, "-", f"a password has at least {MIN_PASSWORD} characters"))
    if problems:
        raise BadInput(problems)
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise Conflict(f'there is already a user named "{name}"')
    user = User(name=name, role=role, password_hash=_hasher.hash(password), email=email, active=True)
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="user",
        entity_id=user.id,
        after=_user_json(user),
        summary=f"added {role} {name}",
    )
    return user


def end_sessions(user: User) -> None:
    """Every session issued to ``user`` so far stops working."""
    user.session_version = (user.session_version or 0) + 1


def log_out(session: Session, user_id: int) -> None:
    """Logging out ends every session of the user, including copies of the cookie."""
    user = find_row(session, User, user_id)
    if user is not None:
        end_sessions(user)


def set_password(session: Session, name: str, password: str, *, actor: str) -> User:
    """A new password; the sessions opened with the old one end."""
    if len(password) < MIN_PASSWORD:
        raise BadInput([Problem("password", 0, "-", f"a password has at least {MIN_PASSWORD} characters")])
    user = get_user(session, name)
    user.password_hash = _hasher.hash(password)
    end_sessions(user)
    audit.record(session, actor=actor, action="update", entity="user", entity_id=user.id, summary="password changed")
    return user


def update_user(
    session: Session, name: str, *, actor: str, role: str | None = None, active: bool | None = None
) -> User:
    """Change a user's role or switch the account off (or on); the last active admin cannot be removed. Either
    change ends the user's sessions, so the new role applies from their next login."""
    user = get_user(session, name)
    if role is not None and role not in ROLES:
        raise BadInput([Problem("role", 0, "-", f'"{role}" is not a role; use {", ".join(ROLES)}')])
    before = _user_json(user)
    new_role = role if role is not None else user.role
    new_active = active if active is not None else user.active
    if user.role == "admin" and user.active and (new_role != "admin" or not new_active):
        admins = session.scalars(select(User).where(User.role == "admin", User.active.is_(True))).all()
        if len(admins) <= 1:
            raise Conflict(f"{name} is the last active admin: make another user admin first")
    user.role, user.active = new_role, new_active
    after = _user_json(user)
    if after != before:
        end_sessions(user)
        changes = ", ".join(f"{k} {before[k]} → {after[k]}" for k in after if after[k] != before[k])
        audit.record(
            session,
            actor=actor,
            action="update",
            entity="user",
            entity_id=user.id,
            before=before,
            after=after,
            summary=f"{name}: {changes}",
        )
    return user


def get_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f'no user named "{name}"')
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The active user with this name and password, or None (the same answer for every failure)."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None or not user.active or not user.password_hash:
        _hasher.hash(password)  # spend the same time as a real check
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user
