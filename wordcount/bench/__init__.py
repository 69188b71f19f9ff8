"""Wordcount's benchmarks: ``python -m wordcount.bench.run`` (``make bench``)."""
