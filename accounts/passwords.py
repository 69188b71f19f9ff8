"""Password hashing (argon2id) and the checks a new password must pass.

The checks are NIST SP 800-63B-4's (section 3.1.1.2), and no others: a
minimum length (15 by default, as it asks of a password used alone), a
maximum that allows at least 64, a list of commonly used passwords, no
repetitive passwords, no words of this context (the app's name, the
email address) - and no composition rules ("a digit and a symbol").
"""

import gzip
import unicodedata
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Longer input is refused before hashing: argon2 would take it, but a
# megabyte of password is an attack, not a password.
MAX_LENGTH = 256
# 20,000 passwords found most often in breaches (Royce Williams' list, as
# Django ships it), lower-cased; the 8,354 of 8 characters or more are kept,
# since no password shorter than 8 is ever accepted.
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt.gz")


def hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    """argon2id with these parameters. The defaults (accounts/settings.py)
    are OWASP's first choice, t=2, m=19 MiB, p=1: a log-in costs a web
    process 19 MiB for the hash's few milliseconds, which a 512 MB dyno
    with 2 processes of 4 threads can afford; argon2-cffi's own default
    (64 MiB) could not."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def normalize(password: str) -> str:
    """NFKC (SP 800-63B-4 asks for a normalization): the same password
    typed on two keyboards that encode it differently is the same."""
    return unicodedata.normalize("NFKC", password)


def matches(password_hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    try:
        return password_hasher.verify(stored_hash, normalize(password))
    except (VerificationError, InvalidHashError):
        return False


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def weakness(password: str, min_length: int, context: list[str]) -> str | None:
    """Why ``password`` may not be used, or None. ``context``: words a
    guesser would try first for this account (the app, the address)."""
    password = normalize(password)
    if len(password) < min_length:
        return f"Use at least {min_length} characters; a few words in a row are easy to remember."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    folded = password.casefold()
    unit = repeated_unit(folded)
    if len(set(folded)) < 4 or len(unit) < 4:
        return "That password repeats a few characters; choose a less predictable one."
    if folded in common_passwords() or unit in common_passwords():
        return "That password is among the most common ones; choose another."
    words = [word.casefold() for word in context if len(word) >= 3]
    if unit in words:  # the word itself, or the word repeated
        return "That password is your email address or the site's name; choose another."
    return None


def repeated_unit(text: str) -> str:
    """The shortest piece that ``text`` repeats: "abcabc" -> "abc"."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text
