"""A well-behaved web site on 127.0.0.1 whose pages a test sets up (the
outbound tests and every package's: a page to fetch, a webhook to call).
raw_site.py is its hostile counterpart."""

import threading
from collections.abc import Callable

from flask import Flask, Response
from werkzeug.serving import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    """No line per request: a fetched URL's query string is the tests' own
    secret, and the app's logs are what the tests read."""

    def log_request(self, *args: object) -> None:
        pass


class LocalSite:
    """A threaded HTTP server on 127.0.0.1 whose routes tests set up.

    ``site.add("/page", body)`` serves a page; ``site.requests`` lists the
    paths that were asked for, so a test can prove none was.
    """

    def __init__(self):
        self.routes: dict[str, Callable[[], Response]] = {}
        self.requests: list[str] = []
        self.app = Flask("local_site")
        self.app.add_url_rule("/", "any", self.dispatch, defaults={"path": ""})
        self.app.add_url_rule("/<path:path>", "any", self.dispatch)
        self.server = make_server(
            "127.0.0.1", 0, self.app, threaded=True, request_handler=QuietHandler
        )
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(
        self,
        path: str,
        body: bytes | str = b"",
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        headers: dict | None = None,
    ):
        self.routes[path] = lambda: Response(body, status, headers, content_type=content_type)
        return self.url(path)

    def add_view(self, path: str, view: Callable[[], Response]) -> str:
        self.routes[path] = view
        return self.url(path)

    def dispatch(self, path: str):
        self.requests.append("/" + path)
        view = self.routes.get("/" + path)
        return view() if view else Response("not found", 404)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
