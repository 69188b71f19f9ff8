"""Encoding labels as browsers read them: the WHATWG Encoding Standard's
table, as webencodings implements it.

A page names its encoding with a *label* (``Content-Type: text/html;
charset=...`` or ``<meta charset=...>``). Python's ``codecs.lookup`` is the
wrong judge of labels: it also accepts codecs that are not text encodings at
all (``rot13``, ``base64``, ``zlib``, ``hex``, ``uu``, ``bz2``, ``quopri``)
and some that fail on ordinary bytes (``idna``, ``undefined``). The standard
(https://encoding.spec.whatwg.org/#names-and-labels) lists every label a
browser accepts and the one encoding each means; a label not in it is
ignored, and the page is then decoded by the default, as a browser does.
"""

import webencodings

REPLACEMENT = "replacement"
USER_DEFINED = "x-user-defined"
# The standard's GBK decoder is its gb18030 decoder, a superset of Python's
# gbk (webencodings maps Shift_JIS, EUC-KR and Big5 to their supersets itself).
_SUPERSETS = {"gbk": "gb18030"}
# A <meta> was read as ASCII, so it cannot truly declare UTF-16 (or
# x-user-defined): the standard reads such a page as UTF-8 (windows-1252).
_META_OVERRIDES = {"utf-16be": "utf-8", "utf-16le": "utf-8", USER_DEFINED: "windows-1252"}


def encoding_for_label(label: str | None, *, from_meta: bool = False) -> str | None:
    """The Python codec of the encoding a browser uses for ``label``, or
    None when it is no label of the standard (the page's default applies)."""
    encoding = webencodings.lookup(label) if label else None
    if encoding is None:
        return None
    if from_meta and encoding.name in _META_OVERRIDES:
        encoding = codec_of(_META_OVERRIDES[encoding.name])
    return _SUPERSETS.get(encoding.name) or encoding.codec_info.name


def decode(body: bytes, encoding: str) -> str:
    """``body`` decoded as ``encoding`` (a codec ``encoding_for_label``
    gave), invalid bytes replaced by U+FFFD as the standard's decoders do."""
    if encoding == REPLACEMENT:  # the standard's decoder: one U+FFFD for any input
        return "\ufffd" if body else ""
    if encoding == USER_DEFINED:
        return codec_of(USER_DEFINED).codec_info.decode(body)[0]
    return body.decode(encoding, "replace")


def codec_of(name: str) -> webencodings.Encoding:
    """The standard's encoding of that name (one the table has)."""
    encoding = webencodings.lookup(name)
    assert encoding is not None, name
    return encoding
