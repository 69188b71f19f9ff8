"""Static files (plumbing/static_files.py): hashed URLs, a year's caching, Brotli
and gzip, served by WhiteNoise with the app's security headers."""

import re
from pathlib import Path

import pytest
from flask import Blueprint, Flask, url_for

from config import TestingConfig
from plumbing import static_files
from web import create_app

HASHED_STYLESHEET = re.compile(r"/static/style\.[0-9a-f]{12}\.css")


@pytest.fixture
def static_client():
    return create_app(TestingConfig({})).test_client()


def get(client, url: str, **headers: str):
    """(status, headers, body) of a GET, its file closed (WhiteNoise streams it)."""
    with client.get(url, headers={k.replace("_", "-"): v for k, v in headers.items()}) as response:
        return response.status_code, response.headers, response.data


def stylesheet_url() -> str:
    app = create_app(TestingConfig({}))
    with app.test_request_context():
        return url_for("static", filename="style.css")


def test_url_for_gives_the_stylesheet_a_hashed_url():
    assert HASHED_STYLESHEET.fullmatch(stylesheet_url())


def test_a_hashed_file_is_cached_for_a_year(static_client):
    status, headers, _ = get(static_client, stylesheet_url())
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["Content-Type"].startswith("text/css")


def test_an_unhashed_file_is_checked_again_each_time(static_client):
    status, headers, _ = get(static_client, "/static/style.css")
    assert status == 200
    assert headers["Cache-Control"] == "max-age=0, public"
    assert "ETag" in headers or "Last-Modified" in headers


@pytest.mark.parametrize(
    "accept, encoding", [("br, gzip", "br"), ("gzip", "gzip"), ("identity", None)]
)
def test_the_encoding_the_client_accepts_is_served(static_client, accept, encoding):
    _, _, plain = get(static_client, "/static/style.css", Accept_Encoding="identity")
    _, headers, body = get(static_client, stylesheet_url(), Accept_Encoding=accept)
    assert headers.get("Content-Encoding") == encoding
    assert headers["Vary"] == "Accept-Encoding"
    if encoding is not None:
        assert len(body) < len(plain) / 2


def test_static_responses_carry_the_security_headers(static_client):
    _, headers, _ = get(static_client, stylesheet_url())
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_a_changed_file_gets_a_new_url(tmp_path: Path):
    def url_of(content: str) -> str:
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        folder.mkdir()
        (folder / "site.css").write_text(content)
        app = Flask(__name__, static_folder=str(folder), static_url_path="/static")
        static_files.init_app(app)
        with app.test_request_context():
            return url_for("static", filename="site.css")

    first, same, changed = url_of("a {}"), url_of("a {}"), url_of("b {}")
    assert first == same != changed


def test_the_files_are_prepared_once_per_content_hashed_and_compressed(tmp_path: Path):
    folder = tmp_path / "static"
    folder.mkdir()
    (folder / "site.css").write_text("a { color: red; }\n" * 100)
    folders = [("static", folder, "/static")]
    hashed = static_files.hashed_names(folders)
    build = static_files.built(folders, hashed, root=tmp_path / "builds")
    prepared = sorted(path.name for path in (build / "static").iterdir())
    new = hashed["static", "site.css"]
    assert prepared == sorted(
        f"{name}{suffix}" for name in ("site.css", new) for suffix in ("", ".br", ".gz")
    )
    assert static_files.built(folders, hashed, root=tmp_path / "builds") == build  # not again


def test_a_build_another_process_finished_first_is_used(tmp_path: Path, monkeypatch):
    folder = tmp_path / "static"
    folder.mkdir()
    (folder / "site.css").write_text("a {}")
    folders = [("static", folder, "/static")]
    hashed = static_files.hashed_names(folders)
    root = tmp_path / "builds"
    winner = static_files.built(folders, hashed, root=tmp_path / "other")
    prepare = static_files.prepare

    def racing_prepare(source: Path, target: Path, names: dict[str, str]) -> None:
        prepare(source, target, names)
        winner.rename(root / winner.name)  # another process renames its build first

    monkeypatch.setattr(static_files, "prepare", racing_prepare)
    build = static_files.built(folders, hashed, root=root)
    assert [path.name for path in root.iterdir()] == [build.name]  # no scratch left


def test_a_blueprints_static_folder_is_served_hashed(tmp_path: Path):
    folder = tmp_path / "assets"
    folder.mkdir()
    (folder / "app.js").write_text("console.log(1);")
    blueprint = Blueprint("shop", __name__, static_folder=str(folder), static_url_path="/assets")
    app = Flask(__name__, static_folder=None)
    app.register_blueprint(blueprint, url_prefix="/shop")
    static_files.init_app(app)
    with app.test_request_context():
        url = url_for("shop.static", filename="app.js")
    assert re.fullmatch(r"/shop/assets/app\.[0-9a-f]{12}\.js", url)
    status, headers, _ = get(app.test_client(), url)
    assert (status, headers["Cache-Control"]) == (200, "public, max-age=31536000, immutable")
