"""Wordcount on Heroku-like dynos: a count written through one web dyno is
read through another, after a release phase, on one PostgreSQL database."""

import json

import pytest

from tests.support.commands import manage
from tests.support.http_client import heroku_url, request
from tests.support.processes import wait_for_http
from tests.test_heroku import web_dyno

pytestmark = pytest.mark.postgres


def test_two_web_dynos_and_a_release_share_one_database(postgres_url, tmp_path, local_site):
    release = manage(
        "db",
        "upgrade",
        DATABASE_URL=heroku_url(postgres_url),
        DYNO="release.1",
        APP_SETTINGS="config.StagingConfig",
        SECRET_KEY="s" * 32,
        TRUSTED_HOSTS="127.0.0.1",
    )
    assert release.returncode == 0, release.stderr
    page = local_site.add("/cats", "<p>cat cat dog</p>")
    # The page is on loopback, which staging refuses to fetch.
    loopback = "from tests.support.loopback_app import create\n\napp = create()\n"
    first, first_url = web_dyno(tmp_path, "web.1", postgres_url, loopback)
    second, second_url = web_dyno(tmp_path, "web.2", postgres_url, loopback)
    try:
        wait_for_http(first_url + "/healthz", process=first.process)
        wait_for_http(second_url + "/healthz", process=second.process)
        status, headers, body = request(first_url + "/api/counts", "POST", {"url": page})
        assert status == 201
        read_status, _, read_body = request(second_url + headers["Location"])
    finally:
        assert (first.stop(), second.stop()) == (0, 0)
    assert read_status == 200
    assert json.loads(read_body) == json.loads(body)
