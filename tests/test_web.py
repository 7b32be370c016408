"""The web UI over HTTP: login, roles, CSRF, the portfolio pages, the statistics page and the JSON API."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import FIXTURES, SAMPLES, Cli

PASSWORD = "correct-horse"


@pytest.fixture
def app_client(store: Store, cli: Cli) -> Iterator[TestClient]:
    for name in ("lm2016", "lm2022"):
        assert cli("portfolio", "import", str(SAMPLES / f"{name}.csv")).exit_code == 0
    with store.session() as session:
        for name, role in (("ada", "admin"), ("rev", "reviewer"), ("vic", "viewer")):
            add_user(session, name, role, PASSWORD, actor="test")
    app = create_app(Settings(database_url=store.url), store)
    with TestClient(app) as client:
        yield client


def csrf(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    token = BeautifulSoup(page.text, "html.parser").find("input", {"name": "csrf_token"})
    assert token is not None, page.text
    return str(token["value"])


def login(client: TestClient, name: str) -> None:
    response = client.post(
        "/login", data={"name": name, "password": PASSWORD, "csrf_token": csrf(client)}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def test_pages_need_a_login(app_client: TestClient) -> None:
    response = app_client.get("/portfolios/lm2016", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/portfolios/lm2016"
    response = app_client.get("/portfolios/lm2016?region=Asia&sort=code", follow_redirects=False)
    assert response.headers["location"] == "/login?next=/portfolios/lm2016%3Fregion%3DAsia%26sort%3Dcode"
    assert app_client.get("/api/portfolios").status_code == 401


def test_wrong_password_is_refused(app_client: TestClient) -> None:
    response = app_client.post("/login", data={"name": "ada", "password": "nope-nope", "csrf_token": csrf(app_client)})
    assert response.status_code == 401
    assert "Unknown user or wrong password." in response.text


def test_login_without_csrf_token_is_refused(app_client: TestClient) -> None:
    app_client.get("/login")
    response = app_client.post("/login", data={"name": "ada", "password": PASSWORD})
    assert response.status_code == 403
    assert "reload the page" in response.text


def test_session_cookie_is_httponly_and_samesite(app_client: TestClient) -> None:
    response = app_client.get("/login")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_login_redirect_stays_on_site(app_client: TestClient) -> None:
    response = app_client.post(
        "/login",
        data={"name": "ada", "password": PASSWORD, "csrf_token": csrf(app_client), "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_portfolio_index_lists_both_samples(app_client: TestClient) -> None:
    login(app_client, "vic")
    page = soup(app_client.get("/").text)
    rows = {
        r.th.get_text(strip=True): [td.get_text(strip=True) for td in r.find_all("td")] for r in page.select("tbody tr")
    }
    assert rows["lm2016"][:2] == ["14", "1,650,000"]
    assert rows["lm2022"][:2] == ["27", "–"]
    assert page.find("form", {"action": "/import"}) is None  # a viewer cannot import


def test_project_list_filters_and_sorts(app_client: TestClient) -> None:
    login(app_client, "vic")
    page = soup(app_client.get("/portfolios/lm2022", params={"region": "Europe", "sort": "funding_year"}).text)
    assert page.caption.get_text(strip=True).startswith("5 of 27 projects")
    codes = [r.th.get_text(strip=True) for r in page.select("table.projects tbody tr")]
    assert codes == ["LM.0157", "LM.0237", "LM.0383", "LM.0411", "LM.0415"]
    page = soup(app_client.get("/portfolios/lm2016", params={"sort": "budget_usd", "desc": "1"}).text)
    first = page.select("table.projects tbody tr")[0]
    assert first.find_all("td")[2].get_text(strip=True) == "200,000"


def test_project_page_shows_dates_budget_and_history(app_client: TestClient) -> None:
    login(app_client, "vic")
    page = app_client.get("/portfolios/lm2016/projects/LM.0181")
    assert page.status_code == 200
    text = soup(page.text).get_text(" ", strip=True)
    assert "Promoting Safe Labour Migration from Vietnam" in text
    assert "USD 200,000.00" in text
    assert "2011-06-01 – 2014-06-30" in text
    assert "24 + 13 months" in text
    assert "Viet Nam (VNM)" in text
    assert "tester · create" in text


def test_unknown_project_is_a_404_page(app_client: TestClient) -> None:
    login(app_client, "vic")
    response = app_client.get("/portfolios/lm2016/projects/LM.9999")
    assert response.status_code == 404
    assert 'no project "LM.9999" in portfolio "lm2016"' in soup(response.text).get_text()


def test_stats_page_links_each_figure_to_its_rows(app_client: TestClient) -> None:
    login(app_client, "vic")
    page = soup(app_client.get("/portfolios/lm2016/stats").text)
    assert "117,857.14" in page.get_text()
    link = page.find("a", string="14 of 14")
    assert link is not None
    assert link["href"] == "/portfolios/lm2016?has=budget_usd"
    africa = page.find("a", string="Africa")
    assert africa is not None
    rows = soup(app_client.get(str(africa["href"])).text).select("table.projects tbody tr")
    assert len(rows) == 5


def test_api_stats_equals_cli_json(app_client: TestClient, cli: Cli) -> None:
    import json

    login(app_client, "vic")
    api = app_client.get("/api/portfolios/lm2016/stats").json()
    assert api == json.loads(cli("stats", "--portfolio", "lm2016", "--json").stdout)


def test_reviewer_imports_a_file_and_sees_the_changes(app_client: TestClient) -> None:
    login(app_client, "rev")
    token = csrf(app_client, "/")
    data = (SAMPLES / "lm2016.csv").read_bytes().replace(b'"USD 200,000",Vietnam', b'"USD 250,000",Vietnam')
    response = app_client.post(
        "/import",
        data={"csrf_token": token, "portfolio": "lm2016"},
        files={"file": ("lm2016.csv", data, "text/csv")},
    )
    assert response.status_code == 200, response.text
    text = soup(response.text).get_text(" ", strip=True)
    assert "0 created, 1 updated, 13 unchanged" in text
    assert re.search(r"LM\.0181 budget_usd 200000\.00 250000\.00", text)


def test_import_errors_are_listed_and_nothing_is_written(app_client: TestClient) -> None:
    login(app_client, "rev")
    token = csrf(app_client, "/")
    bad = b"code,title,budget_usd\nX.1,One,-5\nX.2,,10\n"
    response = app_client.post(
        "/import", data={"csrf_token": token, "portfolio": "bad"}, files={"file": ("bad.csv", bad, "text/csv")}
    )
    assert response.status_code == 422
    cells = [[td.get_text(strip=True) for td in r.find_all("td")] for r in soup(response.text).select("tbody tr")]
    assert cells[0][:2] == ["2", "budget_usd"]
    assert cells[1][:2] == ["3", "title"]
    assert app_client.get("/portfolios/bad").status_code == 404


def test_viewer_cannot_import_or_revise(app_client: TestClient) -> None:
    login(app_client, "vic")
    token = csrf(app_client, "/")
    response = app_client.post(
        "/import", data={"csrf_token": token}, files={"file": ("x.csv", b"code,title\nA,B\n", "text/csv")}
    )
    assert response.status_code == 403
    response = app_client.post(
        "/portfolios/lm2016/projects/LM.0181/revisions", data={"csrf_token": token, "type": "budget"}
    )
    assert response.status_code == 403


def test_reviewer_records_a_revision(app_client: TestClient) -> None:
    login(app_client, "rev")
    token = csrf(app_client, "/portfolios/lm2016/projects/LM.0181")
    response = app_client.post(
        "/portfolios/lm2016/projects/LM.0181/revisions",
        data={"csrf_token": token, "type": "duration", "date": "2013-05-01", "reason": "NCE", "note": "12 months"},
    )
    assert response.status_code == 200
    text = soup(response.text).get_text(" ", strip=True)
    assert "Recorded a duration revision." in text
    assert "duration 2013-05-01 NCE 12 months" in text
    response = app_client.post(
        "/portfolios/lm2016/projects/LM.0181/revisions",
        data={"csrf_token": token, "type": "duration", "date": "01/05/2013"},
    )
    assert response.status_code == 422
    assert "YYYY-MM-DD" in response.text


def test_admin_adds_a_user_and_deletes_a_project(app_client: TestClient) -> None:
    login(app_client, "ada")
    token = csrf(app_client, "/admin/users")
    response = app_client.post(
        "/admin/users", data={"csrf_token": token, "name": "new", "role": "viewer", "password": "long-enough"}
    )
    assert response.status_code == 200
    assert "Added viewer new." in response.text
    response = app_client.post(
        "/admin/users", data={"csrf_token": token, "name": "x", "role": "boss", "password": "short"}
    )
    assert response.status_code == 422
    assert '"boss" is not a role' in soup(response.text).get_text()
    response = app_client.post("/portfolios/lm2016/projects/LM.0251/delete", data={"csrf_token": token})
    assert response.status_code == 200
    assert app_client.get("/portfolios/lm2016/projects/LM.0251").status_code == 404


def test_iati_file_upload(app_client: TestClient) -> None:
    path = FIXTURES / "iati" / "activities.xml"
    login(app_client, "rev")
    token = csrf(app_client, "/")
    response = app_client.post(
        "/import",
        data={"csrf_token": token, "portfolio": "iati"},
        files={"file": ("activities.xml", path.read_bytes())},
    )
    assert response.status_code == 200, response.text
    assert "created" in response.text


def test_codes_with_slashes_and_hashes_have_working_links(app_client: TestClient) -> None:
    login(app_client, "rev")
    token = csrf(app_client, "/")
    data = b"code,title,planned_months,nce_months\nIDF/2020#7 a,Odd code,18.00,6.50\n"
    response = app_client.post(
        "/import", data={"csrf_token": token, "portfolio": "odd"}, files={"file": ("odd.csv", data, "text/csv")}
    )
    assert response.status_code == 200, response.text
    listing = soup(app_client.get("/portfolios/odd").text)
    link = listing.find("a", string="IDF/2020#7 a")
    assert link is not None
    assert link["href"] == "/portfolios/odd/projects/IDF%2F2020%237%20a"
    page = app_client.get(str(link["href"]))
    assert page.status_code == 200
    text = soup(page.text).get_text(" ", strip=True)
    assert "18 + 6.5 months" in text
    assert "24.5 months" in text
    form = soup(page.text).find("form", action=re.compile("revisions$"))
    assert form is not None
    response = app_client.post(str(form["action"]), data={"csrf_token": token, "type": "budget"})
    assert response.status_code == 200
    assert "Recorded a budget revision." in response.text


def test_admin_changes_a_role_and_switches_an_account_off(app_client: TestClient) -> None:
    login(app_client, "ada")
    token = csrf(app_client, "/admin/users")
    response = app_client.post("/admin/users/rev", data={"csrf_token": token, "role": "viewer"})
    assert "rev: viewer, inactive." in soup(response.text).get_text()
    response = app_client.post("/admin/users/ada", data={"csrf_token": token, "role": "viewer", "active": "1"})
    assert response.status_code == 409
    assert "last active admin" in response.text
    app_client.post("/logout", data={"csrf_token": token})
    refused = app_client.post(
        "/login", data={"name": "rev", "password": PASSWORD, "csrf_token": csrf(app_client)}, follow_redirects=False
    )
    assert refused.status_code == 401  # an inactive account cannot log in


def test_repeated_failed_logins_lock_the_name_for_a_while(app_client: TestClient) -> None:
    for _ in range(5):
        response = app_client.post(
            "/login", data={"name": "vic", "password": "guess-123", "csrf_token": csrf(app_client)}
        )
        assert response.status_code == 401
    locked = app_client.post("/login", data={"name": "vic", "password": PASSWORD, "csrf_token": csrf(app_client)})
    assert locked.status_code == 429
    assert "Too many failed attempts for this name: try again in 15 minutes." in locked.text
    other = app_client.post(
        "/login", data={"name": "ada", "password": PASSWORD, "csrf_token": csrf(app_client)}, follow_redirects=False
    )
    assert other.status_code == 303  # other names are not affected
