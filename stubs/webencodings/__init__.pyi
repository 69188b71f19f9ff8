# The part of webencodings 0.6 that wordcount/charsets.py uses (it ships no types).
import codecs

class Encoding:
    name: str
    codec_info: codecs.CodecInfo

def lookup(label: str) -> Encoding | None: ...
