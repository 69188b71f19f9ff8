"""A network between the app and PostgreSQL: a local TCP proxy that delays
every chunk by a fixed time each way (1 ms, about a round trip inside a
cloud region) and counts round trips, the client's turns to speak.

With it, the benchmarks show what a request's round trips cost on Heroku,
where the database is another machine, and how many each endpoint makes.
"""

import asyncio
import json
import threading
import time
import urllib.request
from contextlib import contextmanager
from urllib.parse import urlsplit

from bench.http_load import measure
from bench.processes import LOOPBACK_APP, app_environment, free_port, server
from wordcount.bench import background
from wordcount.bench.http_load import HELLO_DB_APP, ONE_QUERY, load_rows
from wordcount.bench.settings import Settings


class DelayProxy:
    """127.0.0.1:<port> -> target, each chunk forwarded ``delay`` seconds after it arrived."""

    def __init__(self, target_port: int, delay: float):
        self.target_port, self.delay = target_port, delay
        self.round_trips = 0  # times a client spoke after the server (or first)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()
        if not self._ready.wait(10):
            raise SystemExit("Error: the delay proxy did not start")

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _connection(self, client_reader, client_writer) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        turn = {"last": "server"}
        await asyncio.gather(
            self._pipe(client_reader, server_writer, "client", turn),
            self._pipe(server_reader, client_writer, "server", turn),
            return_exceptions=True,
        )

    async def _pipe(self, reader, writer, side: str, turn: dict) -> None:
        chunks: asyncio.Queue = asyncio.Queue()

        async def deliver():
            while (item := await chunks.get()) is not None:
                due, data = item
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                writer.write(data)
                await writer.drain()
            writer.close()

        delivery = asyncio.ensure_future(deliver())
        try:
            while data := await reader.read(65536):
                if side == "client" and turn["last"] == "server":
                    self.round_trips += 1
                turn["last"] = side
                chunks.put_nowait((time.monotonic() + self.delay, data))
        finally:
            chunks.put_nowait(None)
            await delivery


@contextmanager
def delay_proxy(target_port: int, delay_ms: float):
    proxy = DelayProxy(target_port, delay_ms / 1000)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def round_trips_per_request(
    proxy: DelayProxy, url: str, method: str = "GET", body: bytes | None = None, requests: int = 50
) -> float:
    """Round trips the app makes for one request to ``url``, averaged over
    ``requests`` after a warm-up (connections already open)."""

    def send():
        request = urllib.request.Request(
            url, data=body, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    for _ in range(5):
        send()
    before = proxy.round_trips
    for _ in range(requests):
        send()
    return round((proxy.round_trips - before) / requests, 2)


# --- The benchmark ------------------------------------------------------------

NETWORK_DELAY_MS = 1.0
ROUND_TRIP_PATHS = ("/healthz", "/api/counts/1", "/api/counts", "/counts/1", "/history", "/")


def bench_network(settings: Settings, database: str) -> dict:
    """With PostgreSQL NETWORK_DELAY_MS away each way (delay proxy): p50 of
    GET /api/counts/<id> against the one-raw-query app, one connection, and
    the round trips each endpoint makes, counted by the proxy."""
    load_rows(database, 1)
    parts = urlsplit(database)
    results: dict = {"delay_ms_each_way": NETWORK_DELAY_MS}
    with delay_proxy(parts.port or 5432, NETWORK_DELAY_MS) as proxy:
        proxied = parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}").geturl()
        env = app_environment(proxied)
        one_thread = ["--workers", "1", "--threads", "1"]
        app_port, raw_port = free_port(), free_port()
        with (
            server(["gunicorn", LOOPBACK_APP, *one_thread], env, app_port),
            server(["gunicorn", *one_thread, HELLO_DB_APP], env, raw_port),
        ):
            base = f"http://127.0.0.1:{app_port}"
            results["round_trips"] = {
                f"GET {path}": round_trips_per_request(proxy, base + path)
                for path in ROUND_TRIP_PATHS
            }
            with background.slow_site() as site:
                body = json.dumps({"url": f"{site}/0/page"}).encode()
                results["round_trips"]["POST /api/counts (inline)"] = round_trips_per_request(
                    proxy, f"{base}/api/counts", "POST", body, requests=20
                )
            load_rows(database, 1)
            latency = measure(
                {
                    "GET /api/counts/<id>": (f"{base}/api/counts/1", None, None),
                    ONE_QUERY: (f"http://127.0.0.1:{raw_port}/1", None, None),
                },
                1,
                settings,
            )
    results["p50_ms"] = {name: run["p50_ms"] for name, run in latency.items()}
    results["p50_vs_one_query"] = round(
        results["p50_ms"]["GET /api/counts/<id>"] / results["p50_ms"][ONE_QUERY],
        2,
    )
    return results
