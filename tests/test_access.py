"""``lmreview.access`` on the site roles: every active user sees every review, changing one needs reviewer; a
review no one may see is not found (404), one seen but not changeable is forbidden (403)."""

from __future__ import annotations

import pytest

from lmreview import access
from lmreview.errors import Forbidden, NotFound
from lmreview.questionnaire.reviews import get_review
from lmreview.store import Store
from lmreview.store.models import User
from lmreview.store.users import add_user, update_user
from tests.conftest import SAMPLES, Cli


def test_roles_decide_reading_and_writing_a_review(store: Store, cli: Cli) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert cli("review", "create", "r", "--portfolio", "lm2016").exit_code == 0
    with store.session() as session:
        add_user(session, "ada", "admin", "correct-horse", actor="test")
        add_user(session, "rui", "reviewer", "correct-horse", actor="test")
        add_user(session, "vic", "viewer", "correct-horse", actor="test")
    with store.session() as session:
        people = {u.name: u for u in session.query(User)}
        review_id = get_review(session, "r").id
        assert access.require_review(session, people["vic"], review_id).name == "r"
        assert access.review_role(session, people["vic"], review_id) == "viewer"
        assert access.visible_review_ids(session, people["vic"]) is None
        assert access.require_review(session, people["rui"], review_id, "write").name == "r"
        with pytest.raises(Forbidden, match="needs the reviewer role; you are a viewer"):
            access.require_review(session, people["vic"], review_id, "write")
        with pytest.raises(NotFound):
            access.require_review(session, people["ada"], review_id + 1)
        with pytest.raises(NotFound):
            access.require_review(session, None, review_id)
        assert access.review_role(session, None, review_id) is None
        assert access.visible_review_ids(session, None) == set()
    with store.session() as session:
        update_user(session, "vic", actor="test", active=False)
    with store.session() as session:
        vic = session.query(User).filter_by(name="vic").one()
        assert access.visible_review_ids(session, vic) == set()
        with pytest.raises(NotFound):
            access.require_review(session, vic, review_id)
