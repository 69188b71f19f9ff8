# Flask-Login 0.6 ships no types: the part of it the accounts package (and
# a fork's views) use. They go with accounts.
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from blinker import NamedSignal
from flask import Flask, Response

_F = TypeVar("_F", bound=Callable[..., Any])
_Loader = TypeVar("_Loader", bound=Callable[[str], Any])
_Handler = TypeVar("_Handler", bound=Callable[[], Any])

class LoginManager:
    login_view: str | None
    login_message: str
    session_protection: str | None
    def __init__(self, app: Flask | None = None, add_context_processor: bool = True) -> None: ...
    def init_app(self, app: Flask, add_context_processor: bool = True) -> None: ...
    def user_loader(self, callback: _Loader) -> _Loader: ...
    def unauthorized_handler(self, callback: _Handler) -> _Handler: ...
    # Its after_request function (accounts/sessions.py runs it only when it can have work).
    def _update_remember_cookie(self, response: Response) -> Response: ...

# The signed-in user (the app's user class), or an anonymous one.
current_user: Any

def login_required(func: _F) -> _F: ...
def login_user(
    user: Any,
    remember: bool = False,
    duration: timedelta | None = None,
    force: bool = False,
    fresh: bool = True,
) -> bool: ...
def logout_user() -> bool: ...

user_logged_in: NamedSignal
user_logged_out: NamedSignal
