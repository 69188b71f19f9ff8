"""outbound.fetch against real servers on 127.0.0.1, a well-behaved one
(local_site) and a hostile one (raw_site): URL rules, addresses, redirects,
the wall-clock deadline, the byte limit, RFC 9110's Content-Length, and
what staging, production and development each let through."""

import gzip
import json
import socket
import threading
import time
from pathlib import Path

import pytest
from flask import Flask, Response
from hypothesis import given
from hypothesis import strategies as st

import outbound
from outbound import OutboundError, check_url
from outbound import Response as Fetched
from plumbing import outbound_checks
from plumbing.addresses import is_public_address
from plumbing.outbound_checks import Limits, normalize_url
from tests.support.raw_site import RawSite, after, response, trickle

LOCAL = {"timeout": 5, "max_bytes": 100_000}
ONE_SECOND = {"timeout": 1}


def app_context(*, loopback: bool, env: str = "production"):
    """What fetch() reads of the app: whether loopback is allowed, and
    whether a refusal may name the setting (development and tests)."""
    app = Flask(__name__)
    app.config.update(OUTBOUND_ALLOW_LOOPBACK=loopback, ENV_NAME=env)
    return app.app_context()


def fetch(url: str, limits=LOCAL, *, loopback: bool = True, **options) -> Fetched:
    """outbound.fetch, where the loopback servers of these tests are allowed."""
    with app_context(loopback=loopback):
        return outbound.fetch(url, **limits, **options)


def fetch_error(url: str, limits=LOCAL, *, loopback: bool = True, **options) -> OutboundError:
    with pytest.raises(OutboundError) as error:
        fetch(url, limits, loopback=loopback, **options)
    return error.value


# --- URL and address rules, no network ---------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("example.com", "http://example.com"),
        ("example.com:8080/a?b=c", "http://example.com:8080/a?b=c"),
        ("  https://example.com/x  ", "https://example.com/x"),
        ("HTTP://Example.com", "HTTP://Example.com"),
        ("http://bücher.example/", "http://bücher.example/"),
    ],
)
def test_normalize_url_accepts_http_and_bare_hosts(raw, expected):
    assert normalize_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "file:///etc/passwd",
        "ftp://example.com/",
        "gopher://example.com/",
        "javascript:alert(1)",
        "mailto:someone@example.com",
        "http://",
        "http:///path",
        "http://user:pass@example.com/",
        "http://evil.com@example.com/",
        "http://example.com:99999/",
        "http://example.com:port/",
        "http://exa mple.com/",
        "http://example.com/\x00",
        "http://example.com/a\nb",
        "[",
        "http://[::1/",
        "http://" + "a" * 2100 + ".com/",
        "http://example.com:0/",
        "http://example.com/\ud800",
        "x.com" + "\x1e" * 2100,  # over the limit as sent, though short once stripped
    ],
)
def test_normalize_url_refuses(raw):
    with pytest.raises(OutboundError) as error:
        normalize_url(raw)
    assert error.value.code == "invalid_url"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "100.64.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b:1::1",
        "2001:db8::1",
        "fe80::1%eth0",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert is_public_address(address) is False


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_allowed(address):
    assert is_public_address(address) is True


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "127.1",
        "localhost",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "①②⑦.⓪.⓪.①",
        "１２７．０．０．１",
    ],
)
def test_every_spelling_of_loopback_is_blocked_before_any_request(local_site, host):
    url = local_site.add("/page", "<p>secret</p>")
    port_url = url.replace("127.0.0.1", host)
    error = fetch_error(port_url, loopback=False)
    assert error.code == "blocked_url"
    assert local_site.requests == []


def test_a_host_with_any_private_address_is_refused(monkeypatch):
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, 80)) for ip in ("8.8.8.8", "10.0.0.1")
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    with pytest.raises(OutboundError) as error:
        outbound_checks.resolve("mixed.example", 80, Limits(5, 1000, 5), timeout=5)
    assert error.value.code == "blocked_url"


# --- Against a real server on 127.0.0.1 --------------------------------------


def test_fetches_an_html_page_with_its_charset(local_site):
    url = local_site.add(
        "/p", "<p>café</p>".encode("latin-1"), content_type="text/html; charset=ISO-8859-1"
    )
    page = fetch(url)
    assert (page.url, page.body, page.charset) == (
        url,
        "<p>café</p>".encode("latin-1"),
        "iso-8859-1",
    )


def test_a_charset_in_rfc_2231_form_is_read(local_site):
    # charset*=... is a parameter in RFC 2231's extended form; the email
    # package returns it as a tuple, which counting could not use as a name.
    url = local_site.add(
        "/p", "<p>café</p>".encode("latin-1"), content_type="text/html; charset*=''ISO-8859-1"
    )
    assert fetch(url).charset == "iso-8859-1"


def test_xhtml_is_accepted(local_site):
    url = local_site.add("/x", "<p>x</p>", content_type="application/xhtml+xml")
    assert fetch(url).body == b"<p>x</p>"


@pytest.mark.parametrize("content_type", ["application/json", "image/png", "text/plain", ""])
def test_a_type_accept_leaves_out_is_refused_before_the_body(local_site, content_type):
    url = local_site.add("/data", "{}", content_type=content_type)
    error = fetch_error(url, accept=("text/html",))
    assert error.code == "wrong_type"
    assert error.response_headers.get("Content-Type", "") == content_type


@pytest.mark.parametrize("status", [404, 500])
def test_an_error_status_is_a_response(local_site, status):
    url = local_site.add("/gone", "<p>no</p>", status=status)
    assert (fetch(url, accept=("text/html",)).status, fetch(url).body) == (status, b"<p>no</p>")


def test_follows_up_to_five_redirects(local_site):
    for hop in range(5):
        local_site.add(f"/r{hop}", status=302, headers={"Location": f"/r{hop + 1}"})
    final = local_site.add("/r5", "<p>arrived</p>")
    page = fetch(local_site.url("/r0"))
    assert (page.url, page.body) == (final, b"<p>arrived</p>")


def test_a_sixth_redirect_is_refused(local_site):
    for hop in range(6):
        local_site.add(f"/r{hop}", status=301, headers={"Location": f"/r{hop + 1}"})
    local_site.add("/r6", "<p>too far</p>")
    error = fetch_error(local_site.url("/r0"))
    assert (error.code, error.message) == ("too_many_redirects", "More than 5 redirects.")
    assert "/r6" not in local_site.requests


def test_a_redirect_to_a_refused_host_is_blocked_before_it_is_followed(local_site, monkeypatch):
    # Pretend 127.0.0.1 is public so the first hop is allowed.
    monkeypatch.setattr(
        outbound_checks, "is_public_address", lambda address: address == "127.0.0.1"
    )
    url = local_site.add(
        "/jump", status=302, headers={"Location": f"http://127.0.0.2:{local_site.port}/secret"}
    )
    error = fetch_error(url, loopback=False)
    assert error.code == "blocked_redirect"  # the page's failure, not the client's
    assert local_site.requests == ["/jump"]


@pytest.mark.parametrize(
    "location",
    [
        "file:///etc/passwd",
        "gopher://127.0.0.1/",
        "http://a@127.0.0.1/",
        "http://[::1/",
        "http://h:99999/",
    ],
)
def test_a_redirect_to_a_url_that_cannot_be_fetched_is_the_responses_failure(raw_site, location):
    head = f"HTTP/1.1 302 Found\nLocation: {location}\nContent-Length: 0"
    url = raw_site.add(f"/to-bad-{location.encode().hex()}", response(head))
    error = fetch_error(url)
    assert error.code == "bad_redirect"
    assert error.message.startswith("The server redirected to a URL that cannot be fetched: ")


def test_connects_to_the_address_it_checked_without_a_second_lookup(local_site, monkeypatch):
    lookups = []
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if not kwargs.get("flags", 0) & socket.AI_NUMERICHOST:  # a parse asks no server
            lookups.append(host)
        return real_getaddrinfo("127.0.0.1" if host == "rebind.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    local_site.add_view(
        "/host", lambda: Response(f"<p>{_request_host()}</p>", content_type="text/html")
    )
    page = fetch(f"http://rebind.test:{local_site.port}/host")
    assert page.body == f"<p>rebind.test:{local_site.port}</p>".encode()
    # Only the first lookup asks for the name; urllib3 is handed the address.
    assert [host for host in lookups if host == "rebind.test"] == ["rebind.test"]


def _request_host() -> str:
    from flask import request

    return request.host


def test_a_slow_server_times_out_within_the_total_limit(local_site):
    def slow():
        time.sleep(3)
        return Response("<p>late</p>", content_type="text/html")

    url = local_site.add_view("/slow", slow)
    started = time.monotonic()
    error = fetch_error(url, ONE_SECOND)
    assert error.code == "fetch_timeout"
    assert time.monotonic() - started < 1.8


def test_a_trickling_body_is_cut_at_the_total_limit_not_per_read(local_site):
    def trickle():
        for _ in range(40):  # would take 8 s in all
            time.sleep(0.2)
            yield b"<p>word</p>"

    url = local_site.add_view("/trickle", lambda: Response(trickle(), content_type="text/html"))
    started = time.monotonic()
    error = fetch_error(url, ONE_SECOND)
    assert error.code == "fetch_timeout"
    assert time.monotonic() - started < 1.8


# --- A hostile server: raw bytes at its own pace ------------------------------


@pytest.fixture(scope="module")
def raw_site():
    site = RawSite()
    yield site
    site.close()


@pytest.mark.parametrize(
    "script",
    [
        trickle(b"HTTP/1.1 200 OK\r\n", every=0.3),  # the status line, never finished
        after(b"HTTP/1.1 200 OK\r\n", trickle(b"X-Slow: y\r\n", every=0.3)),
        after(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n",
            trickle(b"<p>word</p>", every=0.3),
        ),
    ],
    ids=["status-line", "headers", "body"],
)
def test_the_timeout_is_a_wall_clock_deadline_whatever_the_pace(raw_site, script):
    url = raw_site.add(f"/trickle-{id(script)}", script)
    started = time.monotonic()
    assert fetch_error(url, ONE_SECOND).code == "fetch_timeout"
    assert time.monotonic() - started < 1.8


def test_the_deadline_covers_every_redirect_hop_together(local_site):
    def hop(n: int):
        time.sleep(0.4)
        return Response(status=302, headers={"Location": f"/hop{n + 1}"})

    for n in range(5):
        local_site.add_view(f"/hop{n}", lambda n=n: hop(n))
    started = time.monotonic()
    assert fetch_error(local_site.url("/hop0"), ONE_SECOND).code == "fetch_timeout"
    assert time.monotonic() - started < 1.8
    assert len(local_site.requests) <= 3


def test_the_deadline_covers_a_dns_lookup_that_never_answers(monkeypatch):
    answered = threading.Event()
    real_getaddrinfo = socket.getaddrinfo

    def never_answers(host, *args, **kwargs):
        if kwargs.get("flags", 0) & socket.AI_NUMERICHOST:  # a parse asks no server
            return real_getaddrinfo(host, *args, **kwargs)
        return answered.wait(5)

    monkeypatch.setattr(socket, "getaddrinfo", never_answers)
    started = time.monotonic()
    assert fetch_error("http://slow-dns.test/", ONE_SECOND).code == "fetch_timeout"
    assert time.monotonic() - started < 1.8
    answered.set()


@pytest.mark.parametrize(
    "length", ["¹", "٣", "1_0", "+5", "-1", "0x10", "5, 6", "", "9" * 20], ids=repr
)
def test_a_content_length_that_rfc_9110_refuses_is_a_bad_response(raw_site, length):
    head = f"HTTP/1.1 200 OK\nContent-Type: text/html\nContent-Length: {length}"
    url = raw_site.add(f"/length-{length.encode().hex()}", response(head, b"<p>hi</p>"))
    error = fetch_error(url)
    assert (error.code, error.message) == (
        "bad_response",
        "The server sent a Content-Length that is not valid.",
    )


def test_a_list_of_equal_content_lengths_is_one_value(raw_site):
    head = "HTTP/1.1 200 OK\nContent-Type: text/html\nContent-Length: 9, 9"
    url = raw_site.add("/length-list", response(head, b"<p>hi</p>"))
    assert fetch(url).body == b"<p>hi</p>"


def test_a_declared_oversized_body_is_refused_before_reading(local_site):
    url = local_site.add("/big", b"x" * 200_000)
    error = fetch_error(url)
    assert (error.code, error.message) == (
        "too_large",
        "The response is larger than 100,000 bytes.",
    )


def test_an_endless_chunked_body_stops_at_the_byte_limit(local_site):
    def endless():
        for _ in range(10_000):  # 640 MB if it were all read
            yield b"<p>" + b"word " * 13_000 + b"</p>"

    url = local_site.add_view("/endless", lambda: Response(endless(), content_type="text/html"))
    assert fetch_error(url).code == "too_large"


def test_a_gzip_bomb_stops_at_the_byte_limit_of_decoded_content(local_site):
    bomb = gzip.compress(b" " * 50_000_000)
    url = local_site.add("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    assert len(bomb) < LOCAL["max_bytes"]
    assert fetch_error(url).code == "too_large"


def test_gzip_content_is_decoded(local_site):
    url = local_site.add(
        "/gz", gzip.compress(b"<p>zipped</p>"), headers={"Content-Encoding": "gzip"}
    )
    assert fetch(url).body == b"<p>zipped</p>"


def test_a_refused_connection_is_fetch_failed():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    error = fetch_error(f"http://127.0.0.1:{port}/")
    assert error.code == "fetch_failed"
    assert error.message.startswith("Could not connect to 127.0.0.1")


def test_an_unknown_host_is_fetch_failed(monkeypatch):
    # Simulated: a real lookup would ask a resolver outside this machine.
    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    error = fetch_error("http://no-such-host.invalid/")
    assert (error.code, error.message) == (
        "fetch_failed",
        "Could not find the host 'no-such-host.invalid'.",
    )


@given(st.text(max_size=300))
def test_normalize_url_accepts_only_http_urls_or_says_invalid_url(raw):
    try:
        url = normalize_url(raw)
    except OutboundError as error:
        assert error.code == "invalid_url"
    else:
        assert url.lower().startswith(("http://", "https://"))
        assert not any(ord(char) < 33 for char in url)


def test_a_resolver_answer_with_no_addresses_is_fetch_failed(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: [])
    error = fetch_error("http://empty.test/", loopback=False)
    assert (error.code, error.message) == ("fetch_failed", "The host 'empty.test' has no address.")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0177.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://localhost/",
        "http://api.localhost:8080/",
    ],
)
def test_plainly_private_hosts_are_refused_without_dns(url, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", numeric_only(socket.getaddrinfo))
    with pytest.raises(OutboundError) as refused, app_context(loopback=False):
        check_url(url)
    assert refused.value.code == "blocked_url"


@pytest.mark.parametrize("url", ["http://93.184.215.14/", "http://example.com/"])
def test_public_addresses_and_names_pass_the_check_without_dns(url, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", numeric_only(socket.getaddrinfo))
    with app_context(loopback=False):
        assert check_url(url) == url


def numeric_only(getaddrinfo):
    """getaddrinfo that fails the test if asked to look a name up."""

    def lookup(host, port, *args, flags=0, **kwargs):
        assert flags & socket.AI_NUMERICHOST, f"a DNS lookup of {host!r}"
        return getaddrinfo(host, port, *args, flags=flags, **kwargs)

    return lookup


# --- What a fork's job meets: the red team's URLs, by environment --------------

RED_TEAM = [
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://[fd00:ec2::254]/latest/meta-data/",  # its IPv6 address
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://0.0.0.0/",
    "http://127.0.0.1/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://localhost/",
]


@pytest.mark.parametrize("url", RED_TEAM)
@pytest.mark.parametrize("env", ["production", "staging"])
def test_in_staging_and_production_every_red_team_url_is_refused(url, env):
    with app_context(loopback=False, env=env), pytest.raises(OutboundError) as error:
        outbound.fetch(url)
    assert error.value.code == "blocked_url"
    assert "OUTBOUND_ALLOW_LOOPBACK" not in error.value.message


@pytest.mark.parametrize("address", ["169.254.169.254", "10.0.0.1", "127.0.0.1", "fd00::1"])
def test_a_public_name_that_resolves_private_is_refused(monkeypatch, address):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    answer = [(family, socket.SOCK_STREAM, 6, "", (address, 80))]
    real_getaddrinfo = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if kwargs.get("flags", 0) & socket.AI_NUMERICHOST:
            return real_getaddrinfo(host, *args, **kwargs)
        return answer

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    assert fetch_error("http://innocent.example/", loopback=False).code == "blocked_url"


@pytest.mark.parametrize("target", ["169.254.169.254", "10.0.0.1", "127.0.0.2", "[::1]"])
def test_a_redirect_to_a_private_address_is_refused(local_site, monkeypatch, target):
    # 127.0.0.1 plays a public site; its redirect points inside.
    monkeypatch.setattr(
        outbound_checks, "is_public_address", lambda address: address == "127.0.0.1"
    )
    url = local_site.add("/jump", status=302, headers={"Location": f"http://{target}/admin"})
    assert fetch_error(url, loopback=False).code == "blocked_redirect"
    assert local_site.requests == ["/jump"]


def test_a_public_page_is_fetched(local_site, monkeypatch):
    monkeypatch.setattr(
        outbound_checks, "is_public_address", lambda address: address == "127.0.0.1"
    )
    url = local_site.add("/news", "<title>News</title>")
    response = fetch(url, loopback=False)
    assert (response.status, response.content_type, response.body) == (
        200,
        "text/html",
        b"<title>News</title>",
    )


def test_in_development_a_loopback_url_is_refused_naming_the_setting(local_site):
    url = local_site.add("/page", "<p>mine</p>")
    with app_context(loopback=False, env="development"), pytest.raises(OutboundError) as error:
        outbound.fetch(url)
    assert error.value.code == "blocked_url"
    assert "Set OUTBOUND_ALLOW_LOOPBACK=true" in error.value.message
    assert local_site.requests == []


def test_the_setting_reaches_loopback_and_nothing_else(local_site):
    url = local_site.add("/page", "<p>mine</p>")
    with app_context(loopback=True, env="development"):
        assert outbound.fetch(url).body == b"<p>mine</p>"
        with pytest.raises(OutboundError) as error:
            outbound.fetch("http://169.254.169.254/")
    assert error.value.code == "blocked_url"


def test_without_an_app_nothing_but_public_addresses_is_fetched(local_site):
    with pytest.raises(OutboundError) as error:
        outbound.fetch(local_site.add("/page", "<p>x</p>"))
    assert error.value.code == "blocked_url"


# --- The red team's corpus (tests/hostile_urls.json), in production ------------

CORPUS = json.loads((Path(__file__).with_name("hostile_urls.json")).read_text())


@pytest.mark.parametrize("code", ["invalid_url", "blocked_url"])
def test_every_url_of_the_corpus_is_refused_without_a_request(local_site, monkeypatch, code):
    monkeypatch.setattr(socket, "getaddrinfo", numeric_only(socket.getaddrinfo))
    urls = [url.format(port=local_site.port, overlong="a" * 3000) for url in CORPUS[code]]
    for url in urls:
        with app_context(loopback=False), pytest.raises(OutboundError) as error:
            outbound.fetch(url)
        assert error.value.code == code, url
    assert local_site.requests == []


@pytest.mark.parametrize(
    "limits", [{"timeout": 0}, {"timeout": -1}, {"max_bytes": 0}, {"max_redirects": -1}]
)
def test_limits_that_could_never_be_met_are_a_programming_error(limits):
    with pytest.raises(ValueError, match="must be above 0"):
        outbound.fetch("http://example.com/", **limits)
