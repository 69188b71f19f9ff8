"""Each flow of the accounts, end to end through the pages, with the mail
going through a real SMTP server."""

from accounts.tests.steps import (
    NEW_PASSWORD,
    follow,
    log_in,
    logged_in,
    sign_up,
    verified_account,
    verify,
)
from tests.support.mail_server import body, link_in
from tests.support.users import PASSWORD, new_email


def test_sign_up_mails_a_link_that_verifies_the_address_then_log_in_works(client, mail_server):
    email = new_email()
    answer = sign_up(client, email)
    assert answer.status_code == 200 and f"We have sent a link to {email}" in answer.text
    mail = mail_server.wait_for(email)
    assert mail["Subject"].startswith("Confirm your email address")
    assert mail["From"] == "Tests <no-reply@example.test>"

    assert log_in(client, email).status_code == 403  # not verified yet
    confirmed = verify(client, link_in(mail))  # with the sign-up's password: logged in
    assert confirmed.status_code == 303 and confirmed.location == "/account?changed=verified"
    assert email in client.get("/account").text
    client.post("/auth/logout")
    logged = log_in(client, email)
    assert logged.status_code == 303 and logged.location == "/"


def test_an_unverified_log_in_with_the_right_password_mails_a_new_link(client, mail_server):
    email = new_email()
    sign_up(client, email)
    mail_server.wait_for(email)
    answer = log_in(client, email)
    assert answer.status_code == 403 and "we have sent a new link" in answer.text
    assert verify(client, link_in(mail_server.wait_for(email, count=2))).status_code == 303


def test_a_forgotten_password_is_reset_by_the_mailed_link(client, mail_server):
    email = verified_account(client, mail_server)
    answer = client.post("/auth/forgot", data={"email": email})
    assert answer.status_code == 200 and f"If {email} has an account" in answer.text
    mail = mail_server.wait_for(email, count=2)
    assert mail["Subject"].startswith("Set a new password")
    reset = follow(client, link_in(mail), password=NEW_PASSWORD)
    assert reset.status_code == 303 and reset.location == "/account?changed=password"
    client.post("/auth/logout")
    assert log_in(client, email).status_code == 400
    assert log_in(client, email, NEW_PASSWORD).status_code == 303


def test_a_weak_new_password_is_refused_and_the_link_still_works(client, mail_server):
    email = verified_account(client, mail_server)
    client.post("/auth/forgot", data={"email": email})
    link = link_in(mail_server.wait_for(email, count=2))
    weak = follow(client, link, password="passwordpassword")
    assert weak.status_code == 400 and "among the most common" in weak.text
    assert follow(client, link, password=NEW_PASSWORD).status_code == 303


def test_log_out_ends_the_session(client, mail_server):
    logged_in(client, mail_server)
    assert client.post("/auth/logout").status_code == 303
    answer = client.get("/account")
    assert answer.status_code == 302 and answer.location.startswith("/auth/login?next=")


def test_change_password_needs_the_current_one(client, mail_server):
    email = logged_in(client, mail_server)
    wrong = client.post(
        "/account/password", data={"current_password": "not it", "password": NEW_PASSWORD}
    )
    assert wrong.status_code == 400 and "not your current password" in wrong.text
    right = client.post(
        "/account/password", data={"current_password": PASSWORD, "password": NEW_PASSWORD}
    )
    assert right.status_code == 303
    assert "Every other session of yours has ended" in client.get(right.location).text
    client.post("/auth/logout")
    assert log_in(client, email, NEW_PASSWORD).status_code == 303


def test_a_new_email_takes_effect_when_its_link_is_followed(client, mail_server):
    email = logged_in(client, mail_server)
    new = new_email()
    asked = client.post("/account/email", data={"email": new, "current_password": PASSWORD})
    assert asked.status_code == 200 and f"We have sent a link to {new}" in asked.text
    mail = mail_server.wait_for(new)
    assert email in body(mail)
    assert email in client.get("/account").text  # not before the link
    assert follow(client, link_in(mail)).status_code == 303
    assert new in client.get("/account").text
    client.post("/auth/logout")
    assert log_in(client, email).status_code == 400
    assert log_in(client, new).status_code == 303


def test_a_new_email_that_has_an_account_gets_a_notice_and_nothing_changes(client, mail_server):
    taken = verified_account(client, mail_server)
    email = logged_in(client, mail_server)
    asked = client.post("/account/email", data={"email": taken, "current_password": PASSWORD})
    assert asked.status_code == 200 and f"We have sent a link to {taken}" in asked.text
    notice = mail_server.wait_for(taken, count=2)
    assert notice["Subject"].startswith("Your address already has an account")
    assert "http" not in body(notice)
    assert email in client.get("/account").text


def test_delete_needs_the_password_and_removes_the_account(client, mail_server):
    email = logged_in(client, mail_server)
    assert client.post("/account/delete", data={"current_password": "nope"}).status_code == 400
    deleted = client.post("/account/delete", data={"current_password": PASSWORD})
    assert deleted.status_code == 200 and "Your account and everything in it" in deleted.text
    assert client.get("/account").status_code == 302
    assert log_in(client, email).status_code == 400
