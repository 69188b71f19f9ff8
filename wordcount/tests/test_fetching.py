import gzip
import socket
import threading
import time

import pytest
from flask import Response
from hypothesis import given
from hypothesis import strategies as st

from wordcount import fetching
from wordcount.addresses import is_public_address
from wordcount.fetching import (
    FetchError,
    FetchLimits,
    fetch_page,
    normalize_url,
    refuse_known_private_host,
)
from wordcount.tests.raw_site import RawSite, after, response, trickle

LOCAL = FetchLimits(timeout=5, max_bytes=100_000, allow_private_hosts=True)
PUBLIC_ONLY = FetchLimits(timeout=5, max_bytes=100_000, allow_private_hosts=False)


def fetch_error(url: str, limits: FetchLimits = LOCAL) -> FetchError:
    with pytest.raises(FetchError) as error:
        fetch_page(url, limits)
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
    with pytest.raises(FetchError) as error:
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
    error = fetch_error(port_url, PUBLIC_ONLY)
    assert error.code == "blocked_url"
    assert local_site.requests == []


def test_a_host_with_any_private_address_is_refused(monkeypatch):
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, 80)) for ip in ("8.8.8.8", "10.0.0.1")
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    with pytest.raises(FetchError) as error:
        fetching.resolve("mixed.example", 80, allow_private=False)
    assert error.value.code == "blocked_url"


# --- Against a real server on 127.0.0.1 --------------------------------------


def test_fetches_an_html_page_with_its_charset(local_site):
    url = local_site.add(
        "/p", "<p>café</p>".encode("latin-1"), content_type="text/html; charset=ISO-8859-1"
    )
    page = fetch_page(url, LOCAL)
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
    assert fetch_page(url, LOCAL).charset == "iso-8859-1"


def test_xhtml_is_accepted(local_site):
    url = local_site.add("/x", "<p>x</p>", content_type="application/xhtml+xml")
    assert fetch_page(url, LOCAL).body == b"<p>x</p>"


@pytest.mark.parametrize("content_type", ["application/json", "image/png", "text/plain", ""])
def test_non_html_is_refused_as_not_html(local_site, content_type):
    url = local_site.add("/data", "{}", content_type=content_type)
    assert fetch_error(url).code == "not_html"


@pytest.mark.parametrize("status", [404, 500])
def test_error_statuses_are_fetch_failed(local_site, status):
    url = local_site.add("/gone", "<p>no</p>", status=status)
    error = fetch_error(url)
    assert (error.code, error.message) == ("fetch_failed", f"The server answered {status}.")


def test_follows_up_to_five_redirects(local_site):
    for hop in range(5):
        local_site.add(f"/r{hop}", status=302, headers={"Location": f"/r{hop + 1}"})
    final = local_site.add("/r5", "<p>arrived</p>")
    page = fetch_page(local_site.url("/r0"), LOCAL)
    assert (page.url, page.body) == (final, b"<p>arrived</p>")


def test_a_sixth_redirect_is_refused(local_site):
    for hop in range(6):
        local_site.add(f"/r{hop}", status=301, headers={"Location": f"/r{hop + 1}"})
    local_site.add("/r6", "<p>too far</p>")
    error = fetch_error(local_site.url("/r0"))
    assert (error.code, error.message) == ("fetch_failed", "More than 5 redirects.")
    assert "/r6" not in local_site.requests


def test_a_redirect_to_a_refused_host_is_blocked_before_it_is_followed(local_site, monkeypatch):
    # Pretend 127.0.0.1 is public so the first hop is allowed.
    monkeypatch.setattr(fetching, "is_public_address", lambda address: address == "127.0.0.1")
    url = local_site.add(
        "/jump", status=302, headers={"Location": f"http://127.0.0.2:{local_site.port}/secret"}
    )
    error = fetch_error(url, PUBLIC_ONLY)
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
def test_a_redirect_to_a_url_that_cannot_be_counted_is_the_pages_failure(raw_site, location):
    head = f"HTTP/1.1 302 Found\nLocation: {location}\nContent-Length: 0"
    url = raw_site.add(f"/to-bad-{location.encode().hex()}", response(head))
    error = fetch_error(url)
    assert error.code == "bad_redirect"
    assert error.message.startswith("The page redirected to a URL that cannot be counted: ")


def test_connects_to_the_address_it_checked_without_a_second_lookup(local_site, monkeypatch):
    lookups = []
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        lookups.append(host)
        return real_getaddrinfo("127.0.0.1" if host == "rebind.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    local_site.add_view(
        "/host", lambda: Response(f"<p>{_request_host()}</p>", content_type="text/html")
    )
    page = fetch_page(f"http://rebind.test:{local_site.port}/host", LOCAL)
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
    error = fetch_error(url, FetchLimits(timeout=1, allow_private_hosts=True))
    assert error.code == "fetch_timeout"
    assert time.monotonic() - started < 1.8


def test_a_trickling_body_is_cut_at_the_total_limit_not_per_read(local_site):
    def trickle():
        for _ in range(40):  # would take 8 s in all
            time.sleep(0.2)
            yield b"<p>word</p>"

    url = local_site.add_view("/trickle", lambda: Response(trickle(), content_type="text/html"))
    started = time.monotonic()
    error = fetch_error(url, FetchLimits(timeout=1, allow_private_hosts=True))
    assert error.code == "fetch_timeout"
    assert time.monotonic() - started < 1.8


# --- A hostile server: raw bytes at its own pace ------------------------------


@pytest.fixture(scope="module")
def raw_site():
    site = RawSite()
    yield site
    site.close()


ONE_SECOND = FetchLimits(timeout=1, allow_private_hosts=True)


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
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answered.wait(5))
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
    assert fetch_page(url, LOCAL).body == b"<p>hi</p>"


def test_a_declared_oversized_body_is_refused_before_reading(local_site):
    url = local_site.add("/big", b"x" * 200_000)
    error = fetch_error(url)
    assert (error.code, error.message) == ("too_large", "The page is larger than 100,000 bytes.")


def test_an_endless_chunked_body_stops_at_the_byte_limit(local_site):
    def endless():
        for _ in range(10_000):  # 640 MB if it were all read
            yield b"<p>" + b"word " * 13_000 + b"</p>"

    url = local_site.add_view("/endless", lambda: Response(endless(), content_type="text/html"))
    assert fetch_error(url).code == "too_large"


def test_a_gzip_bomb_stops_at_the_byte_limit_of_decoded_content(local_site):
    bomb = gzip.compress(b" " * 50_000_000)
    url = local_site.add("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    assert len(bomb) < LOCAL.max_bytes
    assert fetch_error(url).code == "too_large"


def test_gzip_content_is_decoded(local_site):
    url = local_site.add(
        "/gz", gzip.compress(b"<p>zipped</p>"), headers={"Content-Encoding": "gzip"}
    )
    assert fetch_page(url, LOCAL).body == b"<p>zipped</p>"


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
    except FetchError as error:
        assert error.code == "invalid_url"
    else:
        assert url.lower().startswith(("http://", "https://"))
        assert not any(ord(char) < 33 for char in url)


def test_a_resolver_answer_with_no_addresses_is_fetch_failed(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: [])
    error = fetch_error("http://empty.test/", FetchLimits(allow_private_hosts=False))
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
    with pytest.raises(FetchError) as refused:
        refuse_known_private_host(url, FetchLimits())
    assert refused.value.code == "blocked_url"


@pytest.mark.parametrize("url", ["http://93.184.215.14/", "http://example.com/"])
def test_public_addresses_and_names_pass_the_check_without_dns(url, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", numeric_only(socket.getaddrinfo))
    refuse_known_private_host(url, FetchLimits())


def numeric_only(getaddrinfo):
    """getaddrinfo that fails the test if asked to look a name up."""

    def lookup(host, port, *args, flags=0, **kwargs):
        assert flags & socket.AI_NUMERICHOST, f"a DNS lookup of {host!r}"
        return getaddrinfo(host, port, *args, flags=flags, **kwargs)

    return lookup
