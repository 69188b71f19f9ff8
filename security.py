"""Security headers on every response, and HTTPS-only in production."""

from flask import Flask, current_app, redirect, request

# Everything is served from this origin: no CDN, no inline script.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    if app.config["FORCE_HTTPS"]:
        app.before_request(redirect_to_https)
    app.after_request(add_security_headers)


def redirect_to_https():
    # ProxyFix has already applied Heroku's X-Forwarded-Proto.
    if not request.is_secure:
        return redirect(request.url.replace("http://", "https://", 1), code=301)
    return None


def add_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure and current_app.config["FORCE_HTTPS"]:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response

