"""Background jobs (lmreview/jobs): who sees which job, the CLI's ``jobs`` commands and ``worker``, the web's Jobs
pages and buttons, ``/api/v1/jobs``, recovery of jobs a dead process left running, scheduled reminders, and a
worker killed (SIGKILL) in the middle of a 200-PDF ingest, on SQLite (huey on SQLite) and PostgreSQL (huey on Redis)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lmreview import access
from lmreview.evidence.models import Document
from lmreview.jobs import queue, runner, scheduled, service
from lmreview.jobs.models import Job, JobFile
from lmreview.questionnaire.models import Respondent, Review
from lmreview.settings import Settings
from lmreview.store import Store, tokens
from lmreview.store.models import User
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import ROOT, Cli, Mailbox, personal_link
from tests.fixtures.coding.material import make_review
from tests.test_analysis_audit import minimal_pdf

PASSWORD = "correct-horse"
SAMPLES = ROOT / "src" / "lmreview" / "portfolio" / "samples"
FORM = (ROOT / "src" / "lmreview" / "questionnaire" / "templates" / "idf-lm-2022.md").read_text(encoding="utf-8")


def _wait(store: Store, job_id: int, timeout: float = 120) -> Job:
    """Job ``job_id`` once it has ended."""
    deadline = time.monotonic() + timeout
    while True:
        with store.session() as session:
            job = session.get(Job, job_id)
            assert job is not None
            if job.status in ("done", "failed", "cancelled"):
                session.expunge(job)
                return job
        assert time.monotonic() < deadline, f"job {job_id} still {job.status}: {job.message}"
        time.sleep(0.2)


def _users(store: Store, **roles: str) -> dict[str, User]:
    with store.session() as session:
        return {name: add_user(session, name, role, PASSWORD, actor="test") for name, role in roles.items()}


def _client(app: Any, name: str) -> tuple[TestClient, str]:
    client = TestClient(app)

    def token() -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert found is not None
        return found[1]

    response = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token()})
    assert response.status_code == 200, response.text
    return client, token()


@pytest.fixture
def two_reviews(store: Store, cli: Cli) -> dict[str, int]:
    """Reviews a and b; ada (admin), mia (manager of b), rea (reader of b), out (reviewer, reader of a); a job of
    each review and a site job started by out."""
    assert cli("review", "create", "a").exit_code == 0
    assert cli("review", "create", "b").exit_code == 0
    _users(store, ada="admin", mia="viewer", rea="viewer", out="reviewer")
    with store.session() as session:
        a = session.scalars(select(Review).where(Review.name == "a")).one()
        b = session.scalars(select(Review).where(Review.name == "b")).one()
        access.add_member(session, b, "mia", "manager", actor="test")
        access.add_member(session, b, "rea", "reader", actor="test")
        access.add_member(session, a, "out", "reader", actor="test")
        out = session.scalars(select(User).where(User.name == "out")).one()
        ids = {
            "a": service.create_job(session, kind="report", title="Report a", actor="t", user=None, review_id=a.id).id,
            "b": service.create_job(session, kind="report", title="Report b", actor="t", user=None, review_id=b.id).id,
            "site": service.create_job(session, kind="ingest", title="Site", actor="out", user=out).id,
        }
    return ids


def _user(store: Store, name: str) -> User:
    with store.session() as session:
        user = session.scalars(select(User).where(User.name == name)).one()
        session.expunge(user)
        return user


def test_a_job_is_seen_by_the_members_of_its_review_and_a_site_job_by_its_starter(
    store: Store, two_reviews: dict[str, int]
) -> None:
    seen = {}
    for name in ("ada", "mia", "rea", "out"):
        with store.session() as session:
            jobs, total = service.list_jobs(session, _user(store, name))
            seen[name] = {j.id for j in jobs}
            assert total == len(jobs)
    ids = two_reviews
    assert seen["ada"] == {ids["a"], ids["b"], ids["site"]}
    assert seen["mia"] == seen["rea"] == {ids["b"]}
    assert seen["out"] == {ids["a"], ids["site"]}
    with store.session() as session:
        with pytest.raises(service.NotFound, match=f"there is no job {ids['b']}$"):
            service.get_job(session, _user(store, "out"), ids["b"])
        with pytest.raises(service.NotFound):
            service.get_job(session, _user(store, "mia"), ids["site"])
        with pytest.raises(service.NotFound, match="there is no review 'b'"):  # a filter naming b leaks nothing
            service.list_jobs(session, _user(store, "out"), review="b")
        with pytest.raises(service.Forbidden):  # a reader may not cancel
            service.cancel_job(session, _user(store, "rea"), ids["b"])
    with store.session() as session:
        assert service.cancel_job(session, _user(store, "mia"), ids["b"]).status == "cancelled"
    assert not runner.claim(store, ids["b"], "test")  # a cancelled job never starts
    with store.session() as session, pytest.raises(service.Conflict, match="already ended"):
        service.cancel_job(session, None, ids["b"])


def test_the_cli_run_as_a_user_sees_their_jobs_only(cli: Cli, two_reviews: dict[str, int], tmp_path: Path) -> None:
    listed = json.loads(cli("jobs", "list", "--json", user="out").stdout)
    assert {j["id"] for j in listed["jobs"]} == {two_reviews["a"], two_reviews["site"]}
    assert cli("jobs", "show", str(two_reviews["b"]), user="out").exit_code == 2
    assert cli("jobs", "cancel", str(two_reviews["b"]), user="rea").exit_code == 2  # a reader may not
    everything = json.loads(cli("jobs", "list", "--json").stdout)  # the local operator
    assert everything["total"] == 3
    (tmp_path / "note.txt").write_text("A report\n\nIt found things.", encoding="utf-8")
    refused = cli("jobs", "ingest", str(tmp_path / "note.txt"), "--here", user="rea")  # a site viewer
    assert refused.exit_code == 2
    assert "this needs the reviewer role" in refused.stderr


def test_web_and_api_answer_404_for_a_job_of_another_review(store: Store, two_reviews: dict[str, int]) -> None:
    app = create_app(Settings(database_url=store.url), store)
    out, _ = _client(app, "out")
    mia, token = _client(app, "mia")
    b = two_reviews["b"]
    assert out.get(f"/jobs/{b}").status_code == 404
    assert "Report b" not in out.get("/jobs").text
    page = mia.get(f"/jobs/{b}")
    assert page.status_code == 200
    assert "Report b" in page.text
    assert "queued" in page.text
    assert "Report a" not in mia.get("/jobs").text
    with store.session() as session:
        keys = {n: tokens.create_token(session, n, "t", actor="test", scope="write").secret for n in ("out", "mia")}
    api = TestClient(app)
    as_out = {"Authorization": f"Bearer {keys['out']}"}
    as_mia = {"Authorization": f"Bearer {keys['mia']}"}
    missing = api.get(f"/api/v1/jobs/{b}", headers=as_out)
    assert missing.status_code == 404
    assert missing.json() == {"error": f"there is no job {b}", "problems": []}
    assert api.post(f"/api/v1/jobs/{b}/cancel", headers=as_out).status_code == 404
    listed = api.get("/api/v1/jobs", headers=as_out).json()
    assert {j["id"] for j in listed["items"]} == {two_reviews["a"], two_reviews["site"]}
    assert listed["total"] == 2
    shown = api.get(f"/api/v1/jobs/{b}", headers=as_mia).json()
    assert shown["review"] == "b"
    assert shown["status"] == "queued"
    assert shown["outputs"] == []
    assert api.get("/api/v1/jobs?status=nonsense", headers=as_mia).status_code == 422
    cancelled = api.post(f"/api/v1/jobs/{b}/cancel", headers=as_mia)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    # the cancel button
    response = mia.post(f"/jobs/{b}/cancel", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 409  # it has ended already


def test_cli_import_job_here_and_on_the_list(cli: Cli, store: Store) -> None:
    run = cli("jobs", "import", str(SAMPLES / "lm2016.csv"), "--here")
    assert run.exit_code == 0, run.stderr
    found = re.search(r"Job (\d+) done: Imported lm2016.csv into portfolio lm2016: 14 created", run.stdout)
    assert found is not None, run.stdout
    job_id = found[1]
    listed = json.loads(cli("jobs", "list", "--json").stdout)
    assert listed["total"] == 1
    assert listed["jobs"][0]["status"] == "done"
    shown = json.loads(cli("jobs", "show", job_id, "--json").stdout)
    assert shown["result"]["created"] == 14
    assert shown["link"] == "/portfolios/lm2016"
    assert shown["attempts"] == 1
    bad = cli("jobs", "import", str(SAMPLES / "lm2016.csv"), "--portfolio", "bad name!", "--here")
    assert bad.exit_code == 2
    assert "Traceback" not in bad.stderr
    assert cli("jobs", "show", str(int(job_id) + 99)).exit_code == 2
    assert cli("jobs", "cancel", job_id).exit_code == 2  # it has ended


def test_a_report_job_keeps_the_files_it_built(cli: Cli, store: Store, tmp_path: Path) -> None:
    make_review(cli, tmp_path)
    # the Kobo export make_review imported, again as a job: every submission unchanged
    run = cli("jobs", "responses", str(tmp_path / "kobo.xlsx"), "--review", "r", "--here")
    assert run.exit_code == 0, run.stderr
    assert re.search(r"Job \d+ done: Responses kobo.xlsx: 0 created, 0 updated, \d+ unchanged", run.stdout), run.stdout
    assert cli("jobs", "responses", str(tmp_path / "kobo.xlsx"), "--review", "nope").exit_code == 2
    run = cli("jobs", "report", "--review", "r", "--format", "html,xlsx", "--here")
    assert run.exit_code == 0, run.stderr
    with store.session() as session:
        job_id = session.scalar(select(func.max(Job.id)))
    out = tmp_path / "out"
    run = cli("jobs", "files", str(job_id), "--out", str(out))
    assert run.exit_code == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == ["r-report.html", "r-report.xlsx"]
    assert (out / "r-report.xlsx").read_bytes().startswith(b"PK")
    # the web: the job's page links the files; a non-member of r hears 404 for the job and its files
    _users(store, rex="reviewer", out="reviewer")
    with store.session() as session:
        review = session.scalars(select(Review).where(Review.name == "r")).one()
        access.add_member(session, review, "rex", "reviewer", actor="test")
        file_id = session.scalar(select(JobFile.id).where(JobFile.job_id == job_id, JobFile.name == "r-report.xlsx"))
    app = create_app(Settings(database_url=store.url), store)
    rex, token = _client(app, "rex")
    page = rex.get(f"/jobs/{job_id}")
    assert f"/jobs/{job_id}/files/{file_id}" in page.text
    download = rex.get(f"/jobs/{job_id}/files/{file_id}")
    assert download.status_code == 200
    assert download.content == (out / "r-report.xlsx").read_bytes()
    assert "attachment" in download.headers["content-disposition"]
    other, _ = _client(app, "out")
    assert other.get(f"/jobs/{job_id}").status_code == 404
    assert other.get(f"/jobs/{job_id}/files/{file_id}").status_code == 404
    # the report page's button builds as a job, run in a thread of the web process (no worker runs here)
    assert 'action="/reviews/r/report/build"' in rex.get("/reviews/r/report").text
    response = rex.post(
        "/reviews/r/report/build", data={"csrf_token": token, "formats": ["html"]}, follow_redirects=False
    )
    assert response.status_code == 303
    built = int(response.headers["location"].rsplit("/", 1)[1])
    job = _wait(store, built)
    assert job.status == "done", job.message
    assert job.result == {"files": ["r-report.html"]}
    assert other.post("/reviews/r/report/build", data={"csrf_token": token}).status_code == 404


def test_a_script_starts_a_report_job_through_the_api_and_downloads_its_file(
    cli: Cli, store: Store, tmp_path: Path
) -> None:
    make_review(cli, tmp_path)
    _users(store, rex="reviewer", rea="reviewer", out="reviewer")
    with store.session() as session:
        review = session.scalars(select(Review).where(Review.name == "r")).one()
        access.add_member(session, review, "rex", "reviewer", actor="test")
        access.add_member(session, review, "rea", "reader", actor="test")
        keys = {
            n: tokens.create_token(session, n, "t", actor="test", scope="write").secret for n in ("rex", "rea", "out")
        }
    api = TestClient(create_app(Settings(database_url=store.url), store))
    as_rex = {"Authorization": f"Bearer {keys['rex']}"}
    started = api.post("/api/v1/reviews/r/report/jobs", json={"formats": ["xlsx"]}, headers=as_rex)
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    assert started.headers["location"] == f"/api/v1/jobs/{job_id}"
    assert started.json()["kind"] == "report"
    assert _wait(store, job_id).status == "done"
    shown = api.get(f"/api/v1/jobs/{job_id}", headers=as_rex).json()
    assert [o["name"] for o in shown["outputs"]] == ["r-report.xlsx"]
    download = api.get(shown["outputs"][0]["api_url"], headers=as_rex)
    assert download.status_code == 200
    assert download.content.startswith(b"PK")
    refused = api.post("/api/v1/reviews/r/report/jobs", json={"formats": ["odt"]}, headers=as_rex)
    assert refused.status_code == 422
    assert refused.json()["problems"] == ["formats: there is no report format 'odt'; choose html, pdf, docx, xlsx"]
    as_rea, as_out = {"Authorization": f"Bearer {keys['rea']}"}, {"Authorization": f"Bearer {keys['out']}"}
    assert api.post("/api/v1/reviews/r/report/jobs", headers=as_rea).status_code == 403  # a reader builds nothing
    assert api.post("/api/v1/reviews/r/report/jobs", headers=as_out).status_code == 404  # not a member: no review
    assert api.get(shown["outputs"][0]["api_url"], headers=as_out).status_code == 404


def test_an_upload_of_many_documents_becomes_a_job_the_page_follows(store: Store) -> None:
    _users(store, rex="reviewer", vic="viewer", ada="admin")
    app = create_app(Settings(database_url=store.url), store)
    rex, token = _client(app, "rex")
    files = [
        ("files", (f"report-{n}.txt", f"Final report {n}\n\nThe project trained {n} officials.".encode(), "text/plain"))
        for n in range(7)
    ]
    files.append(("files", ("broken.pdf", b"%PDF-1.4 not really", "application/pdf")))
    response = rex.post("/evidence", data={"csrf_token": token}, files=files, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/jobs/")
    job_id = int(response.headers["location"].rsplit("/", 1)[1])
    job = _wait(store, job_id)
    assert job.status == "done", job.message
    assert job.result == {"added": 7, "already_there": 0, "refused": 1}
    assert len(job.errors) == 1
    assert job.errors[0].startswith("broken.pdf: ")
    page = rex.get(f"/jobs/{job_id}").text
    assert "7 added, 0 already there, 1 refused" in page
    assert "broken.pdf" in page
    assert "/evidence/" in page
    with store.session() as session:
        assert session.scalar(select(func.count(Document.id))) == 7
        assert session.scalar(select(func.count(JobFile.id)).where(JobFile.content.is_not(None))) == 0
    vic, _ = _client(app, "vic")
    assert vic.get(f"/jobs/{job_id}").status_code == 404  # a site job: its starter and the admins
    ada, _ = _client(app, "ada")
    assert ada.get(f"/jobs/{job_id}").status_code == 200
    assert "Add 8 documents" in ada.get("/jobs").text
    assert rex.get("/jobs?status=bogus").status_code == 422


def test_a_running_job_can_be_cancelled_between_files(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(database_url=store.url)
    inputs = []
    for n in range(30):
        path = tmp_path / f"doc-{n}.txt"
        path.write_text(f"Report {n}\n\nFindings of project {n}.", encoding="utf-8")
        inputs.append(service.Input(name=path.name, path=str(path)))
    with store.session() as session:
        job_id = service.create_job(session, kind="ingest", title="t", actor="t", user=None, inputs=inputs).id
    progress = runner.Context.progress

    def cancel_at_the_third(self: runner.Context, done: int, total: int | None, *args: Any, **kwargs: Any) -> None:
        if done == 3:  # someone presses Cancel while the third file is written
            with store.session() as session:
                service.cancel_job(session, None, job_id)
        progress(self, done, total, *args, **kwargs)

    monkeypatch.setattr(runner.Context, "progress", cancel_at_the_third)
    assert runner.run_job(store, settings, job_id) == "cancelled"
    with store.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        assert job.message.startswith("cancelled")
        assert session.scalar(select(func.count(Document.id))) == 3  # what was done stays done, nothing after
        outcomes = session.scalars(select(JobFile.status).where(JobFile.job_id == job_id)).all()
    assert outcomes == ["done"] * 3 + ["pending"] * 27


def test_a_job_left_running_by_a_dead_process_is_queued_again_then_failed(store: Store) -> None:
    with store.session() as session:
        job_id = service.create_job(session, kind="report", title="t", actor="t", user=None, max_attempts=2).id
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = f"worker {os.uname().nodename}:{dead.pid}"
    for attempt in (1, 2):
        assert runner.claim(store, job_id, gone)
        assert runner.recover(store) == ([job_id] if attempt == 1 else [])
        with store.session() as session:
            job = session.get(Job, job_id)
            assert job is not None
            assert job.attempts == attempt
            assert job.errors[-1] == f"attempt {attempt}: {gone} stopped before the job ended"
            if attempt == 1:
                assert job.status == "queued"
                assert "queued again" in job.message
            else:
                assert job.status == "failed"
                assert job.message.startswith("interrupted 2 times")
    # a runner on another machine is judged by its heartbeat
    with store.session() as session:
        other = service.create_job(session, kind="report", title="t", actor="t", user=None).id
    assert runner.claim(store, other, "worker elsewhere.example:1")
    assert runner.recover(store) == []
    assert runner.recover(store, stale_seconds=-1) == [other]
    # a job queued long ago whose message may be lost (a restored backup): handed over again when a worker starts
    with store.session() as session:
        waiting = service.create_job(session, kind="report", title="t", actor="t", user=None)
        waiting.created_at = waiting.created_at - dt.timedelta(minutes=11)
        waiting_id = waiting.id
    assert runner.recover(store) == []
    assert runner.recover(store, waiting_minutes=10) == [waiting_id]  # not the one queued again just now


def test_a_web_process_starting_resumes_the_jobs_of_a_dead_one(store: Store) -> None:
    with store.session() as session:
        job_id = service.create_job(
            session,
            kind="import",
            title="t",
            actor="t",
            user=None,
            params={"portfolio": "lm2016"},
            inputs=[service.Input(name="lm2016.csv", content=(SAMPLES / "lm2016.csv").read_bytes())],
        ).id
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert runner.claim(store, job_id, f"thread {os.uname().nodename}:{dead.pid}")  # a web process, then killed
    create_app(Settings(database_url=store.url, queue_url="thread"), store)
    job = _wait(store, job_id)
    assert job.status == "done", job.message
    assert job.attempts == 2
    assert job.result is not None
    assert job.result["created"] == 14


def test_scheduled_reminders_make_one_job_per_open_review_with_invitations(
    cli: Cli, store: Store, tmp_path: Path, mail_env: Mailbox
) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    personal_link(cli, FORM, tmp_path)
    assert cli("review", "create", "quiet").exit_code == 0  # no form, nobody invited: no job
    made = scheduled.create_reminder_jobs(store)
    assert len(made) == 1
    assert scheduled.create_reminder_jobs(store) == []  # the first has not run yet
    status = runner.run_job(store, Settings(database_url=store.url), made[0])
    with store.session() as session:
        job = session.get(Job, made[0])
        assert job is not None
        assert status == "done", (job.message, job.errors)
        assert job.result == {"sent": 1, "failed": 0}
        assert job.actor == scheduled.ACTOR
    assert len(mail_env.messages) == 1
    assert queue.schedule_fields("0 9 * * 1") == ("0", "9", "*", "*", "1")
    # the worker's huey carries the schedule: Monday 7 December 2026 at 09:00 UTC is a time of it, Tuesday is not
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", reminder_schedule="0 9 * * 1")
    huey = queue.make_huey(settings, lambda: store)
    periodic = {task.__name__: task for task in huey._registry._periodic_tasks}
    assert set(periodic) == {"lmreview.recover", "lmreview.remind"}
    assert periodic["lmreview.remind"]().validate_datetime(dt.datetime(2026, 12, 7, 9, 0))
    assert not periodic["lmreview.remind"]().validate_datetime(dt.datetime(2026, 12, 8, 9, 0))
    with pytest.raises(queue.LmreviewError, match="five crontab fields"):
        queue.schedule_fields("every monday")
    with pytest.raises(queue.LmreviewError, match="LMREVIEW_REMINDER_SCHEDULE"):
        queue.schedule_fields("99 * * * *")


def test_a_retried_reminder_job_does_not_remind_twice(
    cli: Cli, store: Store, tmp_path: Path, mail_env: Mailbox
) -> None:
    """The killed first attempt reminded Ana before it died; the retry reminds only Ben."""
    from lmreview.questionnaire import invitations

    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    personal_link(cli, FORM, tmp_path)
    run = cli("respondents", "add", "Ben", "--review", "r", "--email", "b@example.org", "--project", "LM.0220")
    assert run.exit_code == 0, run.stderr
    assert cli("review", "invite", "r", "--dry-run", str(tmp_path / "second")).exit_code == 0
    with store.session() as session:
        review = session.scalars(select(Review).where(Review.name == "r")).one()
        job_id = service.create_job(
            session, kind="remind", title="Reminders", actor="t", user=None, review_id=review.id, params={}
        ).id
    with store.session() as session:  # the first attempt: Ana reminded, then the process died
        review = session.scalars(select(Review).where(Review.name == "r")).one()
        ana = session.scalars(select(Respondent.id).where(Respondent.name == "Ana")).one()
        invitations.send_invitations(
            session, review, Settings(database_url=store.url), actor="t", reminders=True, only=[ana]
        )
        job = session.get(Job, job_id)
        assert job is not None
        job.attempts = 1
    assert [m["To"] for m in mail_env.messages] == ["Ana <a@example.org>"]
    assert runner.run_job(store, Settings(database_url=store.url), job_id) == "done"
    assert [m["To"] for m in mail_env.messages] == ["Ana <a@example.org>", "Ben <b@example.org>"]
    with store.session() as session:
        done = session.get(Job, job_id)
        assert done is not None
        assert done.result == {"sent": 1, "failed": 0}


def test_the_worker_refuses_a_bad_schedule_and_a_missing_queue(
    cli: Cli, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMREVIEW_REMINDER_SCHEDULE", "at nine")
    run = cli("worker")
    assert run.exit_code == 2
    assert "five crontab fields" in run.stderr
    monkeypatch.delenv("LMREVIEW_REMINDER_SCHEDULE")
    monkeypatch.setenv("LMREVIEW_QUEUE_URL", "thread")
    run = cli("worker")
    assert run.exit_code == 2
    assert "there is no queue for a worker" in run.stderr
    monkeypatch.setenv("LMREVIEW_QUEUE_URL", "amqp://x")
    run = cli("jobs", "import", str(SAMPLES / "lm2016.csv"))
    assert run.exit_code == 2
    assert "LMREVIEW_QUEUE_URL must be" in run.stderr


def test_with_a_worker_running_the_buttons_queue_and_the_cli_reminds_as_a_job(
    cli: Cli, store: Store, tmp_path: Path
) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    personal_link(cli, FORM, tmp_path)
    outbox = tmp_path / "reminders"
    run = cli("jobs", "remind", "--review", "r", "--dry-run", str(outbox), "--here")
    assert run.exit_code == 0, run.stderr
    assert "done: 1 reminders sent" in run.stdout
    assert len(list(outbox.glob("*.eml"))) == 1
    assert cli("jobs", "remind").exit_code == 2  # neither --review nor --followup
    assert cli("jobs", "remind", "--review", "nope").exit_code == 2
    _users(store, mia="admin")
    redis = None if store.is_sqlite or not _redis_answers() else "redis://127.0.0.1:6379/0"
    settings = Settings(database_url=store.url, queue_url=redis, queue_name=f"test-{uuid.uuid4().hex[:6]}")
    app = create_app(settings, store)
    queue.mark_worker_seen(store)  # as `lmreview worker` does every 10 s
    dispatcher: queue.Dispatcher = app.state.jobs
    if dispatcher.url is None:  # PostgreSQL without a queue setting: the web runs jobs itself
        assert not dispatcher.uses_queue()
        return
    assert dispatcher.uses_queue()
    mia, token = _client(app, "mia")
    response = mia.post("/reviews/r/invite", data={"csrf_token": token, "kind": "reminders"}, follow_redirects=False)
    assert response.status_code == 303
    job_id = int(response.headers["location"].rsplit("/", 1)[1])
    with store.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        assert job.kind == "remind"
        assert job.status == "queued"  # on the queue, for the worker; nothing was sent from the request
    csv = ("p.csv", (SAMPLES / "lm2016.csv").read_bytes(), "text/csv")
    imported = mia.post("/import", data={"csrf_token": token}, files={"file": csv}, follow_redirects=False)
    answers = ("kobo.csv", b"x", "text/csv")
    uploaded = mia.post(
        "/reviews/r/responses", data={"csrf_token": token}, files={"file": answers}, follow_redirects=False
    )
    for response in (imported, uploaded):
        assert response.status_code == 303
        assert response.headers["location"].startswith("/jobs/")
    with store.session() as session:
        kinds = session.scalars(select(Job.kind).where(Job.status == "queued").order_by(Job.id)).all()
    assert kinds == ["remind", "import", "responses"]
    assert dispatcher.huey().pending_count() == 3
    dispatcher.huey().flush()


def _redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=2).ping())
    except Exception:
        return False


@pytest.fixture
def queue_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The queue of a test: huey on SQLite beside an SQLite database; huey on Redis (a queue name of this test's
    own) beside PostgreSQL, skipped when Redis does not answer."""
    env = {"LMREVIEW_QUEUE_NAME": f"lmreview-test-{uuid.uuid4().hex[:8]}"}
    if not db_url.startswith("sqlite"):
        if not _redis_answers():
            pytest.skip("Redis does not answer at 127.0.0.1:6379")
        env["LMREVIEW_QUEUE_URL"] = "redis://127.0.0.1:6379/0"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield env
    if "LMREVIEW_QUEUE_URL" in env:
        import redis

        client = redis.Redis.from_url(env["LMREVIEW_QUEUE_URL"])
        for key in client.scan_iter(f"huey*{env['LMREVIEW_QUEUE_NAME']}*"):
            client.delete(key)


def _worker(db_url: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from lmreview.cli.main import main; main()", "--db", db_url, "worker"]
    full = {**os.environ, **env, "PYTHONPATH": str(ROOT / "src")}
    with log.open("ab") as out:
        return subprocess.Popen([*command, "--threads", "1"], env=full, stdout=out, stderr=subprocess.STDOUT)


def test_a_worker_killed_during_a_200_pdf_ingest_is_resumed_and_nothing_is_lost(
    cli: Cli, store: Store, db_url: str, queue_env: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    for n in range(200):
        lines = [f"Final report of project LM.{n:04d}", "Findings", f"The project trained {n + 3} officials."]
        (folder / f"report-{n:03d}.pdf").write_bytes(minimal_pdf([lines, [f"Recommendation {n}: keep going."]]))
    run = cli("jobs", "ingest", str(folder))
    assert run.exit_code == 0, run.stderr
    found = re.search(r"Queued job (\d+)\.", run.stdout)
    assert found is not None, run.stdout
    assert "No worker is running" in run.stdout
    job_id = int(found[1])
    log = tmp_path / "worker.log"
    first = _worker(db_url, queue_env, log)
    app = create_app(Settings(database_url=store.url), store)
    try:
        deadline = time.monotonic() + 240
        done = 0
        while done < 20:
            assert time.monotonic() < deadline, log.read_text()
            assert first.poll() is None, log.read_text()
            with store.session() as session:
                done = session.scalar(select(Job.done).where(Job.id == job_id)) or 0
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        with store.session() as session:
            job = session.get(Job, job_id)
            assert job is not None
            assert job.status == "running"
            assert 20 <= job.done < 200
            before = session.scalar(select(func.count(Document.id)))
        second = _worker(db_url, queue_env, log)
        try:
            # the web keeps answering while the worker ingests
            _users(store, ada="admin")
            ada, _ = _client(app, "ada")
            started = time.monotonic()
            assert ada.get(f"/jobs/{job_id}").status_code == 200
            assert time.monotonic() - started < 5
            job = _wait(store, job_id, timeout=300)
        finally:
            second.send_signal(signal.SIGINT)
            second.wait(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert job.status == "done", (job.message, job.errors, log.read_text()[-3000:])
    assert job.attempts == 2
    assert job.done == 200
    assert job.errors[0].startswith("attempt 1: worker ")
    assert job.errors[0].endswith("stopped before the job ended")
    assert job.result == {"added": 200, "already_there": 0, "refused": 0}
    with store.session() as session:
        assert before is not None
        assert before >= 20
        assert session.scalar(select(func.count(Document.id))) == 200
        assert session.scalar(select(func.count(func.distinct(Document.sha256)))) == 200
        statuses = session.scalars(select(JobFile.status).where(JobFile.job_id == job_id)).all()
        assert statuses == ["done"] * 200  # the file being read at the kill was not half written: read again
