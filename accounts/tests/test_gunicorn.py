"""Accounts as gunicorn serves them (development settings, SQLite, no
worker), driven as a browser drives them (cookies, CSRF).

Finding 8 of issue 28: no live token in any log. The link's token travels
after the #, which a browser never sends: the request log (and
Heroku's router, which logs the same request line) never holds it.
Finding 15: without a worker, a slow mail server shows in no answer."""

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, build_opener

from accounts.tests.steps import NEW_PASSWORD, path_of, token_of
from tests.support.commands import manage, ok
from tests.support.environment import PROJECT_DIR, project_env
from tests.support.mail_server import link_in
from tests.support.processes import Dyno, free_port, wait_for_http
from tests.support.users import PASSWORD, new_email

CREATE_VERIFIED = """
from accounts.users import create_verified
from web import create_app
with create_app().app_context():
    create_verified({email!r}, {password!r})
"""
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class Browser:
    """Cookies, and forms sent as the page that holds them (CSRF on)."""

    def __init__(self, site: str):
        self.site = site
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()))

    def submit(self, path: str, **form: str) -> str:
        """GET the page, POST its form; the URL the redirects end at."""
        page = self.opener.open(self.site + path, timeout=10).read().decode()
        match = CSRF.search(page)
        assert match, page
        data = urlencode({"csrf_token": match.group(1), **form}).encode()
        return str(self.opener.open(self.site + path, data=data, timeout=10).url)


@contextmanager
def gunicorn(tmp_path: Path, **settings: str) -> Iterator[tuple[Browser, Dyno]]:
    """gunicorn on a migrated SQLite database, and a browser for it."""
    database = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    ok(manage("db", "upgrade", DATABASE_URL=database))
    port = free_port()
    settings = {**settings, "DATABASE_URL": database, "PORT": str(port)}
    dyno = Dyno(["gunicorn", "wsgi:app"], tmp_path / "web.log", **settings)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", process=dyno.process)
        yield Browser(f"http://127.0.0.1:{port}"), dyno
    finally:
        dyno.stop()


def test_no_live_token_reaches_the_request_log(tmp_path, mail_server):
    tokens = []
    with gunicorn(tmp_path, **mail_server.settings) as (browser, dyno):
        site, email = browser.site, new_email()
        browser.submit("/auth/signup", email=email, password=PASSWORD)
        link = link_in(mail_server.wait_for(email))
        tokens.append(token_of(link))
        done = browser.submit(path_of(link), token=token_of(link), password=PASSWORD)
        assert done == site + "/account?changed=verified"
        browser.submit("/auth/forgot", email=email)
        link = link_in(mail_server.wait_for(email, count=2))
        tokens.append(token_of(link))
        done = browser.submit(path_of(link), token=token_of(link), password=NEW_PASSWORD)
        assert done == site + "/account?changed=password"
    log = dyno.output
    assert "method=POST path=/auth/verify status=303" in log
    assert "method=POST path=/auth/reset status=303" in log
    for token in tokens:
        assert token not in log and token[:20] not in log


def test_without_a_worker_a_slow_mail_server_shows_in_no_answer(tmp_path):
    """A known address's reset mails (here: to a server that never says
    hello, 10 s per SMTP step), an unknown one's does not: both answer at
    once, since the mail goes out after the response."""
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never greets
    smtp = {
        "SMTP_SERVER": "127.0.0.1",
        "SMTP_PORT": str(silent.getsockname()[1]),
        "SMTP_SECURITY": "none",
        "MAIL_FROM": "Tests <no-reply@example.com>",
    }
    with gunicorn(tmp_path, **smtp) as (browser, _), closing(silent):
        known = new_email()
        database = f"sqlite:///{tmp_path / 'app.sqlite3'}"
        env = project_env(DATABASE_URL=database, **smtp)
        script = CREATE_VERIFIED.format(email=known, password=PASSWORD)
        subprocess.run([sys.executable, "-c", script], cwd=PROJECT_DIR, env=env, check=True)
        seconds = {}
        for name, email in [("known", known), ("unknown", new_email())]:
            started = time.monotonic()
            browser.submit("/auth/forgot", email=email)
            seconds[name] = time.monotonic() - started
        # Closed before gunicorn stops: the send waiting on it fails at once.
    assert seconds["known"] < 2 and seconds["unknown"] < 2, seconds
