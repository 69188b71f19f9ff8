"""Count the words a reader sees on an HTML page.

Pure functions with no Flask import, so they can be tested, benchmarked and
reused on their own. The parser is lexbor (through selectolax), chosen by
measurement: see bench/ and README "Counting words".
"""

import codecs
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache
from itertools import compress, filterfalse
from operator import itemgetter, not_
from pathlib import Path

import regex
from selectolax.lexbor import LexborHTMLParser

from wordcount.charsets import decode, encoding_for_label

STOP_WORDS_FILE = Path(__file__).with_name("stop_words.txt")
HIDDEN_ELEMENTS = "script, style, noscript, template"

# A run of letters (marks may follow: Devanagari vowel signs, decomposed
# accents), optionally joined to more letters by an apostrophe or a hyphen.
WORD = regex.compile(r"\p{L}[\p{L}\p{M}]*+(?:['-]\p{L}[\p{L}\p{M}]*+)*+")
# The longest word counted, in characters (after lower-casing). Real words
# stay well within it (German's longest dictionary compounds have 40 to 63
# letters); a longer run of letters is a token, encoded data or an attack,
# and is not counted at all, so that no page can make a stored word, an API
# response or a table cell grow without bound.
MAX_WORD_LENGTH = 64

# One bytes.translate pass over the UTF-8 text lower-cases ASCII letters and
# turns every ASCII character that cannot be part of a word into a space, so
# that str.split() yields mostly whole, lower-case words (see count_words).
# Bytes of 128 and above (non-ASCII characters) pass through unchanged.
_NOT_WORD_ASCII = bytes(c for c in range(128) if not chr(c).isalpha() and chr(c) not in "'-")
_ASCII_WORDS = bytes.maketrans(
    _NOT_WORD_ASCII + bytes(range(65, 91)),
    b" " * len(_NOT_WORD_ASCII) + bytes(range(97, 123)),
)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([\w.:+-]+)""", re.IGNORECASE)


@dataclass(frozen=True)
class PageCount:
    """The counts of one page, most frequent first (ties alphabetical):
    every word, and the words without stop words."""

    total_words: int
    all_words: list[tuple[str, int]]
    words: list[tuple[str, int]]

    @property
    def unique_words(self) -> int:
        return len(self.all_words)


def detect_encoding(body: bytes, declared_charset: str | None = None) -> tuple[str, int]:
    """The page's encoding and the length of its byte order mark: the BOM,
    then the HTTP charset, then <meta charset>; with none of them, the HTML
    standard's fallback: UTF-8 when the bytes are valid UTF-8, else windows-1252."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return encoding, len(bom)
    meta = _META_CHARSET.search(body, 0, 1024)
    meta_charset = meta.group(1).decode("ascii") if meta else None
    for label, from_meta in ((declared_charset, False), (meta_charset, True)):
        declared = encoding_for_label(label, from_meta=from_meta)
        if declared:
            return declared, 0
    return ("utf-8" if _is_utf8(body) else "cp1252"), 0


def _is_utf8(body: bytes) -> bool:
    # isascii() is a fast C scan, and most undeclared pages are ASCII.
    if body.isascii():
        return True
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_html(body: bytes, declared_charset: str | None = None) -> str:
    """Decode a page by its detected encoding, replacing invalid bytes."""
    encoding, start = detect_encoding(body, declared_charset)
    return decode(body[start:], encoding)


def visible_text(html: str | bytes) -> str:
    """The text a reader sees, with a space at every element boundary.

    Separating at inline elements too (``<b>W</b>ord`` gives two words) is a
    measured trade-off: every way of joining them that was tried made the
    count 1.5 to 3 times slower (README, "Counting words").
    """
    tree = LexborHTMLParser(html)
    # One walk for all four tags (strip_tags walks once per tag). Reversed
    # document order removes a nested element before its ancestor.
    for node in reversed(tree.css(HIDDEN_ELEMENTS)):
        node.decompose()
    return tree.text(separator=" ")


def count_words(text: str) -> Counter[str]:
    """Count the words in ``text``, lower-cased; runs of letters longer than
    MAX_WORD_LENGTH are not words.

    Words never contain white space, so the exact word pattern only has to
    run once per distinct whitespace-separated token, not over the whole
    text; most tokens are plain words and skip it entirely.
    """
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    data = text.replace("\u2019", "'").encode("utf-8", "surrogatepass")
    words = Counter(data.translate(_ASCII_WORDS).decode("utf-8", "replace").split())
    # Tokens that are not all lower-case letters (punctuation or digits
    # inside, non-ASCII capitals) are replaced by the words in them. A word
    # that is itself such a token (don't) comes back unchanged when its turn
    # comes, with any count that other tokens added to it.
    to_fix = set(filterfalse(str.isalpha, words)) | set(filterfalse(str.islower, words))
    for token in to_fix:
        count = words.pop(token)
        for word in WORD.findall(token.lower()):
            words[word] += count
    for word in [word for word in words if len(word) > MAX_WORD_LENGTH]:
        del words[word]
    return words


def count_page(
    body: bytes, charset: str | None = None, stop_words: frozenset[str] | None = None
) -> PageCount:
    """Count the words of an HTML page given as bytes."""
    if stop_words is None:
        stop_words = load_stop_words()
    encoding, start = detect_encoding(body, charset)
    # lexbor decodes UTF-8 bytes itself, faster than a decode to str here
    # (which it would encode back); other encodings are decoded first.
    html = body[start:] if encoding == "utf-8" else decode(body[start:], encoding)
    words = count_words(visible_text(html))
    # Alphabetical, then a stable sort by count, so ties stay alphabetical;
    # sorting, like the stop-word filter below, stays in C (see bench/).
    alphabetical = sorted(words)
    ranked = list(zip(alphabetical, map(words.__getitem__, alphabetical), strict=True))
    ranked.sort(key=itemgetter(1), reverse=True)
    is_stop_word = map(stop_words.__contains__, map(itemgetter(0), ranked))
    return PageCount(
        total_words=sum(words.values()),
        all_words=ranked,
        words=list(compress(ranked, map(not_, is_stop_word))),
    )


@cache
def load_stop_words(path: Path = STOP_WORDS_FILE) -> frozenset[str]:
    """Read a stop-word list: one word a line, ``#`` starts a comment line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower().replace("\u2019", "'")
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
    )
