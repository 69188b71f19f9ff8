"""Pages for getting in: sign up, verify the address, log in and out,
reset a forgotten password."""

from flask import Blueprint, Response, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user

from accounts import forms, rate_limits, users
from accounts.models import User
from accounts.safe_next import next_path
from accounts.tokens import Purpose, read

bp = Blueprint("auth", __name__, url_prefix="/auth", template_folder="templates")

CHECK_YOUR_MAIL = "Check your email"
# The one answer to a sign-up, whether or not the address has an account.
SIGNED_UP = "We have sent a link to {email}. Follow it to finish signing up."
RESET_SENT = "If {email} has an account, we have sent it a link to set a new password."
LOGIN_FAILED = "That email and password do not match an account."
UNVERIFIED = "Confirm your email address first: we have sent a new link to {email}."
LINK_INVALID = "This link has expired or has been used. Ask for a new one below."


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


@bp.route("/verify/<token>", methods=["GET", "POST"])
def verify_email(token: str) -> ResponseReturnValue:
    found = read(token, Purpose.VERIFY_EMAIL)
    if found is None:
        return message("Link expired", LINK_INVALID, 410)
    form = forms.ConfirmForm()
    if not form.validate_on_submit():
        return render_template("accounts/confirm.html", form=form, email=found[0].email)
    users.verify_email(found[0])
    return redirect(url_for(".log_in", verified=1), code=303)


@bp.route("/login", methods=["GET", "POST"])
@rate_limits.login_per_address
@rate_limits.login_per_account
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
    start_session(user, remember=form.remember.data)
    return redirect(next_path(), code=303)


def start_session(user: User, remember: bool = False) -> None:
    """Log ``user`` in with a session of its own: nothing from before the
    log-in is kept (no session fixation)."""
    session.clear()
    login_user(user, remember=remember)


@bp.post("/logout")
def log_out() -> ResponseReturnValue:
    session.clear()
    # After the clear: it marks the "remember me" cookie for deletion there.
    logout_user()
    return redirect(url_for("pages.home"), code=303)


@bp.route("/forgot", methods=["GET", "POST"])
@rate_limits.reset_per_address
def forgot_password() -> ResponseReturnValue:
    form = forms.EmailForm()
    if not form.validate_on_submit():
        return render_template("accounts/forgot.html", form=form), 400 if form.errors else 200
    users.request_reset(forms.text(form.email))
    return message(CHECK_YOUR_MAIL, RESET_SENT.format(email=form.email.data))


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    found = read(token, Purpose.RESET_PASSWORD)
    if found is None:
        ask_again = forms.EmailForm()
        return render_template("accounts/forgot.html", form=ask_again, error=LINK_INVALID), 410
    user = found[0]
    form = forms.NewPasswordForm()
    form.account_email = user.email
    if not form.validate_on_submit():
        status = 400 if form.errors else 200
        return render_template("accounts/reset.html", form=form, email=user.email), status
    users.set_password(user, forms.text(form.password))
    start_session(user)
    return redirect(url_for("account.index", changed="password"), code=303)
