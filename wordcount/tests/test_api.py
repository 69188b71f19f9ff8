from datetime import datetime, timedelta

import pytest

from models import db
from wordcount.models import Count

PAGE = (
    "<html><head><title>Cats</title></head><body><p>The cat and the dog. "
    "The cat sat.</p><script>ignored()</script></body></html>"
)


def post_count(client, url, **query):
    return client.post("/api/counts", json={"url": url}, query_string=query)


def test_post_counts_a_page_and_stores_it(client, local_site, stored_rows):
    url = local_site.add("/cats", PAGE)
    response = post_count(client, url)
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/counts/{body['id']}"
    assert (body["url"], body["status"]) == (url, "done")
    assert (body["total_words"], body["unique_words"]) == (9, 6)
    assert body["top_words"] == [
        {"word": "cat", "count": 2},
        {"word": "cats", "count": 1},
        {"word": "dog", "count": 1},
        {"word": "sat", "count": 1},
    ]
    assert body["top_all_words"][0] == {"word": "the", "count": 3}
    assert datetime.fromisoformat(body["created_at"]).utcoffset() == timedelta(0)
    assert datetime.fromisoformat(body["finished_at"]) >= datetime.fromisoformat(body["created_at"])
    assert stored_rows() == 1


def test_get_returns_the_same_body_as_post(client, local_site):
    created = post_count(client, local_site.add("/cats", PAGE)).get_json()
    response = client.get(f"/api/counts/{created['id']}")
    assert response.status_code == 200
    assert response.get_json() == created


def test_n_changes_how_many_top_words(client, local_site):
    words = " ".join(f"w{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(150))
    url = local_site.add("/many", f"<p>{words}</p>")
    body = post_count(client, url, n=100).get_json()
    assert (len(body["top_words"]), len(body["top_all_words"])) == (100, 100)
    assert len(client.get(f"/api/counts/{body['id']}?n=3").get_json()["top_words"]) == 3


# Digits that str.isdigit() takes and int() refuses (superscript, circled) or reads
# as numbers (Arabic-Indic, full-width).
@pytest.mark.parametrize("n", ["0", "101", "ten", "-1", "²", "①", "٣", "３", "1" * 5000])
def test_n_out_of_range_is_bad_request(client, n):
    response = client.get("/api/counts", query_string={"n": n})
    assert response.status_code == 400
    assert response.get_json() == {
        "error": {"code": "bad_request", "message": "n must be a whole number from 1 to 100."}
    }


# Beyond PostgreSQL's integer column and beyond 64 bits: still just absent.
@pytest.mark.parametrize("count_id", [12345, 2**31, 2**64])
def test_unknown_id_is_not_found(client, count_id):
    response = client.get(f"/api/counts/{count_id}")
    assert response.status_code == 404
    assert response.get_json() == {
        "error": {"code": "not_found", "message": f"No count with id {count_id}."}
    }


@pytest.mark.parametrize(
    "url, status, code",
    [
        ("ftp://example.com/", 400, "invalid_url"),
        ("", 400, "invalid_url"),
    ],
)
def test_bad_urls_are_refused_and_nothing_is_stored(client, url, status, code, stored_rows):
    response = post_count(client, url)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert stored_rows() == 0


def test_blocked_hosts_are_400_and_send_no_request(app, client, local_site, stored_rows):
    app.config["OUTBOUND_ALLOW_LOOPBACK"] = False
    response = post_count(client, local_site.add("/secret", PAGE))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "blocked_url"
    assert local_site.requests == []
    assert stored_rows() == 0


@pytest.mark.parametrize(
    "setup, code",
    [
        (lambda site: site.add("/json", "{}", content_type="application/json"), "not_html"),
        (lambda site: site.add("/missing", "no", status=404), "fetch_failed"),
        (lambda site: site.add("/big", b"x" * 2000), "too_large"),
    ],
)
def test_unfetchable_pages_are_422_and_stored_as_failed(app, client, local_site, setup, code):
    app.config["WORDCOUNT_MAX_BYTES"] = 1000
    response = post_count(client, setup(local_site))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == code
    stored = client.get(response.headers["Location"]).get_json()
    assert (stored["status"], stored["error"]) == ("failed", error)
    assert "total_words" not in stored


def test_a_slow_page_is_fetch_timeout(app, client, local_site):
    import time

    from flask import Response

    def slow():
        time.sleep(2)
        return Response(PAGE, content_type="text/html")

    app.config["WORDCOUNT_FETCH_TIMEOUT"] = 0.5
    response = post_count(client, local_site.add_view("/slow", slow))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "fetch_timeout"


@pytest.mark.parametrize(
    "kwargs, status, code",
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, "bad_request"),
        ({"json": ["http://example.com"]}, 400, "bad_request"),
        ({"json": {"address": "http://example.com"}}, 400, "bad_request"),
        ({"json": {"url": 42}}, 400, "bad_request"),
        (
            {"data": "url=http://example.com", "content_type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
        (
            {"data": "x" * 100_000, "content_type": "application/json"},
            413,
            "request_entity_too_large",
        ),
        (
            {"data": "[" * 20_000 + "]" * 20_000, "content_type": "application/json"},
            400,
            "bad_request",
        ),
    ],
)
def test_malformed_requests_get_json_errors(client, kwargs, status, code, stored_rows):
    response = client.post("/api/counts", **kwargs)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert stored_rows() == 0


def test_list_pages_newest_first_by_keyset(client, local_site):
    url = local_site.add("/cats", PAGE)
    ids = [post_count(client, url).get_json()["id"] for _ in range(5)]
    first = client.get("/api/counts?limit=2").get_json()
    assert [item["id"] for item in first["items"]] == ids[:-3:-1]
    assert first["next"] == f"/api/counts?limit=2&before={ids[3]}&n=10"
    second = client.get(first["next"]).get_json()
    assert [item["id"] for item in second["items"]] == [ids[2], ids[1]]
    last = client.get(second["next"]).get_json()
    assert ([item["id"] for item in last["items"]], last["next"]) == ([ids[0]], None)


def test_list_of_nothing(client):
    assert client.get("/api/counts").get_json() == {"items": [], "next": None}


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "before=abc",
        "before=0",
        "before=2147483649",
        "limit=²",
        "before=²",
        "before=٣",
    ],
)
def test_list_rejects_bad_paging(client, query):
    response = client.get(f"/api/counts?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_list_from_the_largest_before_starts_at_the_newest(client, app):
    with app.app_context():
        db.session.add(
            Count(
                url="http://example.com/",
                status="done",
                total_words=0,
                unique_words=0,
                all_words=[],
                words=[],
            )
        )
        db.session.commit()
    items = client.get("/api/counts?before=2147483648").get_json()["items"]
    assert [item["url"] for item in items] == ["http://example.com/"]


def test_the_next_link_keeps_n(client, local_site):
    url = local_site.add("/cats", PAGE)
    for _ in range(2):
        post_count(client, url)
    first = client.get("/api/counts?limit=1&n=1").get_json()
    assert "n=1" in first["next"]
    assert len(client.get(first["next"]).get_json()["items"][0]["top_words"]) == 1


@pytest.mark.parametrize("path", ["/api/counts/٣", "/api/counts/３", "/api/counts/" + "9" * 31])
def test_an_id_that_is_not_ascii_digits_is_not_found(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_url_with_a_lone_surrogate_is_invalid_and_stores_nothing(client, stored_rows):
    response = client.post(
        "/api/counts", data='{"url": "http://example.com/\\ud800"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_url"
    assert stored_rows() == 0


def test_wrong_method_is_a_json_405(client):
    response = client.delete("/api/counts/1")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_openapi_document_is_served(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {"/api/counts", "/api/counts/{count_id}", "/api/openapi.json"}


def test_api_needs_no_csrf_token(app, local_site):
    app.config["WTF_CSRF_ENABLED"] = True
    response = post_count(app.test_client(), local_site.add("/cats", PAGE))
    assert response.status_code == 201
