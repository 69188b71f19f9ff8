"""A network between the app and PostgreSQL: a local TCP proxy that delays
every chunk by a fixed time each way (1 ms, about a round trip inside a
cloud region) and counts round trips, the client's turns to speak.

With it, the benchmarks show what a request's round trips cost on Heroku,
where the database is another machine, and how many each endpoint makes.
"""

import asyncio
import threading
import time
import urllib.request
from contextlib import contextmanager


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
