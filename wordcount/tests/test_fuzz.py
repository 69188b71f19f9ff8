"""schemathesis against the live API: gunicorn, PostgreSQL and the committed
openapi.json, every check on, the stateful phase included, bounded in time.
`FUZZ_SECONDS=600 python -m pytest wordcount/tests/test_fuzz.py -s` runs it longer."""

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.commands import manage
from tests.support.environment import BIN_DIR, project_env
from tests.support.http_client import heroku_url
from tests.support.processes import wait_for_http
from tests.test_heroku import web_dyno
from wordcount.api import OPENAPI_FILE

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
FUZZ_SECONDS = int(os.environ.get("FUZZ_SECONDS", "45"))

# The app as gunicorn serves it, except that fetching a page never leaves the
# process: every URL the fetcher accepts gets one small page. The fuzzer
# tests the API's contract; fetching is tested against real local servers.
# Replaced where the count calls it (tasks); were it not, the network guard
# of the gunicorn process would record the look-up and fail this test.
FUZZ_APP = """
from wordcount import tasks
from plumbing.outbound_checks import normalize_url
from wordcount.fetching import Page


def fetch_page(url, limits):
    return Page(normalize_url(url), b"<p>the fuzzer counts these words</p>", "utf-8")


tasks.fetch_page = fetch_page
from wsgi import app  # noqa: E402
"""


@pytest.mark.timeout(FUZZ_SECONDS + 120)
def test_the_api_keeps_its_openapi_contract_under_fuzzing(postgres_url, tmp_path):
    assert manage("db", "upgrade", DATABASE_URL=heroku_url(postgres_url)).returncode == 0
    dyno, url = web_dyno(tmp_path, "web.1", postgres_url, extra_code=FUZZ_APP)
    try:
        wait_for_http(url + "/healthz", process=dyno.process)
        result = subprocess.run(
            [
                str(BIN_DIR / "st"),
                "--no-color",
                "--config-file",
                str(Path(__file__).with_name("schemathesis.toml")),
                "run",
                str(OPENAPI_FILE),
                "--url",
                url,
                "--checks",
                "all",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--max-time",
                str(FUZZ_SECONDS),
                "--seed",
                "20261124",
                "--request-timeout",
                "10",
            ],
            cwd=tmp_path,
            env=project_env(),
            capture_output=True,
            text=True,
            timeout=FUZZ_SECONDS + 90,
        )
    finally:
        dyno.stop()
    summary = result.stdout[-3000:]
    print(summary)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    assert re.search(r"\b\d+ generated\b", result.stdout), summary
    assert " status=500 " not in dyno.output, "a 500 in the request log"
