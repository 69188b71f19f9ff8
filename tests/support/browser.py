"""Headless Chromium (Debian's, driven by Playwright) and a real port for
an app: what a browser test needs. Chromium stays off the network."""

import os
import threading
from collections.abc import Iterator
from pathlib import Path

from werkzeug.serving import make_server

from tests.support.environment import PROJECT_DIR

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", PROJECT_DIR / "test-artifacts"))
# Keep Chromium off the network: this machine reaches nothing outside 127.0.0.1.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def serve(app) -> Iterator[str]:
    """``app`` (any WSGI app) on a real port, as a browser needs it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    print(f"\nscreenshot: {path}")
    return path
