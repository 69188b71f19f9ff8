"""The signed-in user's page: change the password or the address, or
delete the account. Every change asks for the current password."""

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from accounts import forms, rate_limits, sessions, users
from accounts.auth import LINK_INVALID, message, no_store
from accounts.models import User
from accounts.tokens import Purpose, read, token_of

bp = Blueprint("account", __name__, url_prefix="/account", static_folder="static")

bp.before_request(forms.form_posts_only)
bp.after_request(no_store)

WRONG_PASSWORD = "That is not your current password."  # noqa: S105 (a message)
EMAIL_SENT = "We have sent a link to {email}. Your address changes when you follow it."
EMAIL_TAKEN = "Another account has taken that address meanwhile."
CHANGED = {
    "password": "Your password is changed. Every other session of yours has ended.",
    "email": "Your email address is changed. Every other session of yours has ended.",
    "verified": "Your email address is confirmed.",
}


def me() -> User:
    user: User = current_user._get_current_object()  # the User, not Werkzeug's proxy
    return user


PasswordCheckedForm = forms.ChangePasswordForm | forms.ChangeEmailForm | forms.DeleteForm


def checks_password(form: PasswordCheckedForm) -> bool:
    """The form is valid and its current password is the user's."""
    if not form.validate_on_submit():
        return False
    if users.password_is(me(), forms.text(form.current_password)):
        return True
    form.current_password.errors = [WRONG_PASSWORD]
    return False


def page(status: int = 200, **forms_given: PasswordCheckedForm) -> ResponseReturnValue:
    all_forms = {
        "password_form": forms.ChangePasswordForm(),
        "email_form": forms.ChangeEmailForm(),
        "delete_form": forms.DeleteForm(),
        **forms_given,
    }
    done = CHANGED.get(request.args.get("changed", ""))
    return render_template("accounts/account.html", done=done, **all_forms), status


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    return page()


@bp.post("/password")
@login_required
@rate_limits.password_checks
def change_password() -> ResponseReturnValue:
    form = forms.ChangePasswordForm()
    form.account_email = me().email
    if not checks_password(form):
        return page(400, password_form=form)
    users.set_password(me(), forms.text(form.password))
    sessions.start(me())  # this session goes on; the others have ended
    return redirect(url_for(".index", changed="password"), code=303)


@bp.post("/email")
@login_required
@rate_limits.email_change_per_address
@rate_limits.password_checks
def change_email() -> ResponseReturnValue:
    form = forms.ChangeEmailForm()
    if not checks_password(form):
        return page(400, email_form=form)
    users.request_email_change(me(), forms.text(form.email))
    return message("Check your email", EMAIL_SENT.format(email=form.email.data))


@bp.route("/email/confirm", methods=["GET", "POST"])
def confirm_email() -> ResponseReturnValue:
    form = forms.ConfirmForm()
    if not form.validate_on_submit():
        return render_template("accounts/confirm.html", form=form), 400 if form.errors else 200
    user, new_email = read(token_of(forms.text(form.token)), Purpose.CHANGE_EMAIL) or (None, None)
    if user is None or new_email is None:
        return message("Link expired", LINK_INVALID, 410)
    signed_in = current_user.is_authenticated and current_user.id == user.id
    outcome = users.change_email(user, new_email)
    if outcome == "taken":
        return message("Address taken", EMAIL_TAKEN, 409)
    if outcome == "used":
        return message("Link expired", LINK_INVALID, 410)
    if signed_in:
        sessions.start(user)  # this session goes on; the others have ended
    return redirect(url_for(".index", changed="email"), code=303)


@bp.post("/delete")
@login_required
@rate_limits.password_checks
def delete() -> ResponseReturnValue:
    form = forms.DeleteForm()
    if not checks_password(form):
        return page(400, delete_form=form)
    users.delete(me())
    sessions.log_out(None)
    return message("Account deleted", "Your account and everything in it are deleted.")
