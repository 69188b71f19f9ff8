"""Query-string arguments, checked: a bad one is a 400 that names it."""

import re
from typing import overload

from flask import request

from wordcount.error_codes import Refused

ASCII_NUMBER = re.compile(r"[0-9]{1,19}")


@overload
def int_arg(name: str, default: int, low: int, high: int) -> int: ...
@overload
def int_arg(name: str, default: None, low: int, high: int) -> int | None: ...
def int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    """A query parameter of ASCII digits within [low, high] (str.isdigit
    would also take '²' and '٣', which int() refuses or reads as 3)."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not ASCII_NUMBER.fullmatch(raw) or not low <= int(raw) <= high:
        raise Refused("bad_request", f"{name} must be a whole number from {low} to {high}.")
    return int(raw)
