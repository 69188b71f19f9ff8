"""What docs/jobs.md promises a job, held in both modes: inline (no
REDIS_URL) and through a worker process (jobs_app runs each test in both)."""

from pathlib import Path

from rq import Retry

from extensions import jobs
from tests import job_probe
from tests.support.processes import wait_until


def submit(app, func, *args, **options) -> None:
    with app.app_context():
        jobs.submit(func, *args, on_failure=job_probe.note_failure, **options)


def test_a_job_past_its_timeout_is_stopped_and_handed_to_on_failure(jobs_app, tmp_path):
    path = str(tmp_path / "spin")
    submit(jobs_app, job_probe.spin_then_mark, path, 30, timeout=1)
    wait_until(lambda: job_probe.failures_of(path), timeout=20, what="on_failure")
    assert job_probe.failures_of(path) == ["JobTimeoutException"]
    assert not Path(path).exists()


def test_a_job_that_fails_then_succeeds_is_retried_and_not_failed(jobs_app, tmp_path):
    path = str(tmp_path / "flaky")
    submit(jobs_app, job_probe.fail_until, path, 1, retry=Retry(max=2))
    wait_until(lambda: Path(path + ".ok").exists(), timeout=20, what="the second run")
    assert (job_probe.runs_of(path), job_probe.failures_of(path)) == (2, [])
    assert Path(path + ".ok").read_text() == jobs_app.name  # in an app context


def test_a_job_that_always_fails_runs_every_retry_then_on_failure_once(jobs_app, tmp_path):
    path = str(tmp_path / "broken")
    submit(jobs_app, job_probe.fail_until, path, 99, retry=Retry(max=2))
    wait_until(lambda: job_probe.failures_of(path), timeout=20, what="on_failure")
    assert (job_probe.runs_of(path), job_probe.failures_of(path)) == (3, ["RuntimeError"])


def test_inline_an_after_response_job_runs_once_the_response_is_sent(app, tmp_path):
    """The response is made before the call runs, and the test client,
    closing it as a server does, runs it before returning."""
    path = str(tmp_path / "after")
    seen = []

    @app.post("/after")
    def after():
        finished = jobs.submit(job_probe.touch, path, after_response=True)
        seen.append((finished, Path(path).exists()))
        return "sent"

    assert app.test_client().post("/after").text == "sent"
    assert seen == [(False, False)]
    assert Path(path).exists()
