"""Pages for getting in: sign up, verify the address, log in and out,
reset a forgotten password."""

from flask import Blueprint, Response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from accounts import forms, rate_limits, sessions, users
from accounts.safe_next import next_path
from accounts.tokens import Purpose, read, token_of

bp = Blueprint("auth", __name__, url_prefix="/auth", template_folder="templates")

CHECK_YOUR_MAIL = "Check your email"
# The one answer to a sign-up, whether or not the address has an account.
SIGNED_UP = "We have sent a link to {email}. Follow it to finish signing up."
RESET_SENT = "If {email} has an account, we have sent it a link to set a new password."
LOGIN_FAILED = "That email and password do not match an account."
UNVERIFIED = "Confirm your email address first: we have sent a new link to {email}."
LINK_INVALID = "This link has expired or has been used. Ask for a new one below."
NOT_SIGNED_UP_WITH = (
    "That is not the password this address was signed up with. If you did not sign up "
    "yourself, set a password of your own with Forgot your password?"
)
ANOTHER_ACCOUNT = (
    "This link sets the password of {link_email}, but you are logged in as {email}. "
    "Log out first, then follow the link again."
)


bp.before_request(forms.form_posts_only)


@bp.after_request
def no_store(response: Response) -> Response:
    """Pages of accounts and their forms stay out of every cache (a shared
    computer's back button, a proxy)."""
    response.headers["Cache-Control"] = "no-store"
    return response


def message(title: str, text: str, status: int = 200) -> ResponseReturnValue:
    return render_template("accounts/message.html", title=title, text=text), status


@bp.route("/signup", methods=["GET", "POST"])
@rate_limits.signup_per_address
def sign_up() -> ResponseReturnValue:
    form = forms.SignUpForm()
    if not form.validate_on_submit():
        return render_template("accounts/signup.html", form=form), 400 if form.errors else 200
    users.sign_up(forms.text(form.email), forms.text(form.password))
    return message(CHECK_YOUR_MAIL, SIGNED_UP.format(email=form.email.data))


@bp.route("/verify", methods=["GET", "POST"])
@rate_limits.password_checks_per_address
def verify_email() -> ResponseReturnValue:
    form = forms.VerifyForm()
    if not form.validate_on_submit():
        return render_template("accounts/verify.html", form=form), 400 if form.errors else 200
    found = read(token_of(forms.text(form.token)), Purpose.VERIFY_EMAIL)
    if found is None:
        return message("Link expired", LINK_INVALID, 410)
    user = found[0]
    if not users.password_is(user, forms.text(form.password)):
        return render_template("accounts/verify.html", form=form, error=NOT_SIGNED_UP_WITH), 400
    if not users.verify_email(user):
        return message("Link expired", LINK_INVALID, 410)
    sessions.start(user)
    return redirect(url_for("account.index", changed="verified"), code=303)


@bp.route("/login", methods=["GET", "POST"])
@rate_limits.password_checks
def log_in() -> ResponseReturnValue:
    form = forms.LogInForm()
    if not form.validate_on_submit():
        return render_template("accounts/login.html", form=form), 400 if form.errors else 200
    user = users.authenticate(forms.text(form.email), forms.text(form.password))
    if user is None:
        return render_template("accounts/login.html", form=form, error=LOGIN_FAILED), 400
    if user.email_verified_at is None:
        users.request_verification(user)
        return message(CHECK_YOUR_MAIL, UNVERIFIED.format(email=user.email), 403)
    sessions.start(user, remember=form.remember.data)
    return redirect(next_path(), code=303)


@bp.post("/logout")
def log_out() -> ResponseReturnValue:
    sessions.log_out(current_user._get_current_object() if current_user.is_authenticated else None)
    return redirect(url_for("pages.home"), code=303)


@bp.route("/forgot", methods=["GET", "POST"])
@rate_limits.reset_per_address
def forgot_password() -> ResponseReturnValue:
    form = forms.EmailForm()
    if not form.validate_on_submit():
        return render_template("accounts/forgot.html", form=form), 400 if form.errors else 200
    users.request_reset(forms.text(form.email))
    return message(CHECK_YOUR_MAIL, RESET_SENT.format(email=form.email.data))


@bp.route("/reset", methods=["GET", "POST"])
@rate_limits.password_checks_per_address
def reset_password() -> ResponseReturnValue:
    form = forms.NewPasswordForm()
    if not form.is_submitted():
        return render_template("accounts/reset.html", form=form)
    found = read(token_of(form.token.data or ""), Purpose.RESET_PASSWORD)
    if found is None:
        ask_again = forms.EmailForm(formdata=None)
        return render_template("accounts/forgot.html", form=ask_again, error=LINK_INVALID), 410
    user = found[0]
    if current_user.is_authenticated and current_user.id != user.id:
        text = ANOTHER_ACCOUNT.format(link_email=user.email, email=current_user.email)
        return message("Another account", text, 409)
    form.account_email = user.email
    if not form.validate_on_submit():
        return render_template("accounts/reset.html", form=form, email=user.email), 400
    if not users.set_password(user, forms.text(form.password)):
        return message("Link expired", LINK_INVALID, 410)
    sessions.start(user)
    return redirect(url_for("account.index", changed="password"), code=303)
