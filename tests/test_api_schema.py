"""schemathesis against /api/v1/openapi.json: generated requests for every operation, sent with a write token to a
store holding a portfolio, a review and its responses. No answer may be a 5xx, and every answer must match the
status codes, content types and schemas the OpenAPI description declares. A bounded number of examples per
operation keeps this fast (LMREVIEW_TEST_API_EXAMPLES raises it; benchmarks/fuzz_api.py runs longer)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis  # a dev dependency: pip install -e '.[dev]'
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lmreview.settings import Settings, database_url
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import BACKENDS, FIXTURES, POSTGRES_URL, SAMPLES, TEMPLATES, Cli, _empty_postgres

EXAMPLES = int(os.environ.get("LMREVIEW_TEST_API_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module", params=BACKENDS)
def api_world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, str]]:
    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("api-schema")
        shutil.copy(request.getfixturevalue("sqlite_template"), folder / "lmreview.db")
        url = database_url(str(folder / "lmreview.db"))
    elif not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need LMREVIEW_TEST_POSTGRES_URL (make test sets it when a server answers)")
    else:
        url = request.getfixturevalue("postgres_schema")
        _empty_postgres(url)
    cli = Cli(url)
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert cli("form", "add", str(TEMPLATES / "bilingual-test.md")).exit_code == 0
    assert cli("review", "create", "r16", "--portfolio", "lm2016", "--form", "bilingual_test").exit_code == 0
    kobo = FIXTURES / "responses" / "kobo-bilingual.csv"
    assert cli("form", "import-responses", str(kobo), "--form", "bilingual_test", "--review", "r16").exit_code == 0
    store = Store(url)
    with store.session() as session:
        add_user(session, "ana", "reviewer", "correct-horse", actor="test")
    # records for the later stages' operations to find: a codebook, a recommendation, a lesson, a document; ana
    # reviews r16, so that its changes reach the services
    assert cli("review", "member", "add", "r16", "ana", "--role", "reviewer").exit_code == 0
    assert cli("coding", "codebook", "create", "cb").exit_code == 0
    assert cli("coding", "codebook", "add-code", "cb", "c1").exit_code == 0
    assert cli("tracking", "recs", "add", "--review", "r16", "--number", "1", "--text", "Act").exit_code == 0
    lesson = ("--kind", "lesson", "--title", "T", "--text", "A lesson", "--review", "r16")
    assert cli("tracking", "lessons", "add", *lesson).exit_code == 0
    brief = tmp_path_factory.mktemp("api-schema-docs") / "brief.md"
    brief.write_text("Evaluation brief\n\nThe corridor's agencies were registered.\n", encoding="utf-8")
    assert cli("evidence", "add", str(brief), "--project", "LM.0181").exit_code == 0
    run = cli("user", "token", "create", "fuzz", "--user", "ana", "--scope", "write")
    token = re.search(r"^(lmr_\S+)$", run.stdout, flags=re.M)
    assert token is not None, run.stdout
    yield store, token[1]
    store.dispose()


def test_every_operation_answers_as_its_schema_says(api_world: tuple[Store, str]) -> None:
    from hypothesis import given

    store, token = api_world
    app = create_app(Settings(database_url=store.url), store)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    tried = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    # DELETE /tokens/{id} may revoke the fuzzing token itself: it goes last, so that every other operation is tried
    operations.sort(key=lambda operation: operation.method.upper() == "DELETE")
    for operation in operations:
        tried += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # one operation's failure is reported with the others
            failures.append(f"{operation.label}: {str(exc).strip()[:1500]}")
    assert tried >= 20
    assert not failures, f"{len(failures)} operations failed:\n" + "\n\n".join(failures)
