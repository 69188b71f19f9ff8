"""The whole journey in headless Chromium, at phone and desktop widths, on
SQLite and PostgreSQL: sign up -> mail -> verify -> log in -> forgotten
password -> mail -> new password -> log in with it. CSRF is on, as in
production; the mail goes through the real SMTP server."""

import pytest

from accounts.tests.steps import NEW_PASSWORD
from tests.support.browser import screenshot, serve
from tests.support.mail_server import link_in
from tests.support.users import PASSWORD, new_email

pytestmark = pytest.mark.browser

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


@pytest.fixture
def live_server(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield from serve(app)


class Journey:
    """One person in one browser window, taking screenshots as they go."""

    def __init__(self, page, name: str):
        self.page = page
        self.name = name
        self.problems: list[str] = []
        page.on("console", lambda message: self.problems.append(message.text))
        page.on("pageerror", lambda error: self.problems.append(str(error)))

    def see(self, step: str) -> None:
        """The page fits the window's width (no sideways scrolling), and a
        screenshot of it is kept."""
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= self.page.viewport_size["width"], f"{step}: {width}px wide"
        screenshot(self.page, f"accounts-{self.name}-{step}.png")

    def submit(self, fields: dict[str, str], button: str) -> None:
        for name, value in fields.items():
            self.page.fill(f"main input[name={name}]", value)
        self.click(f"main button:has-text('{button}')")

    def click(self, selector: str) -> None:
        """Click what leads to another page, and wait until that page has
        loaded: reading the page while it is being replaced finds no
        document (a flaky failure on a loaded machine)."""
        with self.page.expect_navigation(wait_until="load"):
            self.page.click(selector)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_sign_up_verify_log_in_reset_and_log_in_again(
    app, live_server, browser, mail_server, viewport, request
):
    database = request.node.callspec.params["app"]
    page = browser.new_context(viewport=VIEWPORTS[viewport]).new_page()
    me = Journey(page, f"{database}-{viewport}")
    email = new_email()

    page.goto(live_server + "/auth/signup")
    me.see("1-sign-up")
    me.submit({"email": email, "password": PASSWORD}, "Sign up")
    assert f"We have sent a link to {email}" in page.inner_text("main")
    me.see("2-check-your-mail")

    page.goto(link_in(mail_server.wait_for(email)))
    me.see("3-confirm")
    assert not page.is_visible("main input[name=token]")  # filled from after the #
    assert "#" not in page.url  # and gone from the address bar
    me.submit({"password": PASSWORD}, "Confirm")
    page.wait_for_url("**/account?changed=verified")
    assert "Your email address is confirmed" in page.inner_text("main")
    assert email in page.inner_text("header")
    me.click("header button:has-text('Log out')")
    assert "Log in" in page.inner_text("header")

    page.goto(live_server + "/auth/login")
    me.click("text=Forgot your password?")
    me.see("4-forgot")
    me.submit({"email": email}, "Send the link")
    page.goto(link_in(mail_server.wait_for(email, count=2)))
    me.see("5-new-password")
    me.submit({"password": NEW_PASSWORD}, "Set the password")
    page.wait_for_url("**/account?changed=password")
    me.see("6-account")
    me.click("header button:has-text('Log out')")

    page.goto(live_server + "/account")  # a protected page: log in, then back
    me.submit({"email": email, "password": NEW_PASSWORD}, "Log in")
    page.wait_for_url(live_server + "/account")
    assert email in page.inner_text("main .email")
    assert me.problems == []  # no script error, no CSP violation
