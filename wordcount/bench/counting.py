"""Counting: ours against the original pipeline and against the parsers
alone, on a corpus of real pages, in one process."""

import cProfile
import io
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.processes import PROJECT_DIR
from wordcount.bench.settings import Settings
from wordcount.counting import count_page, load_stop_words

DEFAULT_CORPUS = Path("/usr/share/doc/python3/html")


def load_corpus(folder: Path, settings: Settings) -> list[tuple[str, bytes]]:
    """A fixed selection: files in sorted order until both minimums are met."""
    pages, size = [], 0
    for path in sorted(folder.rglob("*.html")):
        body = path.read_bytes()
        pages.append((str(path.relative_to(folder)), body))
        size += len(body)
        if len(pages) >= settings.min_pages and size >= settings.min_bytes:
            return pages
    if len(pages) < settings.min_pages:
        raise SystemExit(
            f"Error: {folder} has {len(pages)} .html files; {settings.min_pages} are needed"
        )
    return pages


def bench_counting(pages: list[tuple[str, bytes]], settings: Settings) -> dict:
    """Ours, the original and bare parsers, alternating in this process."""
    from selectolax.lexbor import LexborHTMLParser

    from wordcount.bench.original import count_original

    bodies = [body for _, body in pages]
    texts = [body.decode("utf-8", "replace") for body in bodies]
    original_texts = texts[: settings.original_pages] if settings.original_pages else texts
    stop_words = load_stop_words()

    def ours():
        for body in bodies:
            count_page(body, stop_words=stop_words)

    # The same pages with their <meta charset> removed, as UTF-8 and as
    # windows-1252: the HTML standard's fallback (valid UTF-8, else 1252).
    meta = re.compile(rb"<meta[^>]*charset[^>]*>", re.IGNORECASE)
    undeclared_utf8 = [meta.sub(b"", body) for body in bodies]
    undeclared_1252 = [
        text.encode("cp1252", "replace")
        for text in (body.decode("utf-8", "replace") for body in undeclared_utf8)
    ]

    def ours_undeclared_utf8():
        for body in undeclared_utf8:
            count_page(body, stop_words=stop_words)

    def ours_undeclared_1252():
        for body in undeclared_1252:
            count_page(body, stop_words=stop_words)

    def original():
        for text in original_texts:
            count_original(text, stop_words)

    # The floor: each parser called the fastest way, on the (UTF-8) bytes.
    def parse_lexbor():
        for body in bodies:
            LexborHTMLParser(body).text(separator=" ")

    def parse_lxml():
        import lxml.html

        parser = lxml.html.HTMLParser(encoding="utf-8")
        for body in bodies:
            lxml.html.document_fromstring(body, parser=parser).text_content()

    times: dict[str, list[float]] = {
        "ours": [],
        "original": [],
        "lexbor": [],
        "lxml": [],
        "undeclared_utf8": [],
        "undeclared_1252": [],
    }
    for round_number in range(settings.rounds):
        times["ours"].append(timed(ours))
        times["undeclared_utf8"].append(timed(ours_undeclared_utf8))
        times["undeclared_1252"].append(timed(ours_undeclared_1252))
        times["lexbor"].append(timed(parse_lexbor))
        times["lxml"].append(timed(parse_lxml))
        if round_number < settings.original_rounds:
            times["original"].append(timed(original))

    megabytes = sum(map(len, bodies)) / 1e6
    original_megabytes = sum(len(t.encode()) for t in original_texts) / 1e6
    ours_s = statistics.median(times["ours"])
    original_s = statistics.median(times["original"])
    floor_s = min(statistics.median(times["lexbor"]), statistics.median(times["lxml"]))
    ours_rate, original_rate = megabytes / ours_s, original_megabytes / original_s
    return {
        "speedup_vs_original": round(ours_rate / original_rate, 1),
        "vs_parse_only": round(ours_s / floor_s, 2),
        "mb_per_s": round(ours_rate, 1),
        "original_mb_per_s": round(original_rate, 2),
        "parse_only_mb_per_s": {
            "lexbor": round(megabytes / statistics.median(times["lexbor"]), 1),
            "lxml": round(megabytes / statistics.median(times["lxml"]), 1),
        },
        "charset_fallback_ratio": {
            "undeclared_utf8": round(statistics.median(times["undeclared_utf8"]) / ours_s, 2),
            "undeclared_windows_1252": round(
                statistics.median(times["undeclared_1252"]) / ours_s, 2
            ),
        },
        "seconds": {name: [round(t, 3) for t in values] for name, values in times.items()},
        "peak_rss_mb": counting_peak_rss(pages),
    }


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def counting_peak_rss(pages: list[tuple[str, bytes]]) -> float:
    """Peak resident memory of a fresh process that counts every page."""
    with tempfile.TemporaryDirectory() as folder:
        for index, (_, body) in enumerate(pages):
            Path(folder, f"{index:05}.html").write_bytes(body)
        script = (
            "import resource, sys, pathlib; from wordcount.counting import count_page\n"
            "for page in sorted(pathlib.Path(sys.argv[1]).iterdir()):\n"
            "    count_page(page.read_bytes())\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
        )
        output = subprocess.run(
            [sys.executable, "-c", script, folder],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return round(int(output) / 1024, 1)


def counting_profile(pages: list[tuple[str, bytes]]) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _, body in pages:
        count_page(body)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(8)
    return "\n".join(
        line for line in out.getvalue().splitlines() if re.match(r"\s+\d", line) or "ncalls" in line
    )
