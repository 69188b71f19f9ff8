"""What the example counts of what outbound.fetch returns: HTML pages with
a successful status, and the codes of its API for the rest (tests/
test_outbound.py holds everything about fetching safely)."""

import pytest

from wordcount.fetching import FetchError, FetchLimits, fetch_page

LOCAL = FetchLimits(timeout=5, max_bytes=100_000)


@pytest.fixture
def fetching(app):
    """Fetches in the app's context, whose settings allow loopback (tests)."""
    with app.app_context():
        yield


def fetch_error(url: str) -> FetchError:
    with pytest.raises(FetchError) as error:
        fetch_page(url, LOCAL)
    return error.value


def test_an_html_page_is_fetched_with_its_charset(fetching, local_site):
    body = "<p>café</p>".encode("latin-1")
    url = local_site.add("/p", body, content_type="text/html; charset*=''ISO-8859-1")
    page = fetch_page(url, LOCAL)
    assert (page.url, page.body, page.charset) == (url, body, "iso-8859-1")


def test_xhtml_is_a_page(fetching, local_site):
    url = local_site.add("/x", "<p>x</p>", content_type="application/xhtml+xml")
    assert fetch_page(url, LOCAL).body == b"<p>x</p>"


@pytest.mark.parametrize("content_type", ["application/json", "image/png", ""])
def test_anything_else_is_not_html_and_says_its_type(fetching, local_site, content_type):
    url = local_site.add("/data", "{}", content_type=content_type)
    error = fetch_error(url)
    received = content_type or "none"
    assert (error.code, error.status) == ("not_html", 422)
    assert error.message == f"The URL is not an HTML page (Content-Type: {received})."


@pytest.mark.parametrize("status", [404, 500])
def test_an_error_status_is_fetch_failed(fetching, local_site, status):
    url = local_site.add("/gone", "<p>no</p>", status=status)
    error = fetch_error(url)
    assert (error.code, error.message) == ("fetch_failed", f"The server answered {status}.")


def test_too_many_redirects_are_fetch_failed(fetching, local_site):
    for hop in range(6):
        local_site.add(f"/r{hop}", status=301, headers={"Location": f"/r{hop + 1}"})
    error = fetch_error(local_site.url("/r0"))
    assert (error.code, error.message) == ("fetch_failed", "More than 5 redirects.")
