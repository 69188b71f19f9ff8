"""Mail leaves as a background job, retried when SMTP fails, and a
failure is logged, not lost in silence; the sign-up itself never fails
because of mail."""

import logging

from rq import Queue

from accounts.models import find
from accounts.tests.steps import sign_up
from tests.support.processes import free_port
from tests.support.users import PASSWORD, new_email


def test_with_redis_the_mail_waits_in_the_queue_with_its_retries(make_app, redis_url):
    app = make_app(REDIS_URL=redis_url)
    email = new_email()
    assert sign_up(app.test_client(), email).status_code == 200
    with app.app_context():
        (job,) = Queue("default", connection=app.extensions["jobs"].redis).get_jobs()
        assert job.func_name == "accounts.mail.deliver"
        assert job.args[0]["to"] == email and job.args[0]["template"] == "verify_email"
        # The job signs the link when it runs: no live link waits in Redis.
        assert "/auth/verify#" not in repr(job.args)
        assert job.retries_left == 3 and job.retry_intervals == [10, 60, 600]
        assert job.meta["on_failure"] == "accounts.mail.delivery_failed"


def test_an_smtp_failure_is_logged_and_the_account_is_kept(make_app, caplog):
    closed_port = str(free_port())
    app = make_app(SMTP_PORT=closed_port)  # nothing listens there
    email = new_email()
    with caplog.at_level(logging.ERROR):
        assert sign_up(app.test_client(), email).status_code == 200
    assert f"Mail to {email} (verify_email) was not sent: ConnectionRefusedError" in caplog.text
    assert "/auth/verify#" not in caplog.text  # the link stays secret
    with app.app_context():
        assert find(email) is not None


def test_without_an_smtp_server_development_logs_the_mail(make_app, caplog):
    app = make_app(SMTP_SERVER="", SMTP_SETTINGS="NOWHERE")
    email = new_email()
    with caplog.at_level(logging.INFO):
        sign_up(app.test_client(), email, PASSWORD)
    assert "no SMTP server is set" in caplog.text and "/auth/verify#" in caplog.text


def test_mail_goes_over_starttls_with_a_login(make_app, tls_mail_server, certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # the system's trust store, here
    app = make_app(**tls_mail_server.settings)
    email = new_email()
    sign_up(app.test_client(), email)
    assert tls_mail_server.wait_for(email)["Subject"].startswith("Confirm your email address")


def test_mail_goes_over_implicit_tls(make_app, implicit_tls_mail_server, certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    app = make_app(**implicit_tls_mail_server.settings)
    email = new_email()
    sign_up(app.test_client(), email)
    assert implicit_tls_mail_server.wait_for(email)["Subject"].startswith("Confirm your email")


def test_a_server_certificate_that_is_not_trusted_is_refused(make_app, tls_mail_server, caplog):
    app = make_app(**tls_mail_server.settings)
    email = new_email()
    with caplog.at_level(logging.ERROR):
        sign_up(app.test_client(), email)
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
    assert tls_mail_server.messages(email) == []


def test_a_wrong_login_is_refused(make_app, tls_mail_server, certificate, monkeypatch, caplog):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    app = make_app(**{**tls_mail_server.settings, "SMTP_PASSWORD": "wrong"})
    email = new_email()
    with caplog.at_level(logging.ERROR):
        sign_up(app.test_client(), email)
    assert "SMTPAuthenticationError" in caplog.text
    assert tls_mail_server.messages(email) == []
