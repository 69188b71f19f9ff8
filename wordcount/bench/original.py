"""The first Wordcount's counting pipeline, written from its description.

BeautifulSoup's html.parser, get_text(), NLTK's word tokenizer, tokens that
contain an ASCII letter, collections.Counter, then the same without stop
words. ``preserve_line=True`` because NLTK's sentence model (punkt) would
have to be downloaded, which this machine cannot do.
"""

import re
from collections import Counter

import nltk
from bs4 import BeautifulSoup

HAS_LETTER = re.compile(".*[A-Za-z].*")


def count_original(html: str, stop_words: frozenset[str]) -> tuple[Counter, Counter]:
    text = BeautifulSoup(html, "html.parser").get_text()
    tokens = nltk.word_tokenize(text, preserve_line=True)
    raw_words = [word for word in tokens if HAS_LETTER.match(word)]
    no_stop_words = [word for word in raw_words if word.lower() not in stop_words]
    return Counter(raw_words), Counter(no_stop_words)
