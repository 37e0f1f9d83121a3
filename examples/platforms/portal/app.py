"""The portal's web app: login, "Post inbound credit", "Look up credit", a JSON API and faults."""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from examples.platforms.common.faults import FaultInjector, FaultMiddleware, fault_router
from examples.platforms.common.web import health, require_loopback
from examples.platforms.portal import STORE_FILENAME
from examples.platforms.portal.forms import CURRENCIES, FIELD_LABELS, validate_credit_form
from examples.platforms.portal.sessions import COOKIE_NAME, SessionManager, SessionProblem
from examples.platforms.portal.settings import PortalSettings
from examples.platforms.portal.store import CreditStore

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
DUPLICATE_MESSAGE = "Reference already posted"


class LoginRequired(Exception):
    """Raised by :func:`create_app`'s user dependency; answered with a redirect to ``/login``."""

    def __init__(self, next_path: str, *, expired: bool) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.expired = expired


FAULTABLE_PATHS = frozenset({"/", "/login", "/logout", "/credits/new", "/credits", "/credits/lookup"})


def is_faultable(method: str, path: str) -> bool:
    """Faults hit the pages and form posts only: never ``/health``, ``/api/*``, ``/_faults``, nor
    stray requests such as a browser's ``/favicon.ico``, which would otherwise use up ``fail_next``."""
    return path in FAULTABLE_PATHS


def create_app(settings: PortalSettings, data_dir: Path) -> FastAPI:
    """Build the portal over the store in ``data_dir``."""
    store = CreditStore(data_dir / STORE_FILENAME)
    sessions = SessionManager(ttl_s=settings.session_ttl_s, secret_key=settings.secret_key)
    injector = FaultInjector(settings.fault_options(), on_expire_sessions=sessions.expire_all)
    app = FastAPI(title="Core banking portal (example)", docs_url=None, redoc_url=None)
    app.add_middleware(FaultMiddleware, injector=injector, faultable=is_faultable)
    app.include_router(fault_router(injector))

    def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)

    def signed_in_user(request: Request) -> str:
        check = sessions.check(request.cookies.get(COOKIE_NAME))
        if check.user is None or check.user not in settings.users:
            next_path = request.url.path if request.method == "GET" else "/credits/new"
            if request.method == "GET" and request.url.query:
                next_path += f"?{request.url.query}"
            raise LoginRequired(next_path, expired=check.problem is SessionProblem.expired)
        return check.user

    @app.exception_handler(LoginRequired)
    async def redirect_to_login(request: Request, exc: LoginRequired) -> Response:
        query = {"next": exc.next_path} | ({"expired": "1"} if exc.expired else {})
        return RedirectResponse(f"/login?{urlencode(query)}", status_code=303)

    @app.get("/health")
    def get_health() -> dict[str, object]:
        return health("portal", store.path)

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/", expired: bool = False) -> HTMLResponse:
        return page(request, "login.html", next=_safe_next(next), expired=expired, username="")

    @app.post("/login", response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        form = await request.form()
        username = str(form.get("username", "")).strip()
        password = str(form.get("password", ""))
        next_path = _safe_next(str(form.get("next", "/")))
        expected = settings.users.get(username)
        if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
            return page(
                request, "login.html", 401, next=next_path, username=username,
                error="Invalid username or password.",
            )  # fmt: skip
        response = RedirectResponse(next_path, status_code=303)
        response.set_cookie(COOKIE_NAME, sessions.issue(username), httponly=True, samesite="lax")
        return response

    @app.get("/logout")
    def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE_NAME)
        return response

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request, user: str = Depends(signed_in_user)) -> HTMLResponse:
        return page(request, "home.html", user=user)

    @app.get("/credits/new", response_class=HTMLResponse)
    def credit_form(request: Request, user: str = Depends(signed_in_user)) -> HTMLResponse:
        return page(request, "credit_form.html", user=user, **_form_context({}, {}))

    @app.post("/credits", response_class=HTMLResponse)
    async def post_credit(request: Request, user: str = Depends(signed_in_user)) -> HTMLResponse:
        form = {name: str(value) for name, value in (await request.form()).items()}
        credit, errors = validate_credit_form(form)
        if credit is None:
            return page(request, "credit_form.html", 422, user=user, **_form_context(form, errors))
        if settings.reject_duplicates and await run_in_threadpool(store.find, credit.reference):
            errors = {"reference": DUPLICATE_MESSAGE}
            return page(request, "credit_form.html", 409, user=user, **_form_context(form, errors))
        posted = await run_in_threadpool(store.post, credit, posted_by=user)
        return page(request, "credit_posted.html", user=user, credit=posted.to_json(), labels=FIELD_LABELS)

    @app.get("/credits/lookup", response_class=HTMLResponse)
    def lookup(
        request: Request, reference: str | None = None, user: str = Depends(signed_in_user)
    ) -> HTMLResponse:
        context: dict[str, Any] = {"user": user, "reference": (reference or "").strip(), "searched": False}
        if reference is not None:
            if context["reference"]:
                context["searched"] = True
                context["credits"] = [credit.to_json() for credit in store.find(context["reference"])]
            else:
                context["error"] = "Reference is required."
        return page(request, "lookup.html", 200 if "error" not in context else 422, **context)

    @app.get("/api/credits", dependencies=[Depends(require_loopback)])
    def api_credits(reference: str | None = None) -> list[dict[str, str]]:
        credits = store.find(reference) if reference is not None else store.all()
        return [credit.to_json() for credit in credits]

    @app.get("/api/credits/{reference:path}", dependencies=[Depends(require_loopback)])
    def api_credits_for(reference: str) -> list[dict[str, str]]:
        credits = store.find(reference)
        if not credits:
            raise HTTPException(status_code=404, detail=f"No credit found for reference {reference!r}")
        return [credit.to_json() for credit in credits]

    return app


def _form_context(values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    return {
        "values": {name: values.get(name, "") for name in FIELD_LABELS}
        | {"currency": values.get("currency", "CNY")},
        "errors": errors,
        "labels": FIELD_LABELS,
        "currencies": CURRENCIES,
    }


def _safe_next(next_path: str) -> str:
    """Only follow local paths after sign-in (no open redirect)."""
    if next_path.startswith("/") and not next_path.startswith("//") and "\\" not in next_path:
        return next_path
    return "/"
