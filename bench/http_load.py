"""Load from wrk, and the CPU time the server's own processes spend on it."""

import os
import re
import subprocess
from pathlib import Path
from typing import Protocol


class Load(Protocol):
    """How long wrk runs, and how many times (a benchmark's settings)."""

    wrk_seconds: int
    wrk_runs: int


def wrk(url: str, connections: int, seconds: int, script: Path | None = None) -> dict:
    command = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {
        "requests": int(read(r"(\d+) requests in", output)),
        "requests_per_s": float(read(r"Requests/sec:\s+([\d.]+)", output)),
        "p50_ms": latency_ms(read(r"\s50%\s+([\d.]+\w+)", output)),
        "p99_ms": latency_ms(read(r"\s99%\s+([\d.]+\w+)", output)),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1).strip() if socket_errors else None,
    }


# A target: its URL, wrk's Lua script (or None), and the server serving it
# (None: CPU time is not measured).
Target = tuple[str, Path | None, subprocess.Popen | None]


def measure(targets: dict[str, Target], connections: int, settings: Load) -> dict[str, dict]:
    """Each target's median wrk run (by requests/s), after a short warm-up,
    with the server's CPU time per request.

    The targets take turns, one run each per round, so that a slow spell of
    the machine weighs on all of them alike rather than on whichever was
    being measured at the time: their ratios are what the figures are. The
    CPU time the server's own processes spent per request is steadier than
    throughput on a busy machine (wrk and the database share its cores):
    regressions are judged on it.
    """
    for url, script, _ in targets.values():
        wrk(url, connections, 1, script)
    runs: dict[str, list[dict]] = {name: [] for name in targets}
    for _ in range(settings.wrk_runs):
        for name, (url, script, master) in targets.items():
            before = cpu_seconds(master)
            run = wrk(url, connections, settings.wrk_seconds, script)
            spent = cpu_seconds(master) - before
            run["cpu_ms_per_request"] = round(spent * 1000 / max(run["requests"], 1), 3)

            runs[name].append(run)
    measured = {}
    for name, results in runs.items():
        cpu = sorted(run["cpu_ms_per_request"] for run in results)
        results.sort(key=lambda run: run["requests_per_s"])
        measured[name] = {
            **results[len(results) // 2],
            "cpu_ms_per_request": cpu[len(cpu) // 2],
            "cpu_ms_per_request_runs": cpu,
            "requests_per_s_runs": [run["requests_per_s"] for run in results],
        }
    return measured


def cpu_seconds(master: subprocess.Popen | None) -> float:
    """User and system CPU time of a gunicorn master and its workers, from
    the kernel's own counters (/proc/<pid>/stat); 0 without a server."""
    if master is None:
        return 0.0
    pids = [
        str(master.pid),
        *subprocess.run(
            ["pgrep", "-P", str(master.pid)], capture_output=True, text=True
        ).stdout.split(),
    ]
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # a worker that exited meanwhile
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def read(pattern: str, output: str) -> str:
    """The first group of ``pattern`` in a tool's ``output``; stop if absent."""
    match = re.search(pattern, output)
    if match is None:
        raise SystemExit(f"Error: no {pattern!r} in this output:\n{output}")
    return match.group(1)


def latency_ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(\w+)", value)
    if match is None:
        raise SystemExit(f"Error: {value!r} is not a latency as wrk writes one")
    number, unit = match.groups()
    return round(float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit], 3)
