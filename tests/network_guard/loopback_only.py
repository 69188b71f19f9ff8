"""The test suite's network guard: nothing a test runs may look up a name or
open a connection beyond this machine's loopback.

Installed in the pytest process (tests/support/fixtures.py) and, through the
``sitecustomize`` beside this file on PYTHONPATH, in every Python process a
test starts (gunicorn, workers, manage.py). A refused attempt raises
``OSError`` where it happens and is written to the file NETWORK_GUARD_LOG
names; the suite fails the test whose processes wrote to it, so code that
catches the error (a fetcher turning it into "could not connect") cannot
hide the attempt.

Kept to the standard library, and importable as a plain module, because it
runs before anything else in a process.
"""

import ipaddress
import os
import socket
import traceback
from typing import Any

LOG_VARIABLE = "NETWORK_GUARD_LOG"
# Names that always mean this machine (RFC 6761); any other name would ask DNS.
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


class NetworkRefused(ConnectionRefusedError):
    """A test tried to reach past loopback."""


def is_loopback(host: object) -> bool:
    """True for a loopback name or address, and for the any-address a
    server binds (None, "", 0.0.0.0, ::)."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%")[0].lower().rstrip(".")
    if name in ("", *LOOPBACK_NAMES) or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False  # a name: resolving it would leave the machine
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def refuse(what: str) -> NetworkRefused:
    """Record the attempt, with where it came from, and return the error."""
    message = f"network guard: {what} is past loopback (pid {os.getpid()})"
    record(message)
    return NetworkRefused(message)


def record(message: str) -> None:
    """Write ``message`` and the stack that led to it to the guard's log."""
    path = os.environ.get(LOG_VARIABLE)
    if path:
        stack = "".join(traceback.format_stack(limit=12)[:-3])
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{message}\n{stack}\n")


def is_numeric(host: object) -> bool:
    """True for an address in any form the resolver reads without asking DNS
    (``2130706433``, ``0x7f.1``, ``::1``)."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    try:
        _real_getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (OSError, UnicodeError):
        return False
    return True


def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    # A number is no look-up (nor is any host with AI_NUMERICHOST, which
    # never asks DNS): connecting to it is what the guard checks.
    flags = kwargs.get("flags", args[4] if len(args) > 4 else 0)
    numeric_only = bool(flags & socket.AI_NUMERICHOST)
    if not (numeric_only or is_loopback(host) or is_numeric(host)):
        raise refuse(f"looking up {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


def _check_address(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
        raise refuse(f"connecting to {address[0]!r}")


def guarded_connect(self: socket.socket, address: Any) -> None:
    _check_address(self, address)
    _real_connect(self, address)


def guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check_address(self, address)
    return _real_connect_ex(self, address)


def install() -> None:
    """Guard this process (once; a second call changes nothing)."""
    socket.getaddrinfo = guarded_getaddrinfo
    # The guard itself: it replaces these methods on purpose.
    socket.socket.connect = guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign,assignment]
