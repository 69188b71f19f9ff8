"""A hostile web server on 127.0.0.1: each path answers with scripted raw
bytes, at a scripted pace, whatever HTTP says (a well-behaved server such as
Werkzeug would refuse to send most of them)."""

import socket
import threading
import time
from collections.abc import Callable, Iterable

# A script: (pause in seconds, bytes to send after it) steps, possibly endless.
Script = Callable[[], Iterable[tuple[float, bytes]]]


def response(head: str, body: bytes = b"") -> Script:
    """A whole response sent at once: ``head`` is the status line and
    headers, without the blank line that ends them."""
    text = head.replace("\n", "\r\n")
    try:  # as a hostile server may send it: one byte a character where it can
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        raw = text.encode()
    raw += b"\r\n\r\n" + body
    return lambda: [(0.0, raw)]


def trickle(data: bytes, every: float, forever: bool = True) -> Script:
    """``data`` a byte at a time, one every ``every`` seconds; again and
    again when ``forever``."""

    def steps() -> Iterable[tuple[float, bytes]]:
        while True:
            for byte in data:
                yield every, bytes([byte])
            if not forever:
                return

    return steps


def after(first: bytes, script: Script) -> Script:
    """``first`` at once, then ``script`` (which may be endless)."""

    def steps() -> Iterable[tuple[float, bytes]]:
        yield 0.0, first
        yield from script()

    return steps


class RawSite:
    """``site.add("/path", script)`` serves a script; ``site.url(path)``."""

    def __init__(self) -> None:
        self.scripts: dict[str, Script] = {}
        self.stopping = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, path: str, script: Script) -> str:
        self.scripts[path] = script
        return self.url(path)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.listener.close()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(5)
            request = b""
            while b"\r\n\r\n" not in request and len(request) < 65536:
                chunk = connection.recv(4096)
                if not chunk:
                    return
                request += chunk
            path = request.split(b" ", 2)[1].decode("latin-1") if b" " in request else "/"
            script = self.scripts.get(path, response("HTTP/1.1 404 Not Found\nContent-Length: 0"))
            try:
                for pause, data in script():
                    if self.stopping.wait(pause):
                        return
                    connection.sendall(data)
            except OSError:  # the client gave up: what a deadline is for
                return
            time.sleep(0.05)  # let the client read before the close
