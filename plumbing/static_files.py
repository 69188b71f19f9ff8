"""Static files: content-hashed URLs, cached for a year, compressed.

WhiteNoise serves them, ahead of Flask: a maintained WSGI library that picks
the Brotli or gzip variant a client accepts (with ``Vary``), and answers
``ETag``, ``HEAD`` and ranges. Flask-Static-Digest does the same hashing as
a ``flask digest compile`` build step, and Heroku's Python buildpack has no
standard place to run one (``bin/post_compile`` is a proprietary hook on its
way out: heroku/buildpacks-python#14). So the files are prepared when the
app is built (in the gunicorn master, once): each file of ``static/`` and
of every blueprint's static folder is copied under a name that carries a
hash of its content (``style.3f2a9c1e0b7d.css``), and WhiteNoise's own
``Compressor`` writes its ``.br`` and ``.gz`` beside it. ``url_for`` gives
the hashed URL; a hashed file never changes, so it is cached for a year
(``immutable``), and a changed file gets a new URL. A page's repeat visit
then downloads no static byte.
"""

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any
from wsgiref.headers import Headers

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

# static/style.3f2a9c1e0b7d.css: twelve hex digits of the content's SHA-256.
HASH_LENGTH = 12
ONE_YEAR = 31536000  # seconds


def init_app(app: Flask) -> None:
    """Serve every static folder through WhiteNoise, with hashed URLs.
    Call after registering the blueprints."""
    folders = static_folders(app)
    hashed = hashed_names(folders)
    build = built(folders, hashed)

    def headers_for(headers: Headers, path: str, url: str) -> None:
        if is_hashed(path, url):  # a year (RFC 2616's cap on Expires), not WhiteNoise's ten
            headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"

    whitenoise = WhiteNoise(
        app.wsgi_app,
        max_age=0,  # an unhashed URL is checked again each time (ETag)
        immutable_file_test=is_hashed,
        add_headers_function=headers_for,
    )
    for endpoint, _, url_path in folders:
        whitenoise.add_files(str(build / endpoint), prefix=url_path)
    # Flask's documented way to add WSGI middleware, which mypy reads as
    # replacing a method.
    app.wsgi_app = whitenoise  # type: ignore[method-assign]

    @app.url_defaults
    def hashed_filename(endpoint: str, values: dict[str, Any]) -> None:
        name = values.get("filename")
        if (endpoint == "static" or endpoint.endswith(".static")) and isinstance(name, str):
            values["filename"] = hashed.get((endpoint, name), name)


def static_folders(app: Flask) -> list[tuple[str, Path, str]]:
    """(endpoint, folder, URL path) of the app's static folder and each
    blueprint's, the URL path as the app routes it (prefixes included)."""
    folders = [("static", app.static_folder)] + [
        (f"{name}.static", blueprint.static_folder) for name, blueprint in app.blueprints.items()
    ]
    found = []
    for endpoint, folder in folders:
        rules = list(app.url_map.iter_rules(endpoint)) if endpoint in app.view_functions else []
        if folder and rules and Path(folder).is_dir():
            found.append((endpoint, Path(folder), rules[0].rule.removesuffix("/<path:filename>")))
    return found


def files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def hashed_names(folders: list[tuple[str, Path, str]]) -> dict[tuple[str, str], str]:
    """{(endpoint, name): hashed name} of every file of these folders."""
    return {
        (endpoint, name): hashed_name(folder, name)
        for endpoint, folder, _ in folders
        for name in files(folder)
    }


def hashed_name(folder: Path, name: str) -> str:
    """``name`` with twelve hex digits of its content's hash before its suffix."""
    digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()[:HASH_LENGTH]
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot else f"{name}.{digest}"


def built(
    folders: list[tuple[str, Path, str]],
    hashed: dict[tuple[str, str], str],
    root: Path | None = None,
) -> Path:
    """The folder of prepared files for these static folders' contents
    (``hashed`` names them), made once per content: apps built from the
    same files (the gunicorn master, the worker, every test) share it. Made
    aside, then renamed into place, so a process never sees it half-made."""
    contents = hashlib.sha256()
    for (endpoint, _), name in sorted(hashed.items()):
        contents.update(f"{endpoint}/{name}\0".encode())
    root = root or Path(tempfile.gettempdir())
    root.mkdir(parents=True, exist_ok=True)
    build = root / f"static-{contents.hexdigest()[:HASH_LENGTH]}"
    if build.is_dir():
        return build
    scratch = Path(tempfile.mkdtemp(prefix="static-", dir=root))
    for endpoint, folder, _ in folders:
        names = {name: new for (owner, name), new in hashed.items() if owner == endpoint}
        prepare(folder, scratch / endpoint, names)
    try:
        os.rename(scratch, build)
    except OSError:  # another process made it meanwhile
        shutil.rmtree(scratch, ignore_errors=True)
    return build


def prepare(folder: Path, target: Path, hashed: dict[str, str]) -> None:
    """Copy each file of ``folder`` to ``target`` as it is and under its
    hashed name, with their Brotli and gzip variants."""
    compressor = Compressor(quiet=True)
    for name, new in hashed.items():
        for copy in (target / name, target / new):
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / name, copy)
            if compressor.should_compress(copy.name):
                compressor.compress(str(copy))


def is_hashed(path: str, url: str) -> bool:
    """WhiteNoise's immutable_file_test: a name that carries its hash."""
    parts = url.rsplit("/", 1)[-1].split(".")
    return any(
        len(part) == HASH_LENGTH and all(c in "0123456789abcdef" for c in part)
        for part in parts[1:]
    )
