"""The session: Flask's signed cookie, at the cost of what a request uses."""

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import URLSafeTimedSerializer


class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signer built once per set of
    keys instead of once per request (Flask builds it in every
    ``open_session``, a request with no cookie included)."""

    def __init__(self) -> None:
        self.signers: dict[tuple[object, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self.signers:
            self.signers.clear()  # the keys changed: keep one signer
            self.signers[keys] = super().get_signing_serializer(app)
        return self.signers[keys]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # No session cookie sent: a new session, with nothing to parse or
        # verify (Flask looks the cookie up by raising and catching a
        # KeyError), and no Cookie header at all: not even that to parse.
        if self.get_signing_serializer(app) is None:
            return None  # no SECRET_KEY: Flask's null session, which refuses writes
        if "HTTP_COOKIE" not in request.environ or self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        # What Flask's does, without werkzeug's way of looking for a header
        # that is absent (it raises and catches an HTTPException), twice per
        # response: a third of a cookieless request's session cost.
        if session.accessed:
            vary_on_cookie(response)
            session.accessed = False  # done: Flask's would parse Vary again
        if session or session.modified:  # else: nothing to store or delete
            super().save_session(app, session, response)


def vary_on_cookie(response: Response) -> None:
    """Add Cookie to the response's Vary header (RFC 9110 12.5.5)."""
    if any(name.lower() == "vary" for name, _ in response.headers):
        response.vary.add("Cookie")
    else:
        response.headers["Vary"] = "Cookie"
