"""One HTTP request to a server a test started, and Heroku's URL forms."""

import http.client
import json
from urllib.parse import urlsplit


def request(
    url: str,
    method: str = "GET",
    body: dict | None = None,
    headers: dict | None = None,
    timeout: float = 30,
):
    """(status, headers, body bytes) without following redirects."""
    parts = urlsplit(url)
    assert parts.hostname is not None, url
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json"} if body is not None else {}
    all_headers.update(headers or {})
    try:
        connection.request(
            method,
            parts.path + (f"?{parts.query}" if parts.query else ""),
            body=data,
            headers=all_headers,
        )
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def heroku_url(url: str) -> str:
    """The postgres:// form of a database URL, as Heroku sets DATABASE_URL."""
    return "postgres://" + url.split("://", 1)[1]
