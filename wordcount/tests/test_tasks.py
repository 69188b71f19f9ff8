"""Counting off the request path: 202 and a worker, Prefer: wait,
Idempotency-Key, running a job twice, the failure callback and the sweep."""

from datetime import datetime, timedelta

import pytest
from redis import Redis
from rq.exceptions import AbandonedJobError
from rq.job import Job, JobStatus
from rq.timeouts import JobTimeoutException
from sqlalchemy import func, select, update

from config import TestingConfig
from extensions import jobs
from models import db, utc_now
from plumbing.jobs import failure_callback
from tests.support.processes import free_port, wait_until
from web import create_app
from wordcount import counts as counts_module
from wordcount.models import Count, Status
from wordcount.tasks import MAX_ATTEMPTS, STALE_AFTER, count_failed, job_id, run_count, sweep

PAGE = "<p>The cat and the dog. The cat sat.</p>"


def post(client, url, **headers):
    return client.post("/api/counts", json={"url": url}, headers=headers)


def stored(app, count_id: int) -> Count:
    with app.app_context():
        result = db.session.get(Count, count_id)
    assert result is not None, count_id
    return result


def add_row(app, **values) -> int:
    with app.app_context():
        values.setdefault("url", "http://127.0.0.1:9/")
        row = Count(requested_url=values["url"], **values)
        db.session.add(row)
        db.session.commit()
        return row.id


# --- With a queue: 202, then a worker ------------------------------------------


def test_a_post_is_accepted_at_once_and_a_worker_counts_it(
    queue_app, queue_client, local_site, start_worker
):
    response = post(queue_client, local_site.add("/cats", PAGE))
    assert response.status_code == 202
    body = response.get_json()
    assert (body["status"], body["finished_at"]) == ("queued", None)
    assert "total_words" not in body
    assert response.headers["Location"] == f"/api/counts/{body['id']}"
    assert response.headers["Retry-After"] == "1"
    assert local_site.requests == []  # nothing fetched on the request path

    start_worker()
    wait_until(
        lambda: stored(queue_app, body["id"]).status == Status.DONE,
        timeout=30,
        what="the worker to count the page",
    )
    done = queue_client.get(response.headers["Location"]).get_json()
    assert (done["status"], done["total_words"], done["top_words"][0]) == (
        "done",
        8,
        {"word": "cat", "count": 2},
    )
    assert stored(queue_app, body["id"]).attempts == 1


def test_a_failed_count_keeps_its_code_and_message(
    queue_app, queue_client, local_site, start_worker
):
    url = local_site.add("/image", "x", content_type="image/png")
    count_id = post(queue_client, url).get_json()["id"]
    start_worker()
    wait_until(
        lambda: stored(queue_app, count_id).status == Status.FAILED,
        timeout=30,
        what="the count to fail",
    )
    body = queue_client.get(f"/api/counts/{count_id}").get_json()
    assert body["error"] == {
        "code": "not_html",
        "message": "The URL is not an HTML page (Content-Type: image/png).",
    }
    assert "Retry-After" not in queue_client.get(f"/api/counts/{count_id}").headers


def test_prefer_wait_returns_the_finished_count(queue_client, local_site, start_worker):
    start_worker()
    response = post(queue_client, local_site.add("/cats", PAGE), Prefer="wait=20")
    assert response.status_code == 201
    assert response.get_json()["total_words"] == 8


def test_prefer_wait_answers_202_when_the_count_is_not_done_in_time(queue_client, local_site):
    response = post(queue_client, local_site.add("/cats", PAGE), Prefer="respond-async, wait=1")
    assert response.status_code == 202


@pytest.mark.parametrize("prefer", ["wait=abc", "wait=-1", "wait=", "wait=²", "handling=strict"])
def test_a_preference_that_cannot_be_read_is_ignored(queue_client, local_site, prefer):
    assert post(queue_client, local_site.add("/cats", PAGE), Prefer=prefer).status_code == 202


def test_prefer_wait_is_capped(queue_app, queue_client, local_site):
    import time

    queue_app.config["WORDCOUNT_MAX_WAIT"] = 1
    started = time.monotonic()
    assert post(queue_client, local_site.add("/a", PAGE), Prefer="wait=600").status_code == 202
    assert time.monotonic() - started < 10


def test_a_failed_enqueue_keeps_the_count_and_the_sweep_queues_it(
    postgres_database, queue_app, local_site
):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(
        TestingConfig({"TEST_DATABASE_URL": postgres_database, "REDIS_URL": dead_redis})
    )
    response = post(app.test_client(), local_site.add("/cats", PAGE))
    assert response.status_code == 202
    count_id = response.get_json()["id"]
    assert stored(app, count_id).status == Status.QUEUED
    with app.app_context():
        db.engine.dispose()

    with queue_app.app_context():
        assert sweep()["requeued"] == 0  # not stale yet
        assert sweep(utc_now() + STALE_AFTER + timedelta(seconds=1))["requeued"] == 1
        assert job_status(count_id) == JobStatus.QUEUED


# --- The sweep -----------------------------------------------------------------


def job_status(count_id: int) -> JobStatus | None:
    job = jobs.fetch_many([job_id(count_id)])[0]
    return job.get_status() if job is not None else None


def later() -> datetime:
    return utc_now() + STALE_AFTER + timedelta(seconds=1)


def test_the_sweep_leaves_a_count_whose_job_is_alive(queue_app):
    count_id = add_row(queue_app)
    with queue_app.app_context():
        jobs.queue().enqueue(run_count, count_id, job_id=job_id(count_id))
        assert sweep(later()) == {"requeued": 0, "expired": 0, "lost": 0}


def test_the_sweep_requeues_a_count_whose_job_is_gone(queue_app):
    count_id = add_row(queue_app, status=Status.RUNNING, attempts=1)
    with queue_app.app_context():
        assert sweep(later())["requeued"] == 1
        assert job_status(count_id) == JobStatus.QUEUED
    assert stored(queue_app, count_id).status == Status.QUEUED


def test_the_sweep_fails_a_count_that_was_interrupted_too_often(queue_app):
    count_id = add_row(queue_app, status=Status.RUNNING, attempts=MAX_ATTEMPTS)
    with queue_app.app_context():
        assert sweep(later())["lost"] == 1
    row = stored(queue_app, count_id)
    assert (row.status, row.error_code) == (Status.FAILED, "worker_lost")


def test_the_sweep_expires_a_count_past_the_deadline(queue_app):
    count_id = add_row(queue_app)
    deadline = timedelta(seconds=queue_app.config["WORDCOUNT_COUNT_DEADLINE"] + 1)
    with queue_app.app_context():
        jobs.queue().enqueue(run_count, count_id, job_id=job_id(count_id))
        assert sweep(utc_now() + deadline)["expired"] == 1
    row = stored(queue_app, count_id)
    assert (row.status, row.error_code) == (Status.FAILED, "expired")


# --- The job itself ------------------------------------------------------------


def test_running_a_count_twice_fetches_once_and_stores_one_result(app, local_site):
    url = local_site.add("/cats", PAGE)
    count_id = add_row(app)
    with app.app_context():
        db.session.execute(
            update(Count).where(Count.id == count_id).values(url=url, requested_url=url)
        )
        db.session.commit()
        run_count(count_id)
        run_count(count_id)
        assert db.session.scalar(select(func.count()).select_from(Count)) == 1
    assert local_site.requests == ["/cats"]
    row = stored(app, count_id)
    assert (row.status, row.total_words, row.attempts) == (Status.DONE, 8, 1)


def test_an_outcome_is_stored_only_by_the_run_that_holds_the_count(app):
    count_id = add_row(app, status=Status.DONE, total_words=3)
    with app.app_context():
        count_failed(count_id, error=RuntimeError("boom"))
    assert stored(app, count_id).status == Status.DONE


@pytest.mark.parametrize(
    "exc_type, code",
    [
        (JobTimeoutException, "count_timeout"),
        (AbandonedJobError, "worker_lost"),
        (RuntimeError, "internal_error"),
    ],
)
def test_the_failure_callback_fails_the_count_once_rq_gives_up(app, exc_type, code):
    count_id = add_row(app, status=Status.RUNNING, attempts=1)
    job = Job.create(
        run_count,
        args=(count_id,),
        connection=Redis(),  # never reached: the callback reads the job alone
        meta={"on_failure": "wordcount.tasks.count_failed"},
    )
    with app.app_context():
        job.retries_left = 1
        failure_callback(job, job.connection, exc_type, exc_type(), None)
        assert db.session.get_one(Count, count_id).status == Status.RUNNING  # RQ retries it
        job.retries_left = 0
        failure_callback(job, job.connection, exc_type, exc_type(), None)
    row = stored(app, count_id)
    assert (row.status, row.error_code) == (Status.FAILED, code)


# --- Idempotency-Key -------------------------------------------------------------


def test_a_repeated_key_returns_the_first_count(client, local_site, stored_rows):
    url = local_site.add("/cats", PAGE)
    first = post(client, url, **{"Idempotency-Key": "order-1"})
    again = post(client, url, **{"Idempotency-Key": '"order-1"'})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert local_site.requests == ["/cats"]
    assert stored_rows() == 1


def test_a_request_that_loses_the_race_for_its_key_replays_the_winner(
    client, local_site, stored_rows, monkeypatch
):
    url = local_site.add("/cats", PAGE)
    first = post(client, url, **{"Idempotency-Key": "order-1"})
    # The second request looked for the key before the first had committed,
    # so its INSERT is the one the unique constraint refuses.
    looked: list[str] = []
    find_by_key = counts_module.find_by_key

    def before_the_winner_committed(key):
        looked.append(key)
        return None if len(looked) == 1 else find_by_key(key)

    monkeypatch.setattr(counts_module, "find_by_key", before_the_winner_committed)
    again = post(client, url, **{"Idempotency-Key": "order-1"})
    assert (again.status_code, again.get_json()["id"]) == (201, first.get_json()["id"])
    assert again.headers["Idempotent-Replayed"] == "true"
    assert looked == ["order-1", "order-1"]
    assert stored_rows() == 1


def test_a_key_reused_for_another_url_is_422(client, local_site, stored_rows):
    post(client, local_site.add("/a", PAGE), **{"Idempotency-Key": "k"})
    response = post(client, local_site.add("/b", PAGE), **{"Idempotency-Key": "k"})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "idempotency_key_reused"
    assert stored_rows() == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there"])
def test_a_key_that_is_not_1_to_255_printable_ascii_is_400(client, local_site, key, stored_rows):
    response = post(client, local_site.add("/a", PAGE), **{"Idempotency-Key": key})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    assert stored_rows() == 0


@pytest.mark.parametrize("key", ['"a,b"', '"say \\"hi\\""'])
def test_a_quoted_key_may_hold_commas_and_escaped_quotes(client, local_site, key):
    first = post(client, local_site.add("/a", PAGE), **{"Idempotency-Key": key})
    again = post(client, local_site.add("/a", PAGE), **{"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize(
    "headers",
    [
        [("Idempotency-Key", "dupA"), ("Idempotency-Key", "dupB")],
        [("Idempotency-Key", "dupA"), ("Idempotency-Key", "dupA")],
        [("Idempotency-Key", "dupA,dupB")],  # how a server passes on the two above
        [("Idempotency-Key", '"a","b"')],
        [("Idempotency-Key", '"unclosed')],
    ],
)
def test_two_keys_or_a_list_of_keys_is_400(client, local_site, headers, stored_rows):
    response = client.post("/api/counts", json={"url": local_site.add("/a", PAGE)}, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    assert stored_rows() == 0


def test_a_replayed_key_with_prefer_wait_warns_of_nothing(queue_client, local_site, recwarn):
    url = local_site.add("/a", PAGE)
    post(queue_client, url, **{"Idempotency-Key": "k"})
    again = post(queue_client, url, **{"Idempotency-Key": "k", "Prefer": "wait=1"})
    assert again.status_code == 202
    assert [str(warning.message) for warning in recwarn] == []


# --- Nothing a page does leaves a count unfinished ---------------------------------


def test_a_page_the_counter_cannot_handle_is_a_stored_failure_not_a_500(
    app, client, local_site, monkeypatch
):  # (inline: the row is failed, never left running)
    def broken(*args, **kwargs):
        raise LookupError("a counter bug")

    monkeypatch.setattr("wordcount.tasks.count_page", broken)
    response = post(client, local_site.add("/a", PAGE))
    assert response.status_code == 422
    assert response.get_json()["error"] == {
        "code": "count_failed",
        "message": "The page could not be counted.",
    }
    assert stored(app, 1).status == Status.FAILED


def test_inline_anything_a_count_raises_is_stored_as_failed(app, client, local_site, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a fetcher bug")

    monkeypatch.setattr("wordcount.tasks.fetch_page", broken)
    response = post(client, local_site.add("/a", PAGE))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "internal_error"
    row = stored(app, 1)
    assert (row.status, row.error_code, row.finished_at is not None) == (
        Status.FAILED,
        "internal_error",
        True,
    )


def test_a_count_the_counter_cannot_handle_is_not_retried(app, local_site, monkeypatch):
    calls = []

    def broken(*args, **kwargs):
        calls.append(args)
        raise ValueError("a counter bug")

    monkeypatch.setattr("wordcount.tasks.count_page", broken)
    count_id = add_row(app, url=local_site.add("/a", PAGE))
    with app.app_context():
        run_count(count_id)  # returns: RQ sees success and does not retry
    assert stored(app, count_id).error_code == "count_failed"
    assert len(calls) == 1


@pytest.mark.parametrize(
    "head",
    [
        "Content-Type: text/html; charset=rot13",
        "Content-Type: text/html; charset=idna",
        "Content-Type: text/html; charset=undefined",
    ],
)
def test_hostile_page_metadata_still_counts(client, local_site, head):
    name, value = head.split(": ", 1)
    url = local_site.add("/a", b"<meta charset='base64'><p>Plain words</p>", headers={name: value})
    response = post(client, url)
    assert response.status_code == 201
    assert response.get_json()["total_words"] == 2


# --- The deadline holds without a worker -------------------------------------------


def test_past_the_deadline_a_count_reads_as_expired_without_any_worker(queue_app, queue_client):
    queue_app.config["WORDCOUNT_COUNT_DEADLINE"] = 60
    count_id = add_row(queue_app, created_at=utc_now() - timedelta(seconds=61))
    response = queue_client.get(f"/api/counts/{count_id}")
    body = response.get_json()
    assert (body["status"], body["error"]["code"]) == ("failed", "expired")
    assert body["finished_at"] is not None
    assert "Retry-After" not in response.headers
    listed = queue_client.get("/api/counts").get_json()["items"][0]
    assert (listed["status"], listed["error"]["code"]) == ("failed", "expired")
    page = queue_client.get(f"/counts/{count_id}").get_data(as_text=True)
    assert "did not finish in time" in page
    assert 'http-equiv="refresh"' not in page


def test_no_run_stores_an_outcome_past_the_deadline(queue_app, local_site):
    queue_app.config["WORDCOUNT_COUNT_DEADLINE"] = 60
    count_id = add_row(
        queue_app, url=local_site.add("/a", PAGE), created_at=utc_now() - timedelta(seconds=61)
    )
    with queue_app.app_context():
        run_count(count_id)
    assert stored(queue_app, count_id).status == Status.QUEUED  # left for the sweep
    assert local_site.requests == []


@pytest.mark.parametrize(("age", "refresh"), [(0, 1), (15, 1), (60, 6), (290, 29), (599, 30)])
def test_following_an_unfinished_count_backs_off_with_its_age(
    queue_app, queue_client, age, refresh
):
    count_id = add_row(queue_app, created_at=utc_now() - timedelta(seconds=age))
    assert queue_client.get(f"/api/counts/{count_id}").headers["Retry-After"] == str(refresh)
    page = queue_client.get(f"/counts/{count_id}").get_data(as_text=True)
    assert f'<meta http-equiv="refresh" content="{refresh}">' in page


# --- Waiting clients cannot take every thread --------------------------------------


def test_past_the_bound_on_waiting_requests_a_post_answers_at_once(
    queue_app, queue_client, local_site
):
    import threading
    import time

    queue_app.config["WORDCOUNT_MAX_WAIT"] = 3
    queue_app.extensions["wordcount_waiting"] = threading.BoundedSemaphore(1)
    url = local_site.add("/a", PAGE)
    first = threading.Thread(
        target=post, args=(queue_app.test_client(), url), kwargs={"Prefer": "wait=3"}
    )
    first.start()
    time.sleep(0.5)  # the first request now holds the one waiting place
    started = time.monotonic()
    response = post(queue_client, url, Prefer="wait=3")
    assert response.status_code == 202
    assert time.monotonic() - started < 1.5
    first.join(timeout=10)


def test_the_waiting_bound_is_half_the_threads():
    app = create_app(TestingConfig({"TEST_DATABASE_URL": "sqlite://", "GUNICORN_THREADS": "8"}))
    assert app.config["WORDCOUNT_WAITING_REQUESTS"] == 4
