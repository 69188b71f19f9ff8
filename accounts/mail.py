"""Mail: a background job renders and sends it over SMTP.

``send(to, template, link=..., **context)`` submits the job (jobs.submit):
a worker runs it when REDIS_URL is set, the request itself otherwise. The
job renders ``accounts/email/<template>.txt`` (its first line is the
subject). A link is the one the request asked for (tokens.Link): the job
signs it, or drops the message when the account has changed since. A
failed send, a recipient the server refuses included, is retried (RETRY),
then logged as an error with the kind of message.

Each address gets at most ACCOUNTS_MAIL_LIMIT_PER_RECIPIENT messages: past
it, ``send`` drops the message, and the page answers as it always does
(rate_limits.mail_allowed).

Without an SMTP server, in development and tests a message is written to
the app's log (the terminal of ``make run``) instead, links and all, so
sign-up works on a laptop with no mail account anywhere; in staging and
production it fails (and is retried) like any failed send, since a log is
no place for a live link.
"""

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template, request
from rq import Retry

from accounts import rate_limits, tokens
from extensions import jobs
from models import utc_now

# Seconds between attempts: an SMTP outage of about 10 minutes loses no mail.
RETRY = Retry(max=3, interval=[10, 60, 600])
JOB_TIMEOUT = 60  # seconds, beyond the SMTP timeouts of each step
SMTP_TIMEOUT = 10  # seconds, for each step of the conversation


class MailNotSent(RuntimeError):
    """A message that cannot be sent as the settings stand."""


def send(to: str, template: str, link: tokens.Link | None = None, **context: Any) -> None:
    """Queue ``template`` for ``to`` (an address as email_addresses stores
    it), with the ``link`` the request asked for. Raises JobsUnavailable
    when the queue cannot take it: nothing was queued."""
    if not rate_limits.mail_allowed(to):
        current_app.logger.info("Mail (%s) not sent: its recipient's limit is reached", template)
        return
    message = {
        "to": to,
        "template": template,
        "context": context,
        "link": link.as_dict() if link is not None else None,
        "site": request.host_url,  # the links' scheme and host (TRUSTED_HOSTS vetted it)
    }
    jobs.submit(
        deliver,
        message,
        timeout=JOB_TIMEOUT,
        retry=RETRY,
        on_failure=delivery_failed,
        after_response=True,  # without a worker: how long a send takes shows in no answer
    )


def deliver(message: dict[str, Any]) -> None:
    """The job: render ``message`` and send it through the SMTP server."""
    context = dict(message["context"])
    if message["link"] is not None:
        link = tokens.Link(**message["link"])
        url = address_of(message["site"], link)
        if url is None:
            current_app.logger.info("Mail (%s) dropped: its link is dead", message["template"])
            return
        context.update(link=url, hours=tokens.lifetime(link.purpose) // 3600)
    text = render_template(f"accounts/email/{message['template']}.txt", **context)
    subject, _, body = text.partition("\n")
    email = build(message["to"], subject.strip(), body.strip() + "\n")
    settings = current_app.config["ACCOUNTS_SMTP"]
    if settings is None:
        if current_app.config["ENV_NAME"] in ("staging", "production"):
            raise MailNotSent("no SMTP server is set (SMTP_SERVER; accounts/README.md, Mail)")
        current_app.logger.info(
            "Mail (no SMTP server is set, so it is only logged)\nTo: %s\nSubject: %s\n\n%s",
            email["To"],
            email["Subject"],
            email.get_content(),
        )
        return
    with connect(settings) as smtp:
        # The envelope names the one stored address, whatever the header
        # parser would make of it; a refused recipient is a failed send.
        refused = smtp.send_message(email, to_addrs=[message["to"]])
    if refused:
        raise MailNotSent(f"the server refused the recipient: {refused!r}")
    current_app.logger.info("Mail sent: %s", email["Subject"])


def address_of(site: str, link: tokens.Link) -> str | None:
    """The link's address: the page, and the token after the ``#``; None
    when the link is dead (tokens.Link.token)."""
    token = link.token()
    if token is None:
        return None
    parts = urlsplit(site)
    urls = current_app.url_map.bind(parts.netloc, url_scheme=parts.scheme)
    return urls.build(link.endpoint, force_external=True) + "#" + token


def delivery_failed(message: dict[str, Any], *, error: BaseException) -> None:
    current_app.logger.error(
        "Mail to %s (%s) was not sent: %r", message["to"], message["template"], error
    )


def build(to: str, subject: str, body: str) -> EmailMessage:
    sender = current_app.config["ACCOUNTS_MAIL_FROM"]
    email = EmailMessage()
    email["From"] = sender
    email["To"] = to
    email["Subject"] = subject
    email["Date"] = format_datetime(utc_now())
    email["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
    email.set_content(body)
    return email


def connect(settings: dict[str, Any]) -> smtplib.SMTP:
    """A logged-in connection: implicit TLS (port 465), STARTTLS, or plain
    (SMTP_SECURITY=none, for a server on this machine)."""
    host, port = settings["server"], settings["port"]
    smtp: smtplib.SMTP
    if settings["security"] == "tls":
        context = ssl.create_default_context()
        smtp = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
    try:
        if settings["security"] == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if settings["login"]:
            smtp.login(settings["login"], settings["password"])
    except BaseException:
        smtp.close()
        raise
    return smtp
