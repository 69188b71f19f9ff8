# The part of WhiteNoise 6.12 that plumbing/static_files.py uses (it ships no types).
from collections.abc import Callable

class Compressor:
    def __init__(
        self,
        extensions: list[str] | None = None,
        use_gzip: bool = True,
        use_brotli: bool = True,
        log: Callable[[str], None] = ...,
        quiet: bool = False,
    ) -> None: ...
    def should_compress(self, filename: str) -> bool: ...
    def compress(self, path: str) -> list[str]: ...
