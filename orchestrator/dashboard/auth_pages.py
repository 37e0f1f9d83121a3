"""Sign-in, sign-out and password change pages."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from orchestrator.dashboard.identity import client_address
from orchestrator.dashboard.sessions import LOGIN_COOKIE, LOGIN_FORM_MAX_AGE, SESSION_COOKIE
from orchestrator.dashboard.users import LoginOutcome, UserError
from orchestrator.dashboard.wiring import caller_of, dashboard_of, render

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path of this site (no scheme, no host, no ``//``) is followed after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


def _login_page(request: Request, *, message: str = "", status_code: int = 200, user: str = "") -> Response:
    dashboard = dashboard_of(request)
    cookie, token = dashboard.sessions.login_form_token()
    response = render(
        request,
        "login.html",
        status_code=status_code,
        form_token=token,
        message=message,
        user=user,
        next=safe_next(request.query_params.get("next")),
    )
    dashboard.sessions.set_cookie(
        response, LOGIN_COOKIE, cookie, secure=_https(request), max_age=LOGIN_FORM_MAX_AGE
    )
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    caller = getattr(request.state, "caller", None)
    if caller is not None and caller.session is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    username: str = Form("", max_length=200),
    password: str = Form("", max_length=1000),
    csrf_token: str = Form("", max_length=200),
    next: str = Form("/", max_length=2000),
) -> Response:
    dashboard = dashboard_of(request)
    if not dashboard.sessions.check_login_form(request.cookies.get(LOGIN_COOKIE), csrf_token):
        return _login_page(request, message="The sign-in form expired; please try again.", status_code=403)
    result = dashboard.users.authenticate(username, password, client_address(request))
    if result.outcome is LoginOutcome.throttled:
        return _login_page(
            request,
            message="Too many failed sign-ins from this address; wait and try again later.",
            status_code=429,
        )
    if result.outcome is LoginOutcome.locked:
        until = dashboard.local(result.until)
        return _login_page(
            request,
            message=f"This account is locked after repeated failed sign-ins, until {until} ({dashboard.settings.timezone}). "
            "An administrator can unlock it ('rpa users unlock').",
            status_code=423,
            user=username,
        )
    if result.outcome is not LoginOutcome.ok or result.user is None:
        return _login_page(request, message="Wrong user name or password.", status_code=401, user=username)
    cookie, _session = dashboard.sessions.start(result.user.name, client_address(request))
    target = "/account/password" if result.user.must_change_password else safe_next(next)
    response = RedirectResponse(target, status_code=303)
    max_age = int(dashboard.sessions.max_age.total_seconds())
    dashboard.sessions.set_cookie(response, SESSION_COOKIE, cookie, secure=_https(request), max_age=max_age)
    dashboard.sessions.clear_cookie(response, LOGIN_COOKIE, secure=_https(request))
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    dashboard = dashboard_of(request)
    caller = caller_of(request)
    if caller.session is not None:
        dashboard.sessions.end(caller.session)
    response = RedirectResponse("/login", status_code=303)
    dashboard.sessions.clear_cookie(response, SESSION_COOKIE, secure=_https(request))
    return response


@router.get("/account/password")
def password_form(request: Request) -> Response:
    caller = caller_of(request)
    return render(request, "password.html", must_change=caller.must_change_password, message="")


@router.post("/account/password")
def change_password(
    request: Request,
    current: str = Form("", max_length=1000),
    new: str = Form("", max_length=1000),
    repeat: str = Form("", max_length=1000),
) -> Response:
    dashboard = dashboard_of(request)
    caller = caller_of(request)
    if caller.session is None:
        return render(
            request, "password.html", must_change=False, message="Tokens have no password.", status_code=400
        )

    def again(message: str, code: int) -> Response:
        return render(
            request,
            "password.html",
            must_change=caller.must_change_password,
            message=message,
            status_code=code,
        )

    if new != repeat:
        return again("The new password and its repetition differ.", 400)
    if new == current:
        return again("Choose a password other than the current one.", 400)
    check = dashboard.users.authenticate(caller.principal.user, current, client_address(request))
    if check.outcome is not LoginOutcome.ok:
        return again("The current password is wrong.", 401)
    try:
        dashboard.users.set_password(caller.principal.user, new, actor=caller.principal.user)
    except UserError as exc:
        return again(str(exc), 400)
    # changing the password ended every session of the user: start a fresh one here
    cookie, _session = dashboard.sessions.start(caller.principal.user, client_address(request))
    response = RedirectResponse("/", status_code=303)
    max_age = int(dashboard.sessions.max_age.total_seconds())
    dashboard.sessions.set_cookie(response, SESSION_COOKIE, cookie, secure=_https(request), max_age=max_age)
    return response
