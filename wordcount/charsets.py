"""Encoding labels as browsers read them: the WHATWG Encoding Standard's table.

A page names its encoding with a *label* (``Content-Type: text/html;
charset=...`` or ``<meta charset=...>``). Python's ``codecs.lookup`` is the
wrong judge of labels: it also accepts codecs that are not text encodings at
all (``rot13``, ``base64``, ``zlib``, ``hex``, ``uu``, ``bz2``, ``quopri``)
and some that fail on ordinary bytes (``idna``, ``undefined``). The standard
(https://encoding.spec.whatwg.org/#names-and-labels) lists every label a
browser accepts and the one encoding each means; a label not in it is
ignored, and the page is then decoded by the default, as a browser does.
"""

# Each encoding of the standard, as the Python codec that decodes it, with
# the standard's labels for it (matched ASCII case-insensitively, after
# stripping ASCII white space). Where the standard's decoder is a superset of
# the codec of the same name, the superset's codec is used: Shift_JIS is
# decoded as windows-31j (cp932), EUC-KR as cp949, GBK as gb18030, Big5 as
# big5-hkscs.
REPLACEMENT = "replacement"
USER_DEFINED = "x-user-defined"
_LABELS: dict[str, str] = {
    "utf-8": "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8",
    "cp866": "866 cp866 csibm866 ibm866",
    "iso8859-2": "csisolatin2 iso-8859-2 iso-ir-101 iso8859-2 iso88592 iso_8859-2 "
    "iso_8859-2:1987 l2 latin2",
    "iso8859-3": "csisolatin3 iso-8859-3 iso-ir-109 iso8859-3 iso88593 iso_8859-3 "
    "iso_8859-3:1988 l3 latin3",
    "iso8859-4": "csisolatin4 iso-8859-4 iso-ir-110 iso8859-4 iso88594 iso_8859-4 "
    "iso_8859-4:1988 l4 latin4",
    "iso8859-5": "csisolatincyrillic cyrillic iso-8859-5 iso-ir-144 iso8859-5 iso88595 "
    "iso_8859-5 iso_8859-5:1988",
    "iso8859-6": "arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114 "
    "iso-8859-6 iso-8859-6-e iso-8859-6-i iso-ir-127 iso8859-6 iso88596 iso_8859-6 "
    "iso_8859-6:1987",
    "iso8859-7": "csisolatingreek ecma-118 elot_928 greek greek8 iso-8859-7 iso-ir-126 "
    "iso8859-7 iso88597 iso_8859-7 iso_8859-7:1987 sun_eu_greek",
    "iso8859-8": "csiso88598e csisolatinhebrew hebrew iso-8859-8 iso-8859-8-e iso-ir-138 "
    "iso8859-8 iso88598 iso_8859-8 iso_8859-8:1988 visual "
    # ISO-8859-8-I decodes exactly like ISO-8859-8.
    "csiso88598i iso-8859-8-i logical",
    "iso8859-10": "csisolatin6 iso-8859-10 iso-ir-157 iso8859-10 iso885910 l6 latin6",
    "iso8859-13": "iso-8859-13 iso8859-13 iso885913",
    "iso8859-14": "iso-8859-14 iso8859-14 iso885914",
    "iso8859-15": "csisolatin9 iso-8859-15 iso8859-15 iso885915 iso_8859-15 l9",
    "iso8859-16": "iso-8859-16",
    "koi8-r": "cskoi8r koi koi8 koi8-r koi8_r",
    "koi8-u": "koi8-ru koi8-u",
    "mac-roman": "csmacintosh mac macintosh x-mac-roman",
    "cp874": "dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874",
    "cp1250": "cp1250 windows-1250 x-cp1250",
    "cp1251": "cp1251 windows-1251 x-cp1251",
    # The standard reads every Latin-1 and ASCII label as windows-1252.
    "cp1252": "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 "
    "iso8859-1 iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii windows-1252 "
    "x-cp1252",
    "cp1253": "cp1253 windows-1253 x-cp1253",
    # ... and every Latin-5 label as windows-1254.
    "cp1254": "cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9 "
    "iso_8859-9:1989 l5 latin5 windows-1254 x-cp1254",
    "cp1255": "cp1255 windows-1255 x-cp1255",
    "cp1256": "cp1256 windows-1256 x-cp1256",
    "cp1257": "cp1257 windows-1257 x-cp1257",
    "cp1258": "cp1258 windows-1258 x-cp1258",
    "mac-cyrillic": "x-mac-cyrillic x-mac-ukrainian",
    "gb18030": "chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 "
    "x-gbk gb18030",
    "big5hkscs": "big5 big5-hkscs cn-big5 csbig5 x-x-big5",
    "euc-jp": "cseucpkdfmtjapanese euc-jp x-euc-jp",
    "iso2022-jp": "csiso2022jp iso-2022-jp",
    "cp932": "csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis",
    "cp949": "cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989 "
    "ksc5601 ksc_5601 windows-949",
    "utf-16-be": "unicodefffe utf-16be",
    "utf-16-le": "csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16 utf-16le",
    # Encodings that browsers refuse to decode (they were used for attacks):
    # the standard's "replacement" decoder turns the whole page into one
    # U+FFFD, so such a page has no words.
    REPLACEMENT: "csiso2022kr hz-gb-2312 iso-2022-cn iso-2022-cn-ext iso-2022-kr replacement",
    # Bytes 0x80 to 0xFF as U+F780 to U+F7FF: private-use characters, so
    # not letters, and never part of a word.
    USER_DEFINED: "x-user-defined",
}
ENCODING_OF_LABEL = {
    label: encoding for encoding, labels in _LABELS.items() for label in labels.split()
}
# "ASCII whitespace" in the standard: tab, line feed, form feed, carriage return, space.
_ASCII_WHITESPACE = "\t\n\f\r "
# A <meta> was read as ASCII, so it cannot truly declare UTF-16 (or
# x-user-defined): the standard reads such a page as UTF-8 (windows-1252).
_META_OVERRIDES = {"utf-16-be": "utf-8", "utf-16-le": "utf-8", USER_DEFINED: "cp1252"}
_USER_DEFINED_HIGH = {byte: 0xF700 + byte for byte in range(0x80, 0x100)}


def encoding_for_label(label: str | None, *, from_meta: bool = False) -> str | None:
    """The encoding a browser uses for ``label``, or None when it is no
    label of the standard (then the page's default applies)."""
    if not label:
        return None
    encoding = ENCODING_OF_LABEL.get(label.strip(_ASCII_WHITESPACE).lower())
    if encoding is not None and from_meta:
        encoding = _META_OVERRIDES.get(encoding, encoding)
    return encoding


def decode(body: bytes, encoding: str) -> str:
    """``body`` decoded as ``encoding`` (one of this table's), invalid bytes
    replaced by U+FFFD as the standard's decoders do."""
    if encoding == REPLACEMENT:
        return "\ufffd" if body else ""
    if encoding == USER_DEFINED:
        return body.decode("latin-1").translate(_USER_DEFINED_HIGH)
    return body.decode(encoding, "replace")
