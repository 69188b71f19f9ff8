"""Security headers on every response (static files too), CSRF on forms, HTTPS-only in production,
and the request body limit enforced however the body is sent."""

import io
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, redirect, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter
from werkzeug.sansio.utils import host_is_trusted
from werkzeug.wrappers import Request as WSGIRequest
from werkzeug.wrappers import Response as WSGIResponse

from extensions import csrf
from plumbing.sessions import SignedCookieSessions

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from werkzeug.wrappers import Response as BaseResponse

# Everything is served from this origin: no CDN, no inline script.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    """Call before registering blueprints: their <int:...> rules use the converter."""
    app.url_map.converters["int"] = ASCIIIntegerConverter
    # Flask's documented way to add WSGI middleware, which mypy reads as
    # replacing a method.
    app.wsgi_app = ChunkedBodyLimit(  # type: ignore[method-assign]
        app.wsgi_app, app.config["MAX_CONTENT_LENGTH"]
    )
    csrf.init_app(app)
    app.before_request(protect_forms)  # config.py turns Flask-WTF's own check off
    app.session_interface = SignedCookieSessions()
    if app.config["FORCE_HTTPS"]:
        app.before_request(redirect_to_https)


def protect_forms() -> None:
    """Flask-WTF's CSRF check, for the methods it checks (WTF_CSRF_METHODS),
    honouring WTF_CSRF_ENABLED and ``csrf.exempt``. Flask-WTF's own hook
    looks the view's exemptions up before the method, on every GET."""
    config = current_app.config
    if config["WTF_CSRF_ENABLED"] and request.method in config["WTF_CSRF_METHODS"]:
        csrf.protect(apply_exemptions=True)


def redirect_to_https() -> "BaseResponse | None":
    # ProxyFix has already applied Heroku's X-Forwarded-Proto, and
    # TRUSTED_HOSTS has vetted the Host header the URL is built from.
    if request.is_secure:
        return None
    # 301 lets clients replay a POST as a GET; 308 keeps the method and body.
    code = 301 if request.method in ("GET", "HEAD") else 308
    return redirect(request.url.replace("http://", "https://", 1), code=code)


SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def wrap(app: Flask) -> None:
    """The middlewares around the whole app, static files included; call
    last. Outermost first: security headers on every response, the Host
    check, then Heroku's X-Forwarded-* (so static files know the scheme)."""
    if app.config["PROXY_FIX"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    if app.config["TRUSTED_HOSTS"]:
        app.wsgi_app = TrustedHosts(  # type: ignore[method-assign]
            app.wsgi_app, app.config["TRUSTED_HOSTS"]
        )
    app.wsgi_app = SecurityHeaders(  # type: ignore[method-assign]
        app.wsgi_app, app.config["FORCE_HTTPS"]
    )


class SecurityHeaders:
    """WSGI middleware: SECURITY_HEADERS on every response that does not set
    its own, and HSTS on every HTTPS response of an app that forces HTTPS
    (never over plain HTTP: RFC 6797, 7.2). The header lines are built once,
    at start-up; a response costs one pass over its own headers."""

    def __init__(self, wsgi_app: "WSGIApplication", force_https: bool):
        self.wsgi_app = wsgi_app
        self.headers = [(name.lower(), (name, value)) for name, value in SECURITY_HEADERS.items()]
        self.hsts = ("strict-transport-security", ("Strict-Transport-Security", HSTS))
        self.force_https = force_https

    def __call__(
        self, environ: "WSGIEnvironment", start_response: "StartResponse"
    ) -> "Iterable[bytes]":
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            wanted = self.headers
            if self.force_https and environ.get("wsgi.url_scheme") == "https":
                wanted = [*wanted, self.hsts]
            headers.extend(line for name, line in wanted if name not in present)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


class ChunkedBodyLimit:
    """WSGI middleware: give a chunked request body a Content-Length.

    A chunked body has no length up front, so Werkzeug reads it only up to
    MAX_CONTENT_LENGTH and silently drops the rest: the view would see a
    truncated body. Read it here, up to one byte past the limit, and declare
    its length, so that a body over the limit gets 413 like any other. (A
    Content-Length sent beside chunked encoding means nothing: RFC 9112 6.3.)
    """

    def __init__(self, wsgi_app: "WSGIApplication", max_length: int | None):
        self.wsgi_app = wsgi_app
        self.max_length = max_length

    def __call__(
        self, environ: "WSGIEnvironment", start_response: "StartResponse"
    ) -> "Iterable[bytes]":
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and self.max_length is not None:
            body = environ["wsgi.input"].read(self.max_length + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            del environ["HTTP_TRANSFER_ENCODING"]  # the body is now plain bytes
        return self.wsgi_app(environ, start_response)


class ASCIIIntegerConverter(IntegerConverter):
    """``<int:...>`` for ASCII digits only, at most 30 of them.

    Werkzeug's matches ``\\d``, which takes every Unicode digit: ``/items/٣``
    would be item 3, and a 5,000-digit id would make ``int()`` raise.
    """

    regex = r"[0-9]{1,30}"


class TrustedHosts:
    """WSGI middleware: 400 for a Host that is not one of TRUSTED_HOSTS, or
    that names a port the server was not reached on.

    Links in pages and mail are built from the Host header, so a trusted
    name with another port (``myapp.example.com:4443``) would put that port
    into them; Flask's own check ignores ports. Answered before Flask, the
    refusal needs no URL adapter (an error page's url_for has none for an
    untrusted Host: that was a 500), and static files get it too.
    """

    # The router's public ports: browsers leave them out, but may send them.
    PUBLIC_PORTS = frozenset({"80", "443"})

    def __init__(self, wsgi_app: "WSGIApplication", hosts: list[str]):
        self.wsgi_app = wsgi_app
        self.hosts = [host.lower() for host in hosts]  # as the Host header is compared
        # Werkzeug's check IDNA-encodes every trusted name on every request
        # (a third of this middleware's cost): the exact ASCII names, once.
        self.names = frozenset(
            name
            for name in self.hosts
            if name.isascii() and not name.startswith(".") and host_is_trusted(name, name)
        )

    def __call__(
        self, environ: "WSGIEnvironment", start_response: "StartResponse"
    ) -> "Iterable[bytes]":
        # Host names are case-insensitive (RFC 9110, 4.2.3); Werkzeug compares them as sent.
        host = (environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")).lower()
        if "HTTP_HOST" in environ:
            environ["HTTP_HOST"] = host
        name, port = split_host(host)
        if (name in self.names or host_is_trusted(name, self.hosts)) and (
            not port or port in self.PUBLIC_PORTS or port == str(environ.get("SERVER_PORT", ""))
        ):
            return self.wsgi_app(environ, start_response)
        return bad_host(environ)(environ, start_response)


def split_host(host: str) -> tuple[str, str]:
    """(name, port) of a Host header; the port is "" when there is none."""
    if host.startswith("["):  # an IPv6 literal
        name, _, rest = host.partition("]")
        return name + "]", rest.removeprefix(":")
    name, _, port = host.partition(":")
    return name, port


def bad_host(environ: "WSGIEnvironment") -> WSGIResponse:
    message = (
        "This host name is not served here (the app's TRUSTED_HOSTS setting lists those it serves)."
    )
    wanted = WSGIRequest(environ).accept_mimetypes.best_match(["text/html", "application/json"])
    if wanted == "application/json":
        body = {"error": {"code": "bad_host", "message": message}}
        response = WSGIResponse(json.dumps(body), 400, mimetype="application/json")
    else:
        response = WSGIResponse(f"400 Bad Request: {message}\n", 400, mimetype="text/plain")
    return response
