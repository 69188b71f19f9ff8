"""Hostile URLs, pages and request bodies against the production server:
each gets its documented error in time, memory stays bounded, nothing is stored."""

import gzip
import json
import socket
import time
from urllib.parse import urlsplit

import pytest
from flask import Response

from plumbing.outbound_checks import OutboundError, normalize_url
from tests.support.commands import manage
from tests.support.environment import PROJECT_DIR
from tests.support.http_client import heroku_url
from wordcount.tests.reliability.conftest import start_app
from wordcount.tests.reliability.test_faults import stored_rows

CORPUS = json.loads((PROJECT_DIR / "tests" / "hostile_urls.json").read_text())
FETCH_TIMEOUT = 5
MAX_WORKER_RSS_MB = 300


@pytest.fixture
def guarded_app(postgres_url, tmp_path):
    """Production as deployed: private hosts refused."""
    assert manage("db", "upgrade", DATABASE_URL=heroku_url(postgres_url)).returncode == 0
    server = start_app(postgres_url, tmp_path, loopback_internet=False)
    yield server
    assert server.dyno.stop() == 0


def timed_post(server, body=None, **kwargs):
    started = time.monotonic()
    status, _, data = server.call("POST", "/api/counts", body, timeout=30, **kwargs)
    return status, json.loads(data), time.monotonic() - started


@pytest.mark.parametrize("code", ["invalid_url", "blocked_url"])
def test_hostile_urls_are_refused_before_any_request(
    guarded_app, postgres_url, local_site, code, figures
):
    urls = [u.format(port=local_site.port, overlong="a" * 3000) for u in CORPUS[code]]
    for url in urls:
        assert_resolves_nothing_outside_this_machine(url, code)
    for url in urls:
        status, body, seconds = timed_post(guarded_app, {"url": url})
        assert (status, body["error"]["code"]) == (400, code), url
        assert seconds < 2, url
    assert local_site.requests == []
    assert stored_rows(postgres_url) == {}
    figures.setdefault("hostile", {})[code] = len(urls)


def assert_resolves_nothing_outside_this_machine(url: str, code: str) -> None:
    """Checked in-process first: a case that reached DNS would ask a resolver
    outside this machine."""
    if code == "invalid_url":
        with pytest.raises(OutboundError):
            normalize_url(url)
        return
    host = (urlsplit(normalize_url(url)).hostname or "").encode("idna").decode()
    if host != "localhost":  # /etc/hosts
        socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)  # raises unless a literal


def hostile_pages(local_site) -> dict[str, tuple]:
    """path -> (expected status, expected code or total_words)."""

    def endless():
        for _ in range(2_000):  # 128 MB at most, if nothing stopped reading
            yield b"<p>" + b"word " * 13_000 + b"</p>"

    def trickle():
        for _ in range(100):  # 20 s at most
            time.sleep(0.2)
            yield b"<p>slow</p>"

    local_site.add("/invalid-utf8", b"<p>caf\xe9 ok \xff\xfe word</p>")
    local_site.add(
        "/wrong-charset", "<p>café</p>".encode("latin-1"), content_type="text/html; charset=utf-8"
    )
    local_site.add("/huge", b"<p>" + b"x " * 25_000_000 + b"</p>")
    local_site.add(
        "/gzip-bomb", gzip.compress(b" " * 200_000_000), headers={"Content-Encoding": "gzip"}
    )
    local_site.add_view("/endless", lambda: Response(endless(), content_type="text/html"))
    local_site.add_view("/trickle", lambda: Response(trickle(), content_type="text/html"))
    local_site.add("/deep", "<div>" * 10_000 + "deep" + "</div>" * 10_000)
    local_site.add("/no-words", "<p>123 456 !!! ... 7.8</p><script>var words;</script>")
    local_site.add("/one-long-word", "<p>" + "a" * 100_000 + "</p>")
    local_site.add("/image", b"\x89PNG\r\n", content_type="image/png")
    return {
        "/invalid-utf8": (201, 3),
        "/wrong-charset": (201, 1),
        "/huge": (422, "too_large"),
        "/gzip-bomb": (422, "too_large"),
        "/endless": (422, "too_large"),
        "/trickle": (422, "fetch_timeout"),
        "/deep": (201, 1),
        "/no-words": (201, 0),
        "/one-long-word": (201, 0),  # longer than MAX_WORD_LENGTH: no word
        "/image": (422, "not_html"),
    }


def test_hostile_pages_get_their_documented_outcome(
    production_app, postgres_url, local_site, figures
):
    outcomes = {}
    for path, (status, expected) in hostile_pages(local_site).items():
        got, body, seconds = timed_post(production_app, {"url": local_site.url(path)})
        assert got == status, (path, body)
        if status == 201:
            assert body["total_words"] == expected, path
        else:
            assert body["error"]["code"] == expected, path
        assert seconds < FETCH_TIMEOUT + 2, (path, seconds)
        outcomes[path] = [got, expected, round(seconds, 2)]
    rss = production_app.worker_rss_mb()
    assert rss < MAX_WORKER_RSS_MB
    # Every page was accepted, and a page that could not be counted is stored as failed.
    assert len(stored_rows(postgres_url)) == len(outcomes)
    figures.setdefault("hostile", {})["pages"] = outcomes
    figures["hostile"]["peak_worker_rss_mb_after_pages"] = rss


@pytest.mark.parametrize(
    "kwargs, status, code",
    [
        (
            {"headers": {"Content-Type": "text/plain"}, "raw": b'{"url": "http://x/"}'},
            415,
            "unsupported_media_type",
        ),
        ({"raw": b'{"url": '}, 400, "bad_request"),
        ({"raw": b"\xff\xfe{}"}, 400, "bad_request"),
        ({"raw": b'{"url": "' + b"a" * 1_000_000 + b'"}'}, 413, "request_entity_too_large"),
        ({"raw": b"{}"}, 400, "bad_request"),
        ({"raw": b'[{"url": "http://x/"}]'}, 400, "bad_request"),
        ({"raw": b'{"url": null}'}, 400, "bad_request"),
        ({"raw": b"[" * 100_000 + b"]" * 100_000}, 413, "request_entity_too_large"),
        ({"raw": b"[" * 20_000 + b"]" * 20_000}, 400, "bad_request"),
    ],
)
def test_hostile_request_bodies(production_app, postgres_url, kwargs, status, code):
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(production_app.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {
        "Content-Type": "application/json",
        "X-Forwarded-Proto": "https",
        **kwargs.get("headers", {}),
    }
    connection.request("POST", "/api/counts", body=kwargs["raw"], headers=headers)
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    assert (response.status, body["error"]["code"]) == (status, code)
    assert stored_rows(postgres_url) == {}
