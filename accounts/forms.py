"""The accounts' forms (Flask-WTF: every form carries a CSRF token)."""

from flask import abort, current_app, request
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, Field, Form, PasswordField, StringField
from wtforms.validators import InputRequired, Length, ValidationError

from accounts import email_addresses
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


def login_spelling(value: str | None) -> str:
    """A log-in's address as it is looked up (email_addresses.spelling)."""
    return email_addresses.spelling(value or "")


def valid_email(form: Form, field: Field) -> None:
    """One mailbox this site can mail, in its stored spelling
    (email_addresses); whether it exists is for the mailed link to find out."""
    try:
        field.data = email_addresses.normalize(field.data or "")
    except email_addresses.InvalidAddress as error:
        raise ValidationError(str(error)) from None


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
    return EmailField(label, validators=[EMAIL_REQUIRED, valid_email])


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
        filters=[login_spelling],
        validators=[EMAIL_REQUIRED, Length(max=MAX_EMAIL_LENGTH)],
    )
    password = password_field()
    remember = BooleanField("Keep me logged in on this device")


class EmailForm(FlaskForm):
    email = email_field()


# A whole pasted link at most: the token (tokens.MAX_TOKEN_LENGTH) and a URL.
MAX_LINK_LENGTH = 4096


def link_field() -> StringField:
    """The mailed link's token, put in by the page's script (tokens.py)."""
    return StringField(
        "The link from your email",
        validators=[InputRequired("Paste the link from your email."), Length(max=MAX_LINK_LENGTH)],
    )


class ConfirmForm(FlaskForm):
    """A button that follows a mailed link: GET shows it, POST acts, so
    that a mail scanner fetching the link uses nothing up."""

    token = link_field()


class VerifyForm(FlaskForm):
    """Confirming an address takes the password it was signed up with, so
    that a password someone else chose never survives the owner's click."""

    token = link_field()
    password = password_field()


class NewPasswordForm(FlaskForm):
    account_email = ""  # for the password's checks; the view sets it
    token = link_field()
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
