"""The project's own commands and files, as a newcomer has them."""

import shutil
import subprocess
import sys
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.support.environment import PROJECT_DIR, project_env


def manage(
    *args: str,
    cwd: Path = PROJECT_DIR,
    timeout: float = 60,
    input: str | None = None,
    **env: str | None,
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=cwd,
        env=project_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
    )


def run_app(code: str, **env: str) -> subprocess.CompletedProcess:
    """Python ``code`` in a new interpreter, in the project, with the testing
    settings and only ``env`` besides (no variable of this shell's)."""
    env = {"APP_SETTINGS": "config.TestingConfig", "PATH": "/usr/bin:/bin", **env}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=PROJECT_DIR
    )


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """``result``, once it has succeeded; its output otherwise."""
    assert result.returncode == 0, f"{result.args} failed:\n{result.stdout}{result.stderr}"
    return result


def project_files(*patterns: str) -> list[str]:
    """The project's files as a newcomer has them after cloning: what git
    tracks, and new files it does not ignore (those matching ``patterns``)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", *patterns],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return list(filter(None, listed.split("\0")))


def copy_project(destination: Path) -> Path:
    """A copy of the project's files as a newcomer has them after cloning."""
    for name in project_files():
        source = PROJECT_DIR / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def head_revision(project: Path = PROJECT_DIR) -> str | None:
    """The newest revision in ``project``'s migrations folder (None: no revisions)."""
    config = Config()
    config.set_main_option("script_location", str(project / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()
