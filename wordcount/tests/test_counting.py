import unicodedata
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wordcount.charsets import encoding_for_label
from wordcount.counting import (
    MAX_WORD_LENGTH,
    WORD,
    count_page,
    count_words,
    decode_html,
    detect_encoding,
    load_stop_words,
    visible_text,
)


def words_of(html: str) -> Counter:
    return count_words(visible_text(html))


def test_counts_visible_words_case_insensitively():
    assert words_of("<p>The cat saw THE dog</p>") == {"the": 2, "cat": 1, "saw": 1, "dog": 1}


@pytest.mark.parametrize(
    "hidden",
    [
        "<script>var hidden = 1;</script>",
        "<style>.hidden { color: red }</style>",
        "<noscript>hidden</noscript>",
        "<template><p>hidden</p></template>",
        "<!-- hidden comment -->",
    ],
)
def test_hidden_content_is_not_counted(hidden):
    assert words_of(f"<html><body><p>shown</p>{hidden}</body></html>") == {"shown": 1}


@pytest.mark.parametrize(
    "html",
    [
        "<p>one</p><p>two</p>",
        "<div>one</div><div>two</div>",
        "one<br>two",
        "<ul><li>one</li><li>two</li></ul>",
        "<table><tr><td>one</td><td>two</td></tr></table>",
        "<h1>one</h1>two",
    ],
)
def test_block_elements_and_br_separate_words(html):
    assert words_of(html) == {"one": 1, "two": 1}


def test_entities_are_decoded():
    assert words_of("<p>caf&eacute; caf&#233; caf&#xE9; AT&amp;T</p>") == {
        "café": 3,
        "at": 1,
        "t": 1,
    }


@pytest.mark.parametrize(
    "text, expected",
    [
        ("don't", {"don't": 1}),
        ("don\u2019t", {"don't": 1}),
        ("well-known", {"well-known": 1}),
        ("naïve", {"naïve": 1}),
        ("nai\u0308ve", {"naïve": 1}),
        ("Straße ΑΒΓ", {"straße": 1, "αβγ": 1}),
        ("हिन्दी", {"हिन्दी": 1}),
        ("'quoted' -dash- trailing' x--y", {"quoted": 1, "dash": 1, "trailing": 1, "x": 1, "y": 1}),
        ("42 3.14 1st 2nd x2y", {"st": 1, "nd": 1, "x": 1, "y": 1}),
        (
            "hello, world! (yes) [no] email@example.com",
            {"hello": 1, "world": 1, "yes": 1, "no": 1, "email": 1, "example": 1, "com": 1},
        ),
        ("snake_case camelCase", {"snake": 1, "case": 1, "camelcase": 1}),
        ("", {}),
        ("  \n\t 123 !!! ", {}),
    ],
)
def test_word_rules(text, expected):
    assert count_words(text) == expected


def test_stop_words_are_the_classic_174_word_list():
    stop_words = load_stop_words()
    assert len(stop_words) == 174
    assert {"the", "and", "don't", "yourselves"} <= stop_words
    assert not {"page", "section", "problems", "microsoft"} & stop_words


def test_count_page_separates_stop_words_and_ranks_by_count_then_word():
    counts = count_page(b"<p>The cat and the dog and the bird. Cat!</p>")
    assert counts.total_words == 9
    assert counts.unique_words == 5
    assert counts.all_words == [("the", 3), ("and", 2), ("cat", 2), ("bird", 1), ("dog", 1)]
    assert counts.words == [("cat", 2), ("bird", 1), ("dog", 1)]


def test_count_page_of_an_empty_page():
    counts = count_page(b"")
    assert (counts.total_words, counts.all_words, counts.words) == (0, [], [])


def test_count_page_accepts_a_custom_stop_word_list():
    counts = count_page(b"<p>alpha beta</p>", stop_words=frozenset({"alpha"}))
    assert counts.words == [("beta", 1)]


@pytest.mark.parametrize(
    "body, declared, expected",
    [
        ("café".encode("latin-1"), "iso-8859-1", "café"),
        ("café".encode("cp1252"), None, "café"),  # not UTF-8, nothing declared: windows-1252
        ('<meta charset="windows-1252"><p>caf\xe9'.encode("cp1252"), None, "café"),
        (
            '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">Привет'.encode(
                "koi8-r"
            ),
            None,
            "Привет",
        ),
        ('<meta charset="koi8-r">café'.encode(), "utf-8", "café"),
        ("\ufeffcafé".encode("utf-16-le"), "iso-8859-1", "café"),
        ('<meta charset="utf-16"><p>café'.encode(), None, "café"),
        # UTF-16 without a BOM is honoured from HTTP, never from <meta>.
        ("<p>café".encode("utf-16-le"), "utf-16le", "café"),
        (b"caf\xff", "no-such-charset", "caf\xff"),  # no usable label: windows-1252
        ("<p>Café naïve</p>".encode("cp1252"), None, "Café naïve"),
        ("<p>Café naïve</p>".encode(), None, "Café naïve"),
    ],
)
def test_decoding_order_is_bom_header_meta_then_the_html_fallback(body, declared, expected):
    assert expected in decode_html(body, declared)


def reference_count(text: str) -> Counter:
    """The plain definition that count_words computes faster."""
    text = unicodedata.normalize("NFC", text).lower().replace("\u2019", "'")
    return Counter(word for word in WORD.findall(text) if len(word) <= MAX_WORD_LENGTH)


@given(st.text())
def test_count_words_matches_the_plain_definition(text):
    assert count_words(text) == reference_count(text)


@given(
    st.lists(
        st.sampled_from(
            [
                "Don't",
                "DON’T",
                "don't",
                "'don't'",
                "Ünïcode",
                "ÜNÏCODE",
                "ΟΔΟΣ",
                "οδός.",
                "日本語",
                "x-y",
                "-",
                "'",
                "A1b",
                "İstanbul",
                "ß",
                "ẞ",
                "well-Known",
                "a\u0308",
            ]
        ),
        max_size=30,
    ),
    st.sampled_from([" ", "\n", ". ", ",", "\u00a0", "--"]),
)
def test_count_words_matches_the_plain_definition_on_tricky_tokens(tokens, separator):
    text = separator.join(tokens)
    assert count_words(text) == reference_count(text)


@given(st.text())
def test_counting_any_text_never_raises_and_totals_add_up(text):
    counts = count_words(text)
    assert all(
        word and word == word.lower() and not any(c.isspace() for c in word) for word in counts
    )
    assert all(n > 0 for n in counts.values())


# Labels that codecs.lookup accepts but that are not text encodings, or
# whose codecs fail on ordinary bytes: none may decide how a page is read.
NOT_ENCODINGS = ["rot13", "base64", "zlib", "hex", "uu", "bz2", "quopri", "idna", "undefined"]


@given(
    st.binary(max_size=2000),
    st.sampled_from([None, "utf-8", "latin-1", "bogus", "replacement", "x-user-defined"]),
)
def test_count_page_of_any_bytes_never_raises_and_is_consistent(body, charset):
    counts = count_page(body, charset)
    assert counts.total_words == sum(n for _, n in counts.all_words)
    assert counts.unique_words == len(counts.all_words)
    assert sum(n for _, n in counts.words) <= counts.total_words
    assert counts.all_words == sorted(counts.all_words, key=lambda item: (-item[1], item[0]))


@given(st.lists(st.sampled_from(["cat", "dog", "the", "naïve", "don't"]), max_size=50))
def test_every_word_of_a_page_is_counted_exactly(words):
    html = "<p>" + " <b>x</b> ".join(words) + "</p>"
    expected = Counter(words) + Counter({"x": max(len(words) - 1, 0)})
    assert words_of(html) == expected


@pytest.mark.parametrize("label", NOT_ENCODINGS)
def test_a_label_outside_the_whatwg_table_falls_back_to_the_default(label):
    body = "<p>Café crème</p>".encode()
    header = count_page(body, label)
    meta = count_page(f'<meta charset="{label}">'.encode() + body)
    assert dict(header.all_words) == dict(meta.all_words) == {"café": 1, "crème": 1}


@pytest.mark.parametrize(
    ("label", "encoding"),
    [
        ("latin1", "cp1252"),  # every Latin-1 label is windows-1252
        (" ISO-8859-9\t", "cp1254"),  # ASCII white space and case are ignored
        ("shift_jis", "cp932"),
        ("gbk", "gb18030"),
        ("ks_c_5601-1987", "cp949"),
        ("iso-8859-8-i", "iso8859-8"),
        ("utf8", "utf-8"),
        ("iso-2022-kr", "replacement"),
        ("x-user-defined", "x-user-defined"),
        ("utf-7", None),  # not in the table
        ("", None),
    ],
)
def test_labels_follow_the_whatwg_table(label, encoding):
    assert encoding_for_label(label) == encoding


def test_the_replacement_encoding_yields_no_words():
    assert count_page(b"<p>hidden attack text</p>", "iso-2022-kr").total_words == 0


def test_x_user_defined_keeps_ascii_and_makes_high_bytes_private_use():
    assert decode_html(b"ab\x80\xff", "x-user-defined") == "ab\uf780\uf7ff"


@pytest.mark.parametrize(
    ("declared", "meta", "expected"),
    [
        (None, "utf-16le", "utf-8"),  # a <meta> read as ASCII cannot mean UTF-16
        (None, "x-user-defined", "cp1252"),
        ("utf-16le", None, "utf-16-le"),  # the HTTP header can
    ],
)
def test_meta_cannot_declare_utf16_or_x_user_defined(declared, meta, expected):
    body = f'<meta charset="{meta}">'.encode() if meta else b"<p>x</p>"
    assert detect_encoding(body, declared)[0] == expected


def test_a_word_of_the_longest_length_is_counted_and_a_longer_run_is_not():
    longest, longer = "a" * MAX_WORD_LENGTH, "b" * (MAX_WORD_LENGTH + 1)
    joined = "-".join(["c" * 40, "d" * 40])  # one word of 81 characters
    assert words_of(f"<p>{longest} {longer} {joined} ok</p>") == {longest: 1, "ok": 1}


def test_a_page_of_one_endless_word_counts_nothing_and_stores_nothing_large():
    counts = count_page(b"<p>" + b"x" * 4_990_000 + b" end</p>")
    assert counts.all_words == [("end", 1)]
