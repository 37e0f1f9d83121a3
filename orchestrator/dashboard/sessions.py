"""Server-side sessions behind a signed cookie, and the CSRF tokens that go with them.

The cookie carries a random session id signed with a key kept in the store (itsdangerous);
the ``dashboard_sessions`` row keyed by the id's SHA-256 holds the user, the session's CSRF
token and its expiry — so signing out, removing a user or changing a password ends sessions
at once, on every server. Before sign-in, the login form is protected by a double-submit
token: a signed, timed cookie whose value must come back in the form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from starlette.responses import Response

from orchestrator.dashboard.config import DashboardSettings
from orchestrator.dashboard.tables import SessionRow, SigningKeyRow
from orchestrator.store.sql import SQLRunStore, aware, utcnow

SESSIONS = SessionRow.__table__  # type: ignore[attr-defined]
KEYS = SigningKeyRow.__table__  # type: ignore[attr-defined]

SESSION_COOKIE = "rpa_session"
LOGIN_COOKIE = "rpa_login"
LOGIN_FORM_MAX_AGE = 3600
_TOUCH_EVERY = timedelta(seconds=60)


def signing_key(store: SQLRunStore, name: str = "session") -> str:
    """The store's signing key ``name``, generated on first use (race-safe across servers)."""
    with store.reading() as conn:
        value = conn.execute(select(KEYS.c.value).where(KEYS.c.name == name)).scalar_one_or_none()
    if value is not None:
        return str(value)
    try:
        with store.writing() as conn:
            conn.execute(insert(KEYS).values(name=name, value=secrets.token_hex(32), created_at=utcnow()))
    except IntegrityError:
        pass  # another server made it first: use theirs
    with store.reading() as conn:
        return str(conn.execute(select(KEYS.c.value).where(KEYS.c.name == name)).scalar_one())


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Session:
    user: str
    csrf: str
    expires_at: datetime
    id_sha256: str


class SessionManager:
    """Start, resolve and end dashboard sessions."""

    def __init__(self, store: SQLRunStore, settings: DashboardSettings) -> None:
        self.store = store
        self.settings = settings
        key = signing_key(store)
        self._cookie = URLSafeSerializer(key, salt="rpa-dashboard-session")
        self._login = URLSafeTimedSerializer(key, salt="rpa-dashboard-login")

    @property
    def max_age(self) -> timedelta:
        return timedelta(hours=self.settings.session_max_hours)

    @property
    def idle(self) -> timedelta:
        return timedelta(minutes=self.settings.session_idle_minutes)

    def start(self, user: str, ip: str) -> tuple[str, Session]:
        """A new session for ``user``: (cookie value, session). A fresh id on every sign-in."""
        session_id = secrets.token_urlsafe(32)
        now = utcnow()
        session = Session(
            user=user,
            csrf=secrets.token_urlsafe(32),
            expires_at=now + self.max_age,
            id_sha256=_sha(session_id),
        )
        with self.store.writing() as conn:
            conn.execute(delete(SESSIONS).where(SESSIONS.c.expires_at < now))
            conn.execute(
                insert(SESSIONS).values(
                    id_sha256=session.id_sha256,
                    user=user,
                    csrf=session.csrf,
                    created_at=now,
                    seen_at=now,
                    expires_at=session.expires_at,
                    ip=ip[:64],
                )
            )
        return self._cookie.dumps(session_id), session

    def resolve(self, cookie_value: str | None) -> Session | None:
        """The live session named by the cookie, or None (bad signature, signed out, expired, idle)."""
        if not cookie_value:
            return None
        try:
            session_id = self._cookie.loads(cookie_value)
        except BadSignature:
            return None
        if not isinstance(session_id, str):
            return None
        digest = _sha(session_id)
        with self.store.reading() as conn:
            row = conn.execute(select(SESSIONS).where(SESSIONS.c.id_sha256 == digest)).first()
        if row is None:
            return None
        now = utcnow()
        seen = aware(row.seen_at)
        expires = aware(row.expires_at)
        assert seen is not None
        assert expires is not None
        if expires <= now or now - seen > self.idle:
            with self.store.writing() as conn:
                conn.execute(delete(SESSIONS).where(SESSIONS.c.id_sha256 == digest))
            return None
        if now - seen > _TOUCH_EVERY:  # at most one write a minute per session
            with self.store.writing() as conn:
                conn.execute(update(SESSIONS).where(SESSIONS.c.id_sha256 == digest).values(seen_at=now))
        return Session(user=row.user, csrf=row.csrf, expires_at=expires, id_sha256=digest)

    def end(self, session: Session) -> None:
        with self.store.writing() as conn:
            conn.execute(delete(SESSIONS).where(SESSIONS.c.id_sha256 == session.id_sha256))

    # -- the login form's double-submit token ---------------------------------------------
    def login_form_token(self) -> tuple[str, str]:
        """(cookie value, form value) for the login form."""
        token = secrets.token_urlsafe(24)
        return self._login.dumps(token), token

    def check_login_form(self, cookie_value: str | None, form_value: str | None) -> bool:
        if not cookie_value or not form_value:
            return False
        try:
            token = self._login.loads(cookie_value, max_age=LOGIN_FORM_MAX_AGE)
        except BadSignature:
            return False
        return isinstance(token, str) and hmac.compare_digest(token, form_value)

    # -- cookies ------------------------------------------------------------------------------
    def set_cookie(self, response: Response, name: str, value: str, *, secure: bool, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            httponly=True,
            samesite="lax",
            secure=secure or self.settings.cookie_secure,
        )

    def clear_cookie(self, response: Response, name: str, *, secure: bool) -> None:
        response.delete_cookie(
            name, path="/", httponly=True, samesite="lax", secure=secure or self.settings.cookie_secure
        )


def csrf_matches(session: Session, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(session.csrf, presented or "")
