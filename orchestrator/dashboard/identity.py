"""Who is calling: a dashboard session, a stored API token, or a token from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from orchestrator.api.security import Principal, principal_from_token
from orchestrator.dashboard.sessions import SESSION_COOKIE, Session, SessionManager
from orchestrator.dashboard.tokens import TokenRegistry
from orchestrator.dashboard.users import UserDirectory


@dataclass(frozen=True)
class Caller:
    """An identified caller: the principal the API checks roles on, and how they came in."""

    principal: Principal
    session: Session | None = None
    scopes: frozenset[str] | None = None  # a stored token's scopes; None = not narrowed
    must_change_password: bool = False


def client_address(request: Request) -> str:
    return request.client.host if request.client else "?"


class Identifier:
    """Resolve the caller of a request (one session or token lookup per request)."""

    def __init__(self, users: UserDirectory, sessions: SessionManager, tokens: TokenRegistry) -> None:
        self.users = users
        self.sessions = sessions
        self.tokens = tokens

    def identify(self, request: Request, settings_tokens: dict[str, dict[str, str]]) -> Caller | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            # a bearer token wins over a cookie: a cross-site page cannot set this header
            presented = header[7:].strip()
            token = self.tokens.check(presented)
            if token is not None:
                # "token:<name>": a machine never acts (or approves, four-eyes) under a person's name
                principal = Principal(user=f"token:{token.name}", role=token.role, via="token")
                return Caller(principal=principal, scopes=token.scopes)
            configured = principal_from_token(request, settings_tokens)
            return Caller(principal=configured) if configured is not None else None
        session = self.sessions.resolve(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return None
        user = self.users.get(session.user)
        if user is None:  # removed while signed in
            self.sessions.end(session)
            return None
        return Caller(
            principal=Principal(user=user.name, role=user.role, via="session"),
            session=session,
            must_change_password=user.must_change_password,
        )
