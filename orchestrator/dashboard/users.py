"""Dashboard users: roles, argon2 passwords, sign-in with per-account lockout and per-address limit.

Every change to a user and every sign-in (succeeded, failed, refused, locked) is appended to
the audit trail in the same transaction as the change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from orchestrator.api.security import Role
from orchestrator.dashboard.config import DashboardSettings
from orchestrator.dashboard.passwords import (
    hash_password,
    needs_rehash,
    one_time_password,
    password_problem,
    verify_password,
)
from orchestrator.dashboard.tables import FailedLoginRow, SessionRow, UserRow
from orchestrator.errors import RpaError
from orchestrator.models import AuditEvent
from orchestrator.store.sql import SQLRunStore, aware, utcnow

USERS = UserRow.__table__  # type: ignore[attr-defined]
FAILED = FailedLoginRow.__table__  # type: ignore[attr-defined]
SESSIONS = SessionRow.__table__  # type: ignore[attr-defined]

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")


class UserError(RpaError):
    """A user cannot be added, changed or removed as asked."""


def parse_role(value: str) -> Role:
    try:
        return Role[value.strip().lower()]
    except KeyError:
        raise UserError(
            f"unknown role {value!r}: expected one of {', '.join(r.name for r in Role)}"
        ) from None


def normalise_name(name: str) -> str:
    """User names are case-insensitive (the four-eyes check compares them so)."""
    cleaned = name.strip().lower()
    if not NAME_PATTERN.fullmatch(cleaned):
        raise UserError(
            f"invalid user name {name[:80]!r}: use 1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    return cleaned


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    must_change_password: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime | None


class LoginOutcome(StrEnum):
    ok = "ok"
    wrong = "wrong"  # unknown user or wrong password (not told apart)
    locked = "locked"  # too many failures for this account
    throttled = "throttled"  # too many failures from this address


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None
    until: datetime | None = None


def _user(row: Any) -> User:
    return User(
        name=row.name,
        role=Role[row.role],
        must_change_password=bool(row.must_change_password),
        locked_until=aware(row.locked_until),
        last_login_at=aware(row.last_login_at),
        created_at=aware(row.created_at),
    )


class UserDirectory:
    """Users of the dashboard in the store's database."""

    def __init__(self, store: SQLRunStore, settings: DashboardSettings) -> None:
        self.store = store
        self.settings = settings

    # -- reading -----------------------------------------------------------------------
    def get(self, name: str) -> User | None:
        with self.store.reading() as conn:
            row = conn.execute(select(USERS).where(USERS.c.name == name.strip().lower())).first()
        return _user(row) if row else None

    def list(self) -> list[User]:
        with self.store.reading() as conn:
            return [_user(r) for r in conn.execute(select(USERS).order_by(USERS.c.name)).all()]

    def count(self) -> int:
        with self.store.reading() as conn:
            return int(conn.execute(select(func.count()).select_from(USERS)).scalar_one())

    # -- changing ----------------------------------------------------------------------
    def add(self, name: str, password: str, role: Role, *, actor: str, must_change: bool = False) -> User:
        name = normalise_name(name)
        problem = password_problem(password)
        if problem:
            raise UserError(problem)
        now = utcnow()
        with self.store._tx_with_audit() as (conn, append):
            if conn.execute(select(USERS.c.name).where(USERS.c.name == name)).first() is not None:
                raise UserError(f"user {name} exists already (remove it first, or use 'rpa users passwd')")
            conn.execute(
                insert(USERS).values(
                    name=name,
                    password_hash=hash_password(password),
                    role=role.name,
                    must_change_password=must_change,
                    failed_logins=0,
                    created_at=now,
                    updated_at=now,
                )
            )
            append(
                AuditEvent(kind="user_added", actor=actor, at=now, payload={"user": name, "role": role.name})
            )
        user = self.get(name)
        assert user is not None
        return user

    def set_password(self, name: str, password: str, *, actor: str, must_change: bool = False) -> None:
        """Change a password; the user's other sessions end (a stolen session dies with it)."""
        name = normalise_name(name)
        problem = password_problem(password)
        if problem:
            raise UserError(problem)
        now = utcnow()
        with self.store._tx_with_audit() as (conn, append):
            changed = conn.execute(
                update(USERS)
                .where(USERS.c.name == name)
                .values(
                    password_hash=hash_password(password),
                    must_change_password=must_change,
                    failed_logins=0,
                    first_failed_at=None,
                    locked_until=None,
                    updated_at=now,
                )
            ).rowcount
            if not changed:
                raise UserError(f"no user named {name}")
            conn.execute(delete(SESSIONS).where(SESSIONS.c.user == name))
            append(AuditEvent(kind="user_password_changed", actor=actor, at=now, payload={"user": name}))

    def set_role(self, name: str, role: Role, *, actor: str) -> None:
        name = normalise_name(name)
        now = utcnow()
        with self.store._tx_with_audit() as (conn, append):
            changed = conn.execute(
                update(USERS).where(USERS.c.name == name).values(role=role.name, updated_at=now)
            ).rowcount
            if not changed:
                raise UserError(f"no user named {name}")
            append(
                AuditEvent(
                    kind="user_role_changed", actor=actor, at=now, payload={"user": name, "role": role.name}
                )
            )

    def remove(self, name: str, *, actor: str) -> None:
        name = normalise_name(name)
        now = utcnow()
        with self.store._tx_with_audit() as (conn, append):
            row = conn.execute(select(USERS).where(USERS.c.name == name)).first()
            if row is None:
                raise UserError(f"no user named {name}")
            if row.role == Role.admin.name:
                admins = conn.execute(
                    select(func.count()).select_from(USERS).where(USERS.c.role == Role.admin.name)
                ).scalar_one()
                if admins <= 1:
                    raise UserError(f"{name} is the last administrator; add another one first")
            conn.execute(delete(SESSIONS).where(SESSIONS.c.user == name))
            conn.execute(delete(USERS).where(USERS.c.name == name))
            append(AuditEvent(kind="user_removed", actor=actor, at=now, payload={"user": name}))

    def unlock(self, name: str, *, actor: str) -> None:
        name = normalise_name(name)
        now = utcnow()
        with self.store._tx_with_audit() as (conn, append):
            changed = conn.execute(
                update(USERS)
                .where(USERS.c.name == name)
                .values(failed_logins=0, first_failed_at=None, locked_until=None, updated_at=now)
            ).rowcount
            if not changed:
                raise UserError(f"no user named {name}")
            append(AuditEvent(kind="user_unlocked", actor=actor, at=now, payload={"user": name}))

    def ensure_first_admin(self, password: str | None) -> tuple[bool, str | None]:
        """Create the first administrator when there is no user at all.

        Returns (created, one-time password): the password is generated (to print once, and
        to be changed at first sign-in) when ``password`` (``RPA_ADMIN_PASSWORD``) is None.
        """
        if self.count() > 0:
            return False, None
        generated = password is None
        secret = one_time_password() if password is None else password
        try:
            self.add(self.settings.admin_name, secret, Role.admin, actor="first-start", must_change=generated)
        except UserError:
            if self.count() > 0:  # another server created it at the same moment
                return False, None
            raise
        return True, secret if generated else None

    # -- signing in ---------------------------------------------------------------------
    def authenticate(self, name: str, password: str, ip: str) -> LoginResult:
        """Check a sign-in; failures count towards the account's lockout and the address's limit."""
        attempted = name.strip().lower()[:64]
        now = utcnow()
        window = timedelta(minutes=self.settings.lockout_minutes)
        with self.store.reading() as conn:
            from_address = conn.execute(
                select(func.count()).select_from(FAILED).where(FAILED.c.ip == ip, FAILED.c.at >= now - window)
            ).scalar_one()
            row = conn.execute(select(USERS).where(USERS.c.name == attempted)).first()
        if from_address >= self.settings.address_failures:
            self._audit("login_throttled", attempted, {"ip": ip, "failures_from_address": from_address})
            return LoginResult(LoginOutcome.throttled, until=now + window)
        locked_until = aware(row.locked_until) if row is not None else None
        if locked_until is not None and locked_until > now:
            self._record_failure(attempted, ip, now, None, kind="login_refused_locked")
            return LoginResult(LoginOutcome.locked, until=locked_until)
        if not verify_password(row.password_hash if row is not None else None, password):
            locked = self._record_failure(attempted, ip, now, row)
            if locked is not None:
                return LoginResult(LoginOutcome.locked, until=locked)
            return LoginResult(LoginOutcome.wrong)
        with self.store._tx_with_audit() as (conn, append):
            values: dict[str, Any] = {
                "failed_logins": 0,
                "first_failed_at": None,
                "locked_until": None,
                "last_login_at": now,
            }
            if needs_rehash(row.password_hash):
                values["password_hash"] = hash_password(password)
            conn.execute(update(USERS).where(USERS.c.name == attempted).values(**values))
            append(AuditEvent(kind="login_succeeded", actor=attempted, at=now, payload={"ip": ip}))
        self.forget_old_failures()
        user = self.get(attempted)
        return LoginResult(LoginOutcome.ok, user=user)

    def _record_failure(
        self, attempted: str, ip: str, now: datetime, row: Any, kind: str = "login_failed"
    ) -> datetime | None:
        """Count a failure (audited as ``kind``); returns the lock's end when it locked the account."""
        window = timedelta(minutes=self.settings.lockout_minutes)
        locked: datetime | None = None
        with self.store._tx_with_audit() as (conn, append):
            conn.execute(insert(FAILED).values(ip=ip, user=attempted, at=now))
            if row is not None:
                query = select(USERS).where(USERS.c.name == attempted)
                if not self.store.is_sqlite:
                    query = query.with_for_update()
                current = conn.execute(query).first()
                if current is not None:
                    first = aware(current.first_failed_at)
                    if first is None or first < now - window:
                        failures, first = 1, now
                    else:
                        failures = current.failed_logins + 1
                    values: dict[str, Any] = {"failed_logins": failures, "first_failed_at": first}
                    if failures >= self.settings.lockout_failures:
                        locked = now + window
                        values.update(locked_until=locked, failed_logins=0, first_failed_at=None)
                    conn.execute(update(USERS).where(USERS.c.name == attempted).values(**values))
            append(AuditEvent(kind=kind, actor=attempted, at=now, payload={"ip": ip}))
            if locked is not None:
                append(
                    AuditEvent(
                        kind="login_locked",
                        actor=attempted,
                        at=now,
                        payload={
                            "ip": ip,
                            "failures": self.settings.lockout_failures,
                            "locked_until": locked,
                        },
                    )
                )
        return locked

    def _audit(self, kind: str, actor: str, payload: dict[str, Any]) -> None:
        self.store.append_audit([AuditEvent(kind=kind, actor=actor or "?", at=utcnow(), payload=payload)])

    def forget_old_failures(self, older_than: timedelta = timedelta(days=1)) -> int:
        """Drop address-limit rows older than ``older_than`` (the audit trail keeps the history)."""
        with self.store.writing() as conn:
            return int(conn.execute(delete(FAILED).where(FAILED.c.at < utcnow() - older_than)).rowcount)
