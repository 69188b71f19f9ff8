"""Where to go after logging in: ``next``, when it is a path of this site."""

import re
from urllib.parse import urlsplit

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

# A path of this site, and nothing a browser could read as another host:
# no scheme, no "//host" or "/\\host" (browsers treat "\\" as "/"), no
# control characters or spaces, which browsers strip before reading it.
SAFE_PATH = re.compile(r"/(?![/\\])[^\s\\\x00-\x1f\x7f]*")
MAX_LENGTH = 2048


def next_path(default_endpoint: str = "pages.home") -> str:
    target = request.args.get("next") or request.form.get("next") or ""
    if len(target) <= MAX_LENGTH and SAFE_PATH.fullmatch(target):
        return target
    return url_for(default_endpoint)


def ask_to_log_in() -> Response:
    """Flask-Login's unauthorized handler: the log-in page, then back. A
    form posted after the session ended goes back to the page that holds
    the form (its Referer, when it is this site's), not to the URL it
    posted to, which answers only POST."""
    flash("Log in to see that page.")
    if request.method == "GET":
        target = request.full_path.rstrip("?")
    else:
        referrer = urlsplit(request.referrer or "")
        same_site = referrer.netloc == request.host and SAFE_PATH.fullmatch(referrer.path or "")
        target = referrer.path if same_site else url_for("pages.home")
    return redirect(url_for("auth.log_in", next=target))
