"""Where to go after logging in: ``next``, when it is a path of this site."""

import re

from flask import request, url_for

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
