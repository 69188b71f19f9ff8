"""Start-up: importing the app and running a manage.py command, against
importing Flask and its extensions alone (hyperfine)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.processes import PROJECT_DIR
from wordcount.bench.settings import Settings


def bench_startup(settings: Settings, database: str, folder: Path) -> dict:
    python = sys.executable
    commands = {
        "baseline": f"{python} -c 'import flask, flask_sqlalchemy, flask_migrate'",
        "import_web": f"{python} -c 'import web'",
        "db_current": f"{python} manage.py db current",
    }
    export = folder / "hyperfine.json"
    subprocess.run(
        [
            "hyperfine",
            "--warmup",
            "2",
            "--runs",
            str(settings.hyperfine_runs),
            "--style",
            "none",
            "--export-json",
            str(export),
            *[
                arg
                for name, command in commands.items()
                for arg in ("--command-name", name, command)
            ],
        ],
        cwd=PROJECT_DIR,
        env={**os.environ, "DATABASE_URL": database},
        check=True,
        capture_output=True,
    )
    medians = {run["command"]: run["median"] for run in json.loads(export.read_text())["results"]}
    return {
        "median_s": {name: round(seconds, 3) for name, seconds in medians.items()},
        "import_ratio": round(medians["import_web"] / medians["baseline"], 2),
        "db_current_ratio": round(medians["db_current"] / medians["baseline"], 2),
    }
