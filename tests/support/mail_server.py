"""A real SMTP server process for the tests of mail (smtp_server.py:
aiosmtpd), storing what it receives in a Maildir that the tests read."""

import mailbox
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

from tests.support.environment import PROJECT_DIR
from tests.support.processes import free_port, stop_group, wait_until
from tests.support.servers import start_server

LINK = re.compile(r"https?://\S+")


def running(server: "MailServer") -> Iterator["MailServer"]:
    """Start ``server`` for a fixture to yield, and stop it after."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


class MailServer:
    def __init__(
        self,
        directory: Path,
        tls: tuple[Path, Path] | None = None,
        login: tuple[str, str] | None = None,
        implicit_tls: bool = False,
    ):
        self.port = free_port()
        self.directory = directory
        self.tls = tls
        self.login = login
        self.implicit_tls = implicit_tls
        self.process: subprocess.Popen | None = None

    @property
    def settings(self) -> dict[str, str]:
        """The app's settings that send mail here."""
        login, password = self.login or ("", "")
        return {
            "SMTP_SERVER": "127.0.0.1",
            "SMTP_PORT": str(self.port),
            "SMTP_SECURITY": "tls" if self.implicit_tls else "starttls" if self.tls else "none",
            "SMTP_LOGIN": login,
            "SMTP_PASSWORD": password,
            "MAIL_FROM": "Tests <no-reply@example.test>",
        }

    def start(self) -> None:
        command = [sys.executable, "-m", "tests.support.smtp_server", str(self.port)]
        command.append(str(self.directory / "Maildir"))
        if self.tls:
            command += ["--tls", *map(str, self.tls)]
        if self.implicit_tls:
            command.append("--implicit-tls")
        if self.login:
            command += ["--login", ":".join(self.login)]
        self.process = start_server(command, cwd=PROJECT_DIR)
        wait_until(self.answers, timeout=20, what=f"aiosmtpd on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)

    def answers(self) -> bool:
        """Listening (a TLS server answers only after a handshake: a
        connection is enough)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def messages(self, to: str | None = None) -> list[Message]:
        """What arrived, oldest first (Maildir names a message by the second
        and microsecond it arrived)."""
        box = mailbox.Maildir(self.directory / "Maildir", create=True)
        found = [message for _, message in sorted(box.items(), key=lambda item: arrival(item[0]))]
        return [m for m in found if to is None or m["To"] == to]

    def wait_for(self, to: str, count: int = 1, timeout: float = 20) -> Message:
        """The newest of at least ``count`` messages to ``to``."""
        wait_until(lambda: len(self.messages(to)) >= count, timeout, f"{count} mail(s) to {to}")
        return self.messages(to)[-1]


def arrival(key: str) -> tuple[int, int]:
    match = re.match(r"(\d+)\.M(\d+)P", key)
    assert match, key
    return int(match.group(1)), int(match.group(2))


def body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


def link_in(message: Message) -> str:
    links = LINK.findall(body(message))
    assert len(links) == 1, body(message)
    return links[0]
