"""Log lines parsed back, as a log add-on reads them: logfmt (whose quoting
is the shell's, which shlex reads) or JSON."""

import json
import shlex
from pathlib import Path
from typing import Any


def parse(line: str) -> dict[str, Any]:
    if line.startswith("{"):
        parsed: dict[str, Any] = json.loads(line)
        return parsed
    return dict(part.split("=", 1) for part in shlex.split(line))


def lines(text: str) -> list[dict[str, Any]]:
    """Every log line of ``text``; other output (a test's prints) left out."""
    return [parse(line) for line in text.splitlines() if line.startswith(("at=", "{"))]


def events(text: str, event: str) -> list[dict[str, Any]]:
    return [line for line in lines(text) if line.get("event") == event]


def file_events(path: Path, event: str) -> list[dict[str, Any]]:
    return events(path.read_text() if path.exists() else "", event)
