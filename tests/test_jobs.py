"""Background jobs: the queue, the worker process, its shutdown and its TLS."""

import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue, Retry, Worker
from rq.job import Job, JobStatus
from sqlalchemy.pool import QueuePool

from extensions import jobs
from models import db
from plumbing.jobs import failure_callback, redis_connection
from plumbing.worker import AppWorker, forget_inherited_connections
from tests import job_probe
from tests.support.commands import manage
from tests.support.processes import Dyno, free_port, wait_until, worker_dyno
from tests.support.servers import RedisServer


@pytest.fixture
def queue_context(queue_app):
    """queue_app, with its app context pushed for the test's own calls."""
    with queue_app.app_context():
        yield queue_app


def finished(job) -> bool:
    return job.get_status(refresh=True) in (JobStatus.FINISHED, JobStatus.FAILED)


def test_without_redis_url_jobs_are_off(app):
    with app.app_context():
        assert jobs.enabled is False


def test_without_redis_url_the_connection_says_why_there_is_none(app):
    with app.app_context(), pytest.raises(RuntimeError, match=r"^REDIS_URL is not set"):
        jobs.connection  # noqa: B018 - the property raises


@pytest.fixture
def failures():
    """What job_probe.record_failure is handed during the test."""
    job_probe.FAILURES.clear()
    yield job_probe.FAILURES
    job_probe.FAILURES.clear()


def test_without_redis_submit_runs_the_call_now(app):
    with app.app_context():
        assert jobs.submit(job_probe.sleep, 0) is True


def test_without_redis_a_failure_goes_to_on_failure_not_to_the_caller(app, failures, caplog):
    with app.app_context():
        finished = jobs.submit(job_probe.fail, "boom", on_failure=job_probe.record_failure)
    assert finished is True
    [(args, error)] = failures
    assert (args, repr(error)) == (("boom",), "RuntimeError('boom')")
    assert "Job tests.job_probe.fail failed (attempt 1): RuntimeError('boom')" in caplog.text


def test_with_redis_submit_queues_the_call_with_its_timeout_and_failure_handler(queue_context):
    queued = jobs.submit(
        job_probe.sleep, 0, job_id="probe-1", timeout=7, on_failure=job_probe.record_failure
    )
    job = jobs.fetch_many(["probe-1"])[0]
    assert queued is False
    assert job is not None
    assert (job.args, job.timeout) == ((0,), 7)
    assert job.meta == {
        "request_id": None,  # submitted outside a request
        "retries": 0,
        "on_failure": "tests.job_probe.record_failure",
    }


@pytest.mark.parametrize("given", ["value", "type only"])
def test_the_failure_handler_runs_once_no_retry_is_left(app, failures, given):
    job = Job.create(
        job_probe.fail,
        args=("boom",),
        connection=Redis(),  # never reached: the callback reads the job alone
        meta={"on_failure": "tests.job_probe.record_failure"},
    )
    value = RuntimeError("boom") if given == "value" else None
    with app.app_context():
        job.retries_left = 1
        failure_callback(job, job.connection, RuntimeError, value, None)
        assert failures == []  # RQ runs it again first
        job.retries_left = 0
        failure_callback(job, job.connection, RuntimeError, value, None)
    [(args, error)] = failures
    assert (args, type(error)) == (("boom",), RuntimeError)


@pytest.mark.postgres
@pytest.mark.parametrize("app", ["postgresql"], indirect=True)
def test_after_a_fork_the_pool_forgets_the_parents_connections(app):
    forget_inherited_connections()  # outside an app context: nothing to forget
    with app.app_context():
        pooled = db.engine.raw_connection()
        parents = pooled.driver_connection
        assert parents is not None
        pooled.close()  # back into the pool
        assert pooled_connections() == 1
        forget_inherited_connections()
        assert pooled_connections() == 0
        assert not parents.closed  # the parent's to close, not the child's
        parents.close()


def pooled_connections() -> int:
    pool = db.engine.pool  # a new one after each dispose()
    assert isinstance(pool, QueuePool)
    return pool.checkedin()


def test_the_worker_needs_redis_url_and_says_so():
    result = manage("worker", APP_SETTINGS="config.TestingConfig")
    assert result.returncode == 2
    assert "REDIS_URL is not set: the worker needs Redis." in result.stderr


def test_a_worker_gives_up_in_one_line_when_redis_never_answers():
    result = manage(
        "worker",
        "--wait-for-redis",
        "1",
        APP_SETTINGS="config.TestingConfig",
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith("Error: Redis did not answer within 1 s: ")
    assert "Traceback" not in result.stderr


def test_a_worker_started_before_redis_waits_for_it_then_runs_jobs(
    private_redis, postgres_database, tmp_path
):
    private_redis.stop()
    worker = worker_dyno(tmp_path / "worker.log", postgres_database, private_redis.url)
    try:
        wait_until(lambda: "Waiting for Redis" in worker.output, timeout=30, what="the wait")
        private_redis.start()
        with Redis.from_url(private_redis.url) as redis:
            job = Queue(connection=redis).enqueue(job_probe.sleep, 0)
            wait_until(lambda: finished(job), timeout=30, what="the job to finish")
            assert job.get_status() == JobStatus.FINISHED, worker.output
    finally:
        assert worker.stop() == 0, worker.output
    assert "Traceback" not in worker.output


def test_fetch_finds_a_job_by_id_until_redis_forgets_it(queue_context):
    job = jobs.queue().enqueue(job_probe.sleep, 0)
    fetched = jobs.fetch_many([job.id])[0]
    assert fetched is not None and fetched.id == job.id
    job.delete()
    assert jobs.fetch_many([job.id])[0] is None


def test_a_worker_runs_a_job_in_the_apps_context(queue_context, start_worker):
    job = jobs.queue().enqueue(job_probe.app_and_database)
    worker = start_worker()
    try:
        wait_until(lambda: finished(job), timeout=30, what="the job to finish")
    finally:
        assert worker.stop() == 0, worker.output
    assert job.get_status() == JobStatus.FINISHED, worker.output
    assert job.return_value() == {"app": "web", "database": 1}


def test_worker_concurrency_runs_that_many_jobs_at_once(queue_context, start_worker):
    queued = [jobs.queue().enqueue(job_probe.sleep, 2) for _ in range(3)]
    start_worker(concurrency=3)
    wait_until(
        lambda: all(finished(job) for job in queued), timeout=60, what="three jobs to finish"
    )
    for job in queued:
        job.refresh()
    starts = [job.started_at for job in queued if job.started_at]
    ends = [job.ended_at for job in queued if job.ended_at]
    assert len(starts) == len(ends) == 3
    # Every job started before any ended: they ran side by side.
    assert max(starts) < min(ends)


def test_sigterm_stops_the_worker_within_herokus_30_seconds_and_requeues_the_job(
    queue_context, start_worker
):
    job = jobs.queue().enqueue(job_probe.sleep, 120, retry=Retry(max=1))
    worker = start_worker()
    wait_until(
        lambda: job.get_status(refresh=True) == JobStatus.STARTED,
        timeout=30,
        what="the job to start",
    )
    started = time.monotonic()
    status = worker.stop(timeout=30)
    took = time.monotonic() - started
    assert status == 0, worker.output
    assert took < 20, f"the worker took {took:.1f} s to stop"
    job.refresh()
    assert (job.get_status(), job.retries_left) == (JobStatus.QUEUED, 0)


def test_sigterm_while_the_worker_starts_stops_every_process_cleanly(queue_context, start_worker):
    # Heroku may restart a dyno the moment it boots. RQ's pool installs its
    # SIGTERM handler only after forking all its workers; a signal before
    # that killed the pool and orphaned them. Many workers widen the window.
    worker = start_worker(concurrency=16)
    wait_until(
        lambda: "*** Listening on" in worker.output,
        timeout=30,
        what="the first worker to listen",
        interval=0.001,
    )
    started = time.monotonic()
    status = worker.stop(timeout=30)
    took = time.monotonic() - started
    assert status == 0, worker.output
    assert worker.output.rstrip().endswith(
        'event="All workers stopped, exiting..." logger=rq.worker_pool'
    ), worker.output
    assert "Traceback" not in worker.output
    assert took < 10, f"the worker took {took:.1f} s to stop"
    assert Worker.count(connection=jobs.connection) == 0


def test_maintenance_tasks_run_in_the_worker(queue_context, postgres_database, redis_url, tmp_path):
    worker = Dyno(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "tests.job_probe:app_with_maintenance_task()",
            "worker",
        ],
        tmp_path / "worker.log",
        APP_SETTINGS="config.TestingConfig",
        TEST_DATABASE_URL=postgres_database,
        REDIS_URL=redis_url,
    )
    try:
        wait_until(
            lambda: jobs.connection.get(job_probe.MAINTENANCE_KEY) is not None,
            timeout=30,
            what="the maintenance task to run",
        )
    finally:
        worker.stop()


def test_redis_urls_without_tls_take_no_tls_options():
    options = redis_connection("redis://127.0.0.1:6379/0", False).connection_pool.connection_kwargs
    assert "ssl_cert_reqs" not in options


@pytest.mark.parametrize("verify, expected", [(True, "required"), (False, "none")])
def test_rediss_certificate_checks_follow_redis_verify_tls(verify, expected):
    connection = redis_connection("rediss://127.0.0.1:6380/0", verify)
    assert connection.connection_pool.connection_kwargs.get("ssl_cert_reqs", "required") == expected


def test_a_self_signed_rediss_server_needs_redis_verify_tls_off(tls_redis):
    with pytest.raises(Exception, match="certificate verify failed"):
        redis_connection(tls_redis, verify_tls=True).ping()
    assert redis_connection(tls_redis, verify_tls=False).ping() is True


@pytest.fixture
def tls_redis(tmp_path):
    """A redis-server speaking only TLS, with a self-signed certificate, as
    Heroku Key-Value Store does."""
    if not (shutil.which("redis-server") and shutil.which("openssl")):
        pytest.skip("redis-server or openssl is not installed")
    key, cert = tmp_path / "redis.key", tmp_path / "redis.crt"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    server = RedisServer(tmp_path, tls=(cert, key))
    server.start()
    yield server.url
    server.stop()


def failing_task() -> None:
    raise RuntimeError("boom")


def test_a_failed_maintenance_task_is_logged_and_the_worker_goes_on(queue_context, caplog):
    jobs.add_maintenance_task(queue_context, failing_task)
    worker = AppWorker([jobs.queue()], connection=jobs.connection)
    worker.run_maintenance_tasks()
    assert "Maintenance task failing_task failed" in caplog.text
    assert worker._stop_requested is False


def test_a_stop_signal_during_maintenance_lets_the_round_end_then_stops(queue_context):
    # RQ's handler would raise StopRequested inside the task, in the middle
    # of whatever query it sends.
    worker = AppWorker([jobs.queue()], connection=jobs.connection)
    rounds: list[str] = []

    def task_interrupted_by_a_stop_signal() -> None:
        worker._shutdown()  # what RQ's SIGTERM handler calls
        rounds.append("ended")

    jobs.add_maintenance_task(queue_context, task_interrupted_by_a_stop_signal)
    worker.run_maintenance_tasks()
    assert rounds == ["ended"]
    assert worker._stop_requested is True
    worker.run_maintenance_tasks()  # stopping: no further round
    assert rounds == ["ended"]


@pytest.fixture
def stop_handlers_restored():
    """Calling a worker's stop handler installs RQ's handlers in this process."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_a_duplicate_stop_signal_is_ignored_even_after_a_slow_warm_shutdown(
    queue_context, monkeypatch, stop_handlers_restored
):
    # Heroku's SIGTERM and the pool's SIGINT both reach a worker. The first
    # one's handling waits for the scheduler process to exit; say 2 s.
    worker = AppWorker([jobs.queue()], connection=jobs.connection)

    def slow_shutdown():
        started = worker._shutdown_requested_date
        assert started is not None
        worker._shutdown_requested_date = started - timedelta(seconds=2)

    monkeypatch.setattr(worker, "_shutdown", slow_shutdown)
    worker.request_stop(signal.SIGTERM, None)
    worker.request_force_stop(signal.SIGINT, None)  # no cold shutdown (SystemExit)


def test_a_second_stop_signal_a_second_later_is_a_cold_shutdown(
    queue_context, monkeypatch, stop_handlers_restored
):
    worker = AppWorker([jobs.queue()], connection=jobs.connection)
    monkeypatch.setattr(worker, "_shutdown", lambda: None)
    worker.request_stop(signal.SIGTERM, None)
    time.sleep(1.05)
    with pytest.raises(SystemExit):
        worker.request_force_stop(signal.SIGINT, None)
