"""The accounts' forms (Flask-WTF: every form carries a CSRF token)."""

from flask import abort, current_app, request
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, Field, Form, PasswordField
from wtforms.validators import InputRequired, Length, ValidationError

from accounts.models import MAX_EMAIL_LENGTH
from accounts.passwords import MAX_LENGTH, normalize, weakness

EMAIL_REQUIRED = InputRequired("Enter your email address.")
PASSWORD_REQUIRED = InputRequired("Enter your password.")


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def form_posts_only() -> None:
    """Every accounts page takes what its HTML form sends and nothing else
    (a before_request of its blueprints): 415 for a JSON body or any other
    type, 400 for a file part or a NUL (no database stores it); each
    field's length is its form's to check."""
    if request.method != "POST":
        return
    if request.mimetype and request.mimetype not in FORM_TYPES:  # no body is no form to misread
        abort(415, "Send the page's form (application/x-www-form-urlencoded).")
    if request.files:
        abort(400, "This form takes no files.")
    if any("\x00" in value for value in request.form.values()):
        abort(400, "A field holds a character no form can send (NUL).")


def normalize_email(value: str | None) -> str:
    """One spelling per address: trimmed and lower-cased. (Mail servers
    may treat the local part's case as significant; none in use does.)"""
    return (value or "").strip().casefold()


def valid_email(form: Form, field: Field) -> None:
    """An address mail can be sent to; whether it exists is for the
    verification link to find out."""
    local, at, domain = field.data.rpartition("@")
    if (
        not at
        or not local
        or len(local) > 64  # RFC 5321 4.5.3.1.1
        or "." not in domain.strip(".")
        or any(char.isspace() or not char.isprintable() for char in field.data)
    ):
        raise ValidationError("Enter an email address such as name@example.com.")


def strong_password(form: Form, field: Field) -> None:
    # The account's address: the form's own field, or one a view set.
    email = form.data.get("email") or getattr(form, "account_email", "") or ""
    context = [current_app.config["APP_NAME"], email, email.partition("@")[0]]
    problem = weakness(
        field.data or "", current_app.config["ACCOUNTS_PASSWORD_MIN_LENGTH"], context
    )
    if problem:
        raise ValidationError(problem)


def text(field: Field) -> str:
    """A field's value once the form is valid (InputRequired: never None)."""
    return str(field.data or "")


def email_field(label: str = "Email") -> EmailField:
    return EmailField(
        label,
        filters=[normalize_email],
        validators=[EMAIL_REQUIRED, Length(max=MAX_EMAIL_LENGTH), valid_email],
    )


def new_password_field(label: str = "Password") -> PasswordField:
    return PasswordField(label, validators=[PASSWORD_REQUIRED, strong_password])


def within_length(form: Form, field: Field) -> None:
    """The one length rule of every password field: measured as the
    password is hashed (NFKC), as sign-up measures it (passwords.weakness),
    so a password sign-up takes, log-in takes too; no megabyte is hashed."""
    if len(normalize(field.data or "")) > MAX_LENGTH:
        raise ValidationError(f"Use at most {MAX_LENGTH} characters.")


def password_field(label: str = "Password") -> PasswordField:
    # Checked against the hash only.
    return PasswordField(label, validators=[PASSWORD_REQUIRED, within_length])


class SignUpForm(FlaskForm):
    email = email_field()
    password = new_password_field()


class LogInForm(FlaskForm):
    email = EmailField(
        "Email",
        filters=[normalize_email],
        validators=[EMAIL_REQUIRED, Length(max=MAX_EMAIL_LENGTH)],
    )
    password = password_field()
    remember = BooleanField("Keep me logged in on this device")


class EmailForm(FlaskForm):
    email = email_field()


class ConfirmForm(FlaskForm):
    """A button that follows a mailed link: GET shows it, POST acts, so
    that a mail scanner fetching the link uses nothing up."""


class NewPasswordForm(FlaskForm):
    account_email = ""  # for the password's checks; the view sets it
    password = new_password_field("New password")


class ChangePasswordForm(FlaskForm):
    account_email = ""  # for the password's checks; the view sets it
    current_password = password_field("Current password")
    password = new_password_field("New password")


class ChangeEmailForm(FlaskForm):
    email = email_field("New email")
    current_password = password_field("Current password")


class DeleteForm(FlaskForm):
    current_password = password_field("Current password")
