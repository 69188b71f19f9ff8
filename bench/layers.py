"""The app's own cost per request, by layer: the CPU time
one request takes inside the app, with every layer and with each layer
taken away in turn, for a JSON view with one query (GET /healthz) and an
HTML page with none (GET /, the start page). Measured in this process
(the WSGI app called directly, time.process_time), so that the figures
are the app's, not gunicorn's, wrk's or the kernel's; the apps take turns
round by round, as http_load's targets do.

    python -m bench.layers DATABASE_URL [REQUESTS]
"""

import os
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stderr
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from werkzeug.test import EnvironBuilder

from bench.processes import app_environment
from models import db

Removal = Callable[[Flask], None]
PATHS = ("/healthz", "/")


# Where each middleware keeps the app it wraps: ours, WhiteNoise's, ProxyFix's.
WRAPPED = ("wsgi_app", "application", "app")


def wrapped_attribute(middleware: object) -> str:
    return next(name for name in WRAPPED if hasattr(middleware, name))


def without_middleware(kind: str) -> Removal:
    """Take the WSGI middleware whose class is named ``kind`` out of the
    app's chain (by name: a package of the app imports no plumbing)."""

    def remove(app: Flask) -> None:
        holder: object = app
        attribute = "wsgi_app"
        while type(getattr(holder, attribute)).__name__ != kind:
            holder = getattr(holder, attribute)
            attribute = wrapped_attribute(holder)
        middleware = getattr(holder, attribute)
        setattr(holder, attribute, getattr(middleware, wrapped_attribute(middleware)))

    return remove


def without_hooks(*names: str) -> Removal:
    """Take every before/after/teardown function whose name holds one of
    ``names`` out of the app."""

    def keep_others(functions: list[Any]) -> None:
        functions[:] = [
            f
            for f in functions
            if not any(name in (getattr(f, "__qualname__", None) or repr(f)) for name in names)
        ]

    def remove(app: Flask) -> None:
        registries: list[dict[Any, list[Any]]] = [
            app.before_request_funcs,
            app.after_request_funcs,
            app.teardown_request_funcs,
        ]
        for registry in registries:
            for functions in registry.values():
                keep_others(functions)
        keep_others(app.teardown_appcontext_funcs)

    return remove


class NoSession(SecureCookieSessionInterface):
    """A session interface that opens and saves nothing: the cost of
    sessions, measured by their absence."""

    def open_session(self, app: Any, request: Any) -> Any:
        return self.null_session_class()

    def save_session(self, app: Any, session: Any, response: Any) -> None:
        return None


def without_sessions(app: Flask) -> None:
    app.session_interface = NoSession()
    without_hooks("_update_remember_cookie")(app)


def layers() -> dict[str, Removal | None]:
    return {
        "the whole app": None,
        "request log and id (WSGI)": without_middleware("RequestLog"),
        "trusted hosts (WSGI)": without_middleware("TrustedHosts"),
        "static files (WhiteNoise)": without_middleware("WhiteNoise"),
        "chunked body limit (WSGI)": without_middleware("ChunkedBodyLimit"),
        "proxy fix (WSGI)": without_middleware("ProxyFix"),
        "security headers (WSGI)": without_middleware("SecurityHeaders"),
        "CSRF": without_hooks("csrf_protect"),
        "sessions and log-in": without_sessions,
    }


def build(removal: Removal | None) -> Flask:
    from web import create_app

    app = create_app()
    if removal is not None:
        removal(app)
    return app


def cpu_ms_per_request(app: Flask, path: str, requests: int) -> float | None:
    """None when the path does not answer 200 without the layer (the
    start page's form needs a session for its CSRF token)."""
    environ = EnvironBuilder(path=path, base_url="http://127.0.0.1:8000").get_environ()
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)

    started = time.process_time()
    for _ in range(requests):
        body = app(dict(environ), start_response)
        b"".join(body)
        getattr(body, "close", lambda: None)()
    if any(not status.startswith("200") for status in statuses):
        return None
    return (time.process_time() - started) * 1000 / requests


def bench_layers(database: str, requests: int, rounds: int) -> dict:
    """Each layer's CPU ms per request (the whole app's less the app's
    without it), for each path; the median of ``rounds``."""
    saved = dict(os.environ)
    os.environ.update(app_environment(database))
    try:
        apps = {name: build(removal) for name, removal in layers().items()}
    finally:
        os.environ.clear()
        os.environ.update(saved)
    with open(os.devnull, "w") as devnull, redirect_stderr(devnull):  # each request's line
        runs = measure_layers(apps, requests, rounds)
    for app in apps.values():  # their connections, before the database is dropped
        with app.app_context():
            db.engine.dispose()
    results: dict = {}
    for path in PATHS:
        whole = median(runs[path]["the whole app"])
        assert whole is not None, f"GET {path} does not answer 200"
        results[path] = {
            "whole_ms": round(whole, 3),
            "layers_ms": {
                name: None if without is None else round(whole - without, 3)
                for name, times in runs[path].items()
                if name != "the whole app"
                for without in [median(times)]
            },
        }
    return results


def measure_layers(apps: dict[str, Flask], requests: int, rounds: int) -> dict:
    """CPU ms per request of each app, for each path: one list per app and
    path, the apps taking turns round by round."""
    runs: dict[str, dict[str, list[float | None]]] = {
        path: {name: [] for name in apps} for path in PATHS
    }
    for name, app in apps.items():  # warm up: connections, caches, imports
        for path in PATHS:
            if cpu_ms_per_request(app, path, 20) is None:
                runs[path][name].append(None)  # the path needs the layer
    for _ in range(rounds):
        for name, app in apps.items():
            for path in PATHS:
                if None not in runs[path][name]:
                    runs[path][name].append(cpu_ms_per_request(app, path, requests))
    return runs


def median(times: list[float | None]) -> float | None:
    measured = [time for time in times if time is not None]
    return statistics.median(measured) if len(measured) == len(times) else None


def table(results: dict) -> list[str]:
    """RESULTS.md's layer table: the cost of each layer, per path."""
    lines = [
        "| layer | " + " | ".join(f"`GET {path}`" for path in PATHS) + " |",
        "| --- |" + " ---: |" * len(PATHS),
        "| the whole app (CPU ms per request, in-process) | "
        + " | ".join(f"{results[path]['whole_ms']:.3f}" for path in PATHS)
        + " |",
    ]
    for name in results[PATHS[0]]["layers_ms"]:
        costs = [results[path]["layers_ms"][name] for path in PATHS]
        cells = ["needed" if cost is None else f"{cost:.3f}" for cost in costs]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


if __name__ == "__main__":
    measured = bench_layers(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2000, 3)
    print("\n".join(table(measured)))
