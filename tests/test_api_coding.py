"""/api/v1/coding (web/api/coding.py) as a script drives it with a token: a codebook with codes and a group, codings
applied to a review's answers and removed, suggestions accepted and rejected; who may not; bad input. What was
written is read back through the CLI (``lmreview coding …``) and the audit log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lmreview.store import Store, audit
from lmreview.store.users import add_user
from tests.conftest import Cli
from tests.fixtures.coding.material import answer, make_review
from tests.test_api import PASSWORD, bearer, client, make_token  # noqa: F401  (client: a fixture)

# Bodies sent as JSON text with \u escapes, as a script may send them (lone surrogates included)
JSON = {"content-type": "application/json"}


@pytest.fixture
def coders(store: Store, cli: Cli, tmp_path: Path) -> dict[str, dict[str, str]]:
    """Review r with answers and two documents; ana reviews it, rea reads it, out (a site reviewer) is no member."""
    make_review(cli, tmp_path)
    with store.session() as session:
        for name in ("ana", "rea", "out"):
            add_user(session, name, "reviewer", PASSWORD, actor="test")
    assert cli("review", "member", "add", "r", "ana", "--role", "reviewer").exit_code == 0
    assert cli("review", "member", "add", "r", "rea", "--role", "reader").exit_code == 0
    return {
        "ana": bearer(make_token(cli, "ana", "write")),
        "ana-read": bearer(make_token(cli, "ana", "read")),
        "rea": bearer(make_token(cli, "rea", "write")),
        "out": bearer(make_token(cli, "out", "write")),
    }


def _codebook(http: TestClient, auth: dict[str, str]) -> dict[str, int]:
    made = http.post("/api/v1/coding/codebooks", headers=auth, json={"name": "cb"})
    assert made.status_code == 201, made.text
    assert made.json() == {"name": "cb", "title": None, "codes": [], "groups": []}
    for body in (
        {"code": "barriers", "colour": "#aa0000"},
        {"code": "funding", "parent": "barriers", "description": "money ran short"},
        {"code": "politics", "parent": "barriers"},
    ):
        added = http.post("/api/v1/coding/codebooks/cb/codes", headers=auth, json=body)
        assert added.status_code == 201, added.text
        assert added.json()["name"] == body["code"]
    group = {"group": "cause", "exclusive": True, "codes": ["barriers/funding", "barriers/politics"]}
    grouped = http.post("/api/v1/coding/codebooks/cb/groups", headers=auth, json=group)
    assert grouped.status_code == 201, grouped.text
    assert grouped.json() == {"name": "cause", "exclusive": True, "codes": ["barriers/funding", "barriers/politics"]}
    shown = http.get("/api/v1/coding/codebooks/cb", headers=auth).json()
    return {c["path"]: c["id"] for c in shown["codes"]}


def test_a_script_builds_a_codebook_and_codes_answers(
    client: TestClient,  # noqa: F811
    cli: Cli,
    store: Store,
    coders: dict[str, dict[str, str]],
) -> None:
    auth = coders["ana"]
    ids = _codebook(client, auth)
    assert list(ids) == ["barriers", "barriers/funding", "barriers/politics"]
    assert len(set(ids.values())) == 3
    book = json.loads(cli("coding", "codebook", "show", "cb", "--json").stdout)
    assert [(c["path"], c["groups"]) for c in book["codes"]] == [
        ("barriers", []),
        ("barriers/funding", ["cause"]),
        ("barriers/politics", ["cause"]),
    ]
    assert book["codes"][1]["description"] == "money ran short"
    listed = client.get("/api/v1/coding/codebooks", headers=auth).json()
    assert listed == [{"name": "cb", "title": None, "codes": 3, "groups": 1, "codings": 0}]
    assert client.post("/api/v1/coding/codebooks", headers=auth, json={"name": "cb"}).status_code == 409

    source = answer("LM.0181")  # "Borders closed in 2020; the training moved online and the budget was cut."
    body = {"source": source, "start": 0, "end": 15, "code_id": ids["barriers/politics"], "memo": "closure"}
    coded = client.post("/api/v1/coding/codings", headers=auth, json=body)
    assert coded.status_code == 201, coded.text
    shown = coded.json()
    assert (shown["code"], shown["coder"], shown["memo"], shown["source"]) == ("politics", "ana", "closure", source)
    rows = json.loads(cli("coding", "list", "--codebook", "cb", "--json").stdout)
    assert [(r["id"], r["text"], r["coder"], r["code_path"]) for r in rows] == [
        (shown["id"], "Borders closed ", "ana", "barriers/politics")
    ]
    twice = client.post("/api/v1/coding/codings", headers=auth, json=body)
    assert twice.status_code == 409, twice.text
    assert twice.json()["error"] == f'ana coded {source} 0-15 with "politics" already'
    exclusive = client.post("/api/v1/coding/codings", headers=auth, json={**body, "code_id": ids["barriers/funding"]})
    assert exclusive.status_code == 409  # the group is exclusive: one code of it per unit and coder
    assert "exclusive" in exclusive.json()["error"], exclusive.text
    outside = client.post("/api/v1/coding/codings", headers=auth, json={**body, "start": 10, "end": 100_000})
    assert outside.status_code == 422
    assert "is outside the text" in outside.json()["error"]

    removed = client.delete(f"/api/v1/coding/codings/{shown['id']}", headers=auth)
    assert removed.status_code == 200, removed.text
    assert removed.json() == {"removed": shown["id"]}
    remaining = [r["id"] for r in json.loads(cli("coding", "list", "--codebook", "cb", "--json").stdout)]
    assert shown["id"] not in remaining
    with store.session() as session:
        actions = [(e.action, e.actor) for e in audit.history(session, "coding", shown["id"])]
    assert sorted(actions) == [("create", "ana"), ("delete", "ana")]
    assert client.delete(f"/api/v1/coding/codings/{shown['id']}", headers=auth).status_code == 404


def test_suggestions_are_accepted_and_rejected(
    client: TestClient,  # noqa: F811
    cli: Cli,
    coders: dict[str, dict[str, str]],
) -> None:
    auth = coders["ana"]
    ids = _codebook(client, auth)
    ask = {"codebook": "cb", "code_id": ids["barriers/funding"], "words": "budget, funding"}
    found = client.post("/api/v1/coding/reviews/r/suggestions", headers=auth, json=ask)
    assert found.status_code == 200, found.text
    rows = found.json()["suggestions"]
    texts = sorted(r["text"].lower() for r in rows)
    assert "budget" in texts, rows
    assert "funding" in texts, rows
    assert {r["code_id"] for r in rows} == {ids["barriers/funding"]}
    first, second = rows[0], rows[1]
    keys = ("source", "start", "end", "code_id")
    accepted = client.post(
        "/api/v1/coding/reviews/r/suggestions/accept",
        headers=auth,
        json={"codebook": "cb", **{k: first[k] for k in keys}},
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["memo"] == "suggested"
    rejected = client.post(
        "/api/v1/coding/reviews/r/suggestions/reject",
        headers=auth,
        json={"codebook": "cb", **{k: second[k] for k in keys}},
    )
    assert rejected.status_code == 201, rejected.text
    assert rejected.json()["text"] == second["text"]
    again = client.post("/api/v1/coding/reviews/r/suggestions", headers=auth, json=ask).json()["suggestions"]
    spans = {(r["source"], r["start"], r["end"]) for r in again}
    assert (first["source"], first["start"], first["end"]) not in spans  # coded now
    assert (second["source"], second["start"], second["end"]) not in spans  # rejected by this coder
    assert len(again) == len(rows) - 2
    coded = json.loads(cli("coding", "list", "--codebook", "cb", "--json").stdout)
    assert [(r["source"], r["start"], r["memo"]) for r in coded] == [(first["source"], first["start"], "suggested")]
    bad_rule = client.post(
        "/api/v1/coding/reviews/r/suggestions", headers=auth, json={**ask, "words": "(unclosed", "regex": True}
    )
    assert bad_rule.status_code == 422, bad_rule.text
    assert bad_rule.json()["problems"][0].startswith("words: ")
    no_book = client.post("/api/v1/coding/reviews/r/suggestions", headers=auth, json={"code_id": 1})
    assert no_book.status_code == 422
    assert no_book.json()["problems"] == ["codebook: name the codebook"]


def test_who_may_not_code(
    client: TestClient,  # noqa: F811
    coders: dict[str, dict[str, str]],
) -> None:
    ids = _codebook(client, coders["ana"])
    body = {"source": answer("LM.0168"), "start": 4, "end": 12, "code_id": ids["barriers/politics"]}
    assert client.post("/api/v1/coding/codings", headers=coders["rea"], json=body).status_code == 403
    assert client.post("/api/v1/coding/codings", headers=coders["ana-read"], json=body).status_code == 403
    hidden = client.post("/api/v1/coding/codings", headers=coders["out"], json=body)
    nowhere = "00000000-0000-0000-0000-000000000000/actions"
    unknown = client.post("/api/v1/coding/codings", headers=coders["out"], json={**body, "source": nowhere})
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["error"].replace(body["source"], "X") == unknown.json()["error"].replace(nowhere, "X")
    coded = client.post("/api/v1/coding/codings", headers=coders["ana"], json=body)
    assert coded.status_code == 201
    coding_id = coded.json()["id"]
    for who, status in (("out", 404), ("rea", 403), ("ana-read", 403)):
        assert client.delete(f"/api/v1/coding/codings/{coding_id}", headers=coders[who]).status_code == status, who
    ask = {"codebook": "cb", "code_id": ids["barriers/funding"], "words": "budget"}
    for who, status in (("out", 404), ("rea", 403), ("ana-read", 403)):
        response = client.post("/api/v1/coding/reviews/r/suggestions", headers=coders[who], json=ask)
        assert response.status_code == status, (who, response.text)
    hidden = client.post("/api/v1/coding/reviews/r/suggestions", headers=coders["out"], json=ask)
    unknown = client.post("/api/v1/coding/reviews/nope/suggestions", headers=coders["out"], json=ask)
    assert hidden.text.replace("'r'", "X") == unknown.text.replace("'nope'", "X")
    with_viewer = client.post("/api/v1/coding/codebooks", headers=coders["rea"], json={"name": "mine"})
    assert with_viewer.status_code == 201  # rea is a site reviewer: codebooks are the office's


def test_bad_input_is_a_clear_4xx(
    client: TestClient,  # noqa: F811
    coders: dict[str, dict[str, str]],
) -> None:
    auth = coders["ana"]
    ids = _codebook(client, auth)
    body = {"source": answer("LM.0168"), "start": 4, "end": 12, "code_id": ids["barriers/politics"]}
    cases = [
        ({**body, "source": "a\x00b"}, 422, "body.source"),
        ({**body, "memo": "x" * 100_000}, 422, "body.memo"),
        ({**body, "code_id": "x"}, 422, "body.code_id"),
        ({**body, "code_id": 2**31}, 422, "body.code_id"),
        ({**body, "start": -1}, 422, "body.start"),
        ({**body, "start": [1]}, 422, "body.start"),
        ({**body, "start": True}, 422, "body.start"),
        ({**body, "start": "4"}, 422, "body.start"),
        ({**body, "memo": "\ud800"}, 422, "body.memo"),
        ({**body, "code_id": 2**31 - 1}, 404, ""),
        ({**body, "source": "no-such-document"}, 404, ""),
        ({**body, "source": "item:²"}, 404, ""),  # a digit str.isdigit() passes and int() refuses
        ({**body, "source": "²"}, 404, ""),
        ({**body, "unknown": 1}, 422, "body.unknown"),
        ({"start": 1}, 422, "source: give source, start, end and code_id"),
    ]
    for sent, status, named in cases:
        response = client.post("/api/v1/coding/codings", headers=JSON | auth, content=json.dumps(sent))
        assert response.status_code == status, (sent.keys(), response.text[:300])
        assert set(response.json()) == {"error", "problems"}
        assert any(p.startswith(named) for p in response.json()["problems"]) or not named, response.text[:300]
    for path, sent in (
        ("/api/v1/coding/codebooks", {"name": "x" * 100_000}),
        ("/api/v1/coding/codebooks", {"name": "bad\x00name"}),
        ("/api/v1/coding/codebooks", {"starter": "no-such-starter"}),
        ("/api/v1/coding/codebooks/cb/codes", {"code": "a\nb"}),
        ("/api/v1/coding/codebooks/cb/codes", {"code": "x", "parent": "no-such-parent"}),
        ("/api/v1/coding/codebooks/nope/codes", {"code": "x"}),
        ("/api/v1/coding/codebooks/cb/groups", {"group": "g", "codes": ["no-such-code"]}),
        ("/api/v1/coding/codebooks/cb/groups", {"group": "g", "exclusive": "perhaps"}),
        ("/api/v1/coding/reviews/r/suggestions", {"codebook": "cb", "code_id": 2**31 - 1, "words": "x"}),
        ("/api/v1/coding/reviews/r/suggestions/reject", {"codebook": "cb", **body, "end": 10**6}),
    ):
        response = client.post(path, headers=JSON | auth, content=json.dumps(sent))
        assert 400 <= response.status_code < 500, (path, response.text[:300])
        assert set(response.json()) == {"error", "problems"}, path
    assert client.delete("/api/v1/coding/codings/99999999999", headers=auth).status_code == 404
    twice = {"group": "twice", "codes": ["barriers/politics", "barriers/politics"]}
    made = client.post("/api/v1/coding/codebooks/cb/groups", headers=JSON | auth, content=json.dumps(twice))
    assert made.status_code == 201, made.text[:300]  # one member for a code named twice


def test_a_manager_compares_the_coders_and_records_a_consensus(
    client: TestClient,  # noqa: F811
    cli: Cli,
    store: Store,
    coders: dict[str, dict[str, str]],
) -> None:
    with store.session() as session:
        add_user(session, "bea", "reviewer", PASSWORD, actor="test")
        add_user(session, "max", "viewer", PASSWORD, actor="test")
    assert cli("review", "member", "add", "r", "bea", "--role", "reviewer").exit_code == 0
    assert cli("review", "member", "add", "r", "max", "--role", "manager").exit_code == 0
    bea, manager = bearer(make_token(cli, "bea", "write")), bearer(make_token(cli, "max", "write"))
    ids = _codebook(client, coders["ana"])
    funding, politics = ids["barriers/funding"], ids["barriers/politics"]
    given = {  # the same unit, ana and bea; they disagree on LM.0168
        "LM.0181": (funding, funding),
        "LM.0168": (politics, funding),
        "LM.0221": (funding, funding),
        "LM.0220": (politics, politics),
    }
    for code, (by_ana, by_bea) in given.items():
        for auth, code_id in ((coders["ana"], by_ana), (bea, by_bea)):
            body = {"source": answer(code), "start": 0, "end": 10, "code_id": code_id}
            assert client.post("/api/v1/coding/codings", headers=auth, json=body).status_code == 201
    url = "/api/v1/coding/reviews/r/agreement"
    closed = client.get(url, headers=coders["rea"], params={"codebook": "cb"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["agreement"] is None
    assert "are not compared yet" in closed.json()["note"]
    assert (
        client.post("/api/v1/coding/reviews/r/compare", headers=coders["ana"], json={"codebook": "cb"}).status_code
        == 403
    )
    opened = client.post("/api/v1/coding/reviews/r/compare", headers=manager, json={"codebook": "cb"})
    assert opened.status_code == 200, opened.text
    assert opened.json() == {"review": "r", "codebook": "cb", "opened": True}
    again = client.post("/api/v1/coding/reviews/r/compare", headers=manager, json={"codebook": "cb"})
    assert again.json()["opened"] is False
    measured = client.get(url, headers=coders["rea"], params={"codebook": "cb"}).json()
    cli_json = json.loads(cli("coding", "agreement", "--review", "r", "--codebook", "cb", "--json").stdout)
    assert measured["agreement"] == cli_json
    assert measured["agreement"]["coders"] == ["ana", "bea"]
    (disagreement,) = measured["disagreements"]
    assert disagreement["codes"] == {"ana": ["politics"], "bea": ["funding"]}

    unit = disagreement["unit"]
    sent = {"codebook": "cb", "unit": unit, "codes": ["barriers/funding"], "reason": "the budget cut came first"}
    assert client.post("/api/v1/coding/reviews/r/consensus", headers=bea, json=sent).status_code == 403
    agreed = client.post("/api/v1/coding/reviews/r/consensus", headers=manager, json=sent)
    assert agreed.status_code == 201, agreed.text
    assert agreed.json() == {"unit": unit, "codings": 1}
    left = json.loads(cli("coding", "disagreements", "--review", "r", "--codebook", "cb", "--json").stdout)
    assert left == []
    assert client.get(url, headers=coders["rea"], params={"codebook": "cb"}).json()["disagreements"] == []
    for body, named in (
        ({**sent, "codes": ["barriers/politics", "no-such-code"]}, ""),
        ({**sent, "unit": "no-such-unit"}, "unit: "),
        ({"codebook": "cb"}, "unit: "),
        ({**sent, "reason": "\x00"}, "body.reason"),
    ):
        response = client.post("/api/v1/coding/reviews/r/consensus", headers=manager, json=body)
        assert 400 <= response.status_code < 500, response.text
        assert not named or response.json()["problems"][0].startswith(named), response.text
    assert client.get(url, headers=coders["out"], params={"codebook": "cb"}).status_code == 404
    assert client.get(url, headers=coders["rea"], params={"codebook": "nope"}).status_code == 404
    assert (
        client.post("/api/v1/coding/reviews/r/compare", headers=coders["out"], json={"codebook": "cb"}).status_code
        == 404
    )
