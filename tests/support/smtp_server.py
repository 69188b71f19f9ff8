"""The SMTP server process the tests start (mail_server.py): aiosmtpd, storing
each message in a Maildir; with --tls, it requires STARTTLS with that
certificate, and with --login, AUTH with that login and password.

    python -m tests.support.smtp_server PORT MAILDIR [--tls CERT KEY] [--implicit-tls]
                                         [--login USER:PASSWORD]

--implicit-tls speaks TLS from the first byte (port 465's way) instead.
A recipient whose address starts with "refused" is refused (550), as a
server refuses a mailbox it does not know.
"""

import argparse
import signal
import ssl
from typing import Any

from aiosmtpd import handlers
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Mailbox(handlers.Mailbox):
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.startswith("refused"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("maildir")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--login")
    args = parser.parse_args()
    tls = None
    if args.tls:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(*args.tls)

    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        given = (
            isinstance(data, LoginPassword) and f"{data.login.decode()}:{data.password.decode()}"
        )
        return AuthResult(success=given == args.login, handled=False)

    starttls = tls if not args.implicit_tls else None
    controller = Controller(
        Mailbox(args.maildir),
        hostname="127.0.0.1",
        port=args.port,
        ssl_context=tls if args.implicit_tls else None,
        tls_context=starttls,
        require_starttls=starttls is not None,
        authenticator=authenticate if args.login else None,
        auth_required=bool(args.login),
    )
    stop = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)  # the server's thread inherits it
    controller.start()
    signal.sigwait(stop)
    controller.stop()


if __name__ == "__main__":
    main()
