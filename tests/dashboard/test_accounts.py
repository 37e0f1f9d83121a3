"""Users, lockout, sessions and tokens on both store backends (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from orchestrator.api.security import Role
from orchestrator.dashboard.config import DashboardSettings
from orchestrator.dashboard.sessions import SessionManager, signing_key
from orchestrator.dashboard.tables import SessionRow, ensure_schema
from orchestrator.dashboard.tokens import TokenRegistry, required_scope
from orchestrator.dashboard.users import LoginOutcome, UserDirectory, UserError
from orchestrator.store.sql import utcnow


@pytest.fixture
def accounts(store: Any) -> tuple[Any, UserDirectory, SessionManager, TokenRegistry]:
    ensure_schema(store)
    settings = DashboardSettings(lockout_failures=3, lockout_minutes=15, session_idle_minutes=30)
    users = UserDirectory(store, settings)
    users.add("Olga", "operator-password", Role.operator, actor="tests")
    return store, users, SessionManager(store, settings), TokenRegistry(store)


def test_lockout_counts_failures_within_the_window(accounts: tuple[Any, ...]) -> None:
    store, users, _sessions, _tokens = accounts
    assert users.authenticate("OLGA", "operator-password", "10.0.0.1").outcome is LoginOutcome.ok
    outcomes = [users.authenticate("olga", "nope-nope-nope", "10.0.0.1").outcome for _ in range(3)]
    assert outcomes == [LoginOutcome.wrong, LoginOutcome.wrong, LoginOutcome.locked]
    locked = users.authenticate("olga", "operator-password", "10.0.0.2")
    assert locked.outcome is LoginOutcome.locked
    assert locked.until is not None
    assert locked.until - utcnow() > timedelta(minutes=14)
    users.unlock("olga", actor="tests")
    assert users.authenticate("olga", "operator-password", "10.0.0.1").outcome is LoginOutcome.ok
    kinds = [e.kind for e in store.audit_events(limit=1000)]
    assert kinds.count("login_failed") == 3
    assert kinds.count("login_locked") == 1
    assert kinds.count("login_refused_locked") == 1
    assert store.verify_audit().ok


def test_user_rules(accounts: tuple[Any, ...]) -> None:
    _store, users, _sessions, _tokens = accounts
    with pytest.raises(UserError, match="exists already"):
        users.add("olga", "another-password", Role.viewer, actor="tests")
    with pytest.raises(UserError, match="invalid user name"):
        users.add("olga smith", "another-password", Role.viewer, actor="tests")
    with pytest.raises(UserError, match="at least 12 characters"):
        users.set_password("olga", "short", actor="tests")
    users.add("root", "the-admin-password", Role.admin, actor="tests")
    with pytest.raises(UserError, match="last administrator"):
        users.remove("root", actor="tests")
    assert users.ensure_first_admin(None) == (False, None)  # users exist: nothing is created


def test_sessions_expire_when_idle_and_end_with_the_password(accounts: tuple[Any, ...]) -> None:
    store, users, sessions, _tokens = accounts
    cookie, session = sessions.start("olga", "10.0.0.1")
    assert sessions.resolve(cookie) == session
    assert sessions.resolve(cookie[:-2] + "xx") is None  # signature
    assert sessions.resolve("garbage") is None
    with store.writing() as conn:  # idle for 31 minutes
        conn.execute(update(SessionRow.__table__).values(seen_at=utcnow() - timedelta(minutes=31)))  # type: ignore[attr-defined]
    assert sessions.resolve(cookie) is None
    cookie, _session = sessions.start("olga", "10.0.0.1")
    users.set_password("olga", "a-brand-new-password", actor="tests")
    assert sessions.resolve(cookie) is None
    assert signing_key(store) == signing_key(store)  # one key per store, kept


def test_tokens_are_checked_by_hash_and_scope(accounts: tuple[Any, ...]) -> None:
    _store, _users, _sessions, tokens = accounts
    token = tokens.create("feeder", Role.operator, ["items:write", "read"], actor="tests")
    found = tokens.check(token)
    assert found is not None
    assert (found.name, found.role, found.scopes) == (
        "feeder",
        Role.operator,
        frozenset({"items:write", "read"}),
    )
    assert tokens.check(token + "x") is None
    assert tokens.check("rpat_" + "a" * 43) is None
    with pytest.raises(UserError, match="exists already"):
        tokens.create("feeder", Role.viewer, ["read"], actor="tests")
    tokens.revoke("feeder", actor="tests")
    assert tokens.check(token) is None
    assert required_scope("GET", "/api/items") == "read"
    assert required_scope("POST", "/api/bots/ledger/items") == "items:write"
    assert required_scope("POST", "/api/bots/ledger/items/batch") == "items:write"
    assert required_scope("POST", "/api/bots/ledger/items/other") is None
    assert required_scope("POST", "/api/manual/abc/reject") == "manual:act"
    assert required_scope("POST", "/api/manual/abc/approve") is None
    assert required_scope("GET", "/work/items") is None
    assert required_scope("DELETE", "/api/items/abc") is None
