"""``install_dashboard``: the operator dashboard on the API's FastAPI app (called by ``create_app``).

Adds the pages, ``/api/dashboard/...``, ``/metrics`` and the static files; the sign-in gate
and security headers around everything (the JSON API of ``orchestrator.api`` included); and
``app.state.resolve_principal`` so that API routes accept dashboard sessions and stored tokens.
On first start, with no user at all, it creates the administrator: with ``RPA_ADMIN_PASSWORD``
when set, else with a one-time password printed once on standard error.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response

from orchestrator.api.security import Principal
from orchestrator.api.store_down import STORE_RETRY_AFTER, store_unavailable_detail
from orchestrator.dashboard import auth_pages, pages
from orchestrator.dashboard.api import build_dashboard_api
from orchestrator.dashboard.config import dashboard_settings
from orchestrator.dashboard.evidence import EvidenceFolder
from orchestrator.dashboard.guards import AuthGate, SecurityHeaders
from orchestrator.dashboard.identity import Identifier
from orchestrator.dashboard.metrics import build_metrics_router
from orchestrator.dashboard.queries.audit import ChainCheck
from orchestrator.dashboard.sessions import SessionManager
from orchestrator.dashboard.tables import ensure_schema
from orchestrator.dashboard.tokens import TokenRegistry
from orchestrator.dashboard.users import UserDirectory, UserError
from orchestrator.dashboard.wiring import HERE, Dashboard, build_templates, render
from orchestrator.errors import ConfigError, StoreUnavailable

ADMIN_PASSWORD_ENV = "RPA_ADMIN_PASSWORD"  # noqa: S105 - the variable's name, not a password  # nosec B105


def build_dashboard(context: Any) -> Dashboard:
    """The dashboard's parts over ``context`` (an ``orchestrator.api.app.ServiceContext``)."""
    runtime = context.runtime
    settings = dashboard_settings(runtime.settings)
    ensure_schema(runtime.store)
    users = UserDirectory(runtime.store, settings)
    tokens = TokenRegistry(runtime.store)
    sessions = SessionManager(runtime.store, settings)
    return Dashboard(
        context=context,
        settings=settings,
        users=users,
        tokens=tokens,
        sessions=sessions,
        identifier=Identifier(users, sessions, tokens),
        evidence=EvidenceFolder(runtime.settings.home / "evidence"),
        chain_check=ChainCheck(runtime.store),
        templates=build_templates(settings),
    )


def create_first_admin(dashboard: Dashboard) -> None:
    """With no user in the store: an administrator, announced once on standard error."""
    given = os.environ.get(ADMIN_PASSWORD_ENV) or None
    try:
        created, generated = dashboard.users.ensure_first_admin(given)
    except UserError as exc:
        raise ConfigError(f"{ADMIN_PASSWORD_ENV}: {exc}") from None
    name = dashboard.settings.admin_name
    if generated is not None:
        sys.stderr.write(
            f"first start: created the administrator {name!r} with the one-time password {generated}\n"
            "  (sign in and choose a new password; this is shown only once)\n"
        )
    elif created:
        sys.stderr.write(
            f"first start: created the administrator {name!r} (password from {ADMIN_PASSWORD_ENV})\n"
        )
    sys.stderr.flush()


def install_dashboard(app: FastAPI, context: Any) -> None:
    dashboard = build_dashboard(context)
    app.state.dashboard = dashboard
    create_first_admin(dashboard)

    def resolve_principal(request: Request) -> Principal | None:
        caller = getattr(request.state, "caller", None)
        return caller.principal if caller is not None else None

    app.state.resolve_principal = resolve_principal
    app.include_router(auth_pages.router)
    app.include_router(pages.router)
    app.include_router(build_dashboard_api())
    app.include_router(
        build_metrics_router(dashboard.store, timedelta(seconds=dashboard.settings.runner_stale_seconds))
    )
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        """People get a page, programs get JSON (the API's own errors keep their detail)."""
        wants_page = not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
            "accept", ""
        )
        if wants_page and getattr(request.state, "caller", None) is not None:
            return render(request, "error.html", status_code=exc.status_code, message=str(exc.detail))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(StoreUnavailable)
    async def _store_unavailable(request: Request, exc: StoreUnavailable) -> Response:
        """A page says so in the page (503); the API keeps its JSON and Retry-After."""
        retry = {"Retry-After": STORE_RETRY_AFTER}
        return await _http_error(request, HTTPException(503, store_unavailable_detail(exc), headers=retry))

    settings_tokens = lambda: context.runtime.settings.api_tokens  # noqa: E731 - read at each request
    app.add_middleware(
        AuthGate,
        identifier=dashboard.identifier,
        settings_tokens=settings_tokens,
        metrics_anonymous=dashboard.settings.metrics_anonymous,
    )
    app.add_middleware(SecurityHeaders)  # added last = outermost: every response gets the headers
