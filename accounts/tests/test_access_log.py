"""Finding 8 of issue 28: no live token in any log. The link's token
travels after the #, which a browser never sends: gunicorn's access log
(and Heroku's router, which logs the same request line) never holds it,
through sign-up, verification and a reset, as a browser makes them."""

import re
from http.cookiejar import CookieJar
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, build_opener

from accounts.tests.steps import NEW_PASSWORD, path_of, token_of
from tests.support.commands import manage, ok
from tests.support.mail_server import link_in
from tests.support.processes import Dyno, free_port, wait_for_http
from tests.support.users import PASSWORD, new_email

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


def test_no_live_token_reaches_gunicorns_access_log(tmp_path, mail_server):
    database = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    ok(manage("db", "upgrade", DATABASE_URL=database))
    port = free_port()
    settings = {**mail_server.settings, "DATABASE_URL": database, "PORT": str(port)}
    dyno = Dyno(["gunicorn", "wsgi:app"], tmp_path / "web.log", **settings)
    tokens = []
    try:
        site = f"http://127.0.0.1:{port}"
        wait_for_http(site + "/healthz", process=dyno.process)
        browser, email = Browser(site), new_email()
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
    finally:
        dyno.stop()
    log = dyno.output
    assert '"POST /auth/verify HTTP/1.1" 303' in log and '"POST /auth/reset HTTP/1.1" 303' in log
    for token in tokens:
        assert token not in log and token[:20] not in log
