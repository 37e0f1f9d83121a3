"""Sign-in, sessions, CSRF, roles, lockout, tokens and security headers of the real app.

Each test builds the real application (``create_app`` with the dashboard) over its own store
and talks to it in process; the served, browser-driven checks are in test_browser.py.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dash_helpers import (
    PASSWORDS,
    client_for,
    form_token,
    isolated_app,
    sign_in_testclient,
    write_bots,
)
from sqlalchemy import text

from orchestrator.api.security import Role, token_digest
from orchestrator.dashboard.tokens import TokenRegistry
from orchestrator.dashboard.users import UserDirectory
from orchestrator.errors import ConfigError
from orchestrator.queue.service import publish_bots

ANONYMOUS_API = [
    "/api/items",
    "/api/runs",
    "/api/dashboard/overview",
    "/api/dashboard/manual",
    "/metrics",
    "/openapi.json",
]
ANONYMOUS_PAGES = [
    "/",
    "/work/items",
    "/work/runs/abc",
    "/work/manual",
    "/audit",
    "/system",
    "/docs",
    "/evidence/abc/x.png",
]


@pytest.fixture
def app_runtime(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    app, runtime = isolated_app(tmp_path)
    yield app, runtime
    asyncio.run(runtime.aclose())


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """One app for the tests that change no user (argon2 hashing of the users costs seconds)."""
    app, runtime = isolated_app(tmp_path_factory.mktemp("shared"))
    yield app, runtime
    asyncio.run(runtime.aclose())


@pytest.fixture
def client(shared_app: tuple[Any, Any]) -> Any:
    return client_for(shared_app[0])


def _csrf(client: Any) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/work/manual").text)
    assert match, "a signed-in page carries the CSRF token"
    return match.group(1)


def _audit_kinds(runtime: Any) -> list[str]:
    return [e.kind for e in runtime.store.audit_events(limit=10_000)]


def test_only_health_login_and_static_files_are_anonymous(client: Any) -> None:
    assert client.get("/api/health").status_code == 200
    assert client.get("/login").status_code == 200
    assert client.get("/static/app.css").status_code == 200
    for path in ANONYMOUS_API:
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"
    for path in ANONYMOUS_PAGES:
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next="), path
    assert client.post("/api/bots/x/items", json={"reference": "r"}).status_code == 401
    assert client.post("/work/manual/x/retry", data={}).status_code == 303


def test_security_headers_on_every_kind_of_response(client: Any) -> None:
    responses = [
        client.get("/login"),
        client.get("/api/health"),
        client.get("/api/items"),
        client.get("/"),
        client.get("/static/overview.js"),
    ]
    assert sign_in_testclient(client, "olga").status_code == 303
    responses += [
        client.get("/"),
        client.get("/api/dashboard/overview"),
        client.get("/no/such/page"),
        client.post("/logout"),
    ]  # the last one: 403, no CSRF token
    for response in responses:
        headers = response.headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp, response.url
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["x-frame-options"] == "DENY"
    assert responses[-1].status_code == 403
    assert responses[1].headers["cache-control"] == "no-store"


def test_pages_have_no_inline_script_or_style(client: Any) -> None:
    sign_in_testclient(client, "olga")
    for path in [
        "/login",
        "/",
        "/work/items",
        "/work/runs",
        "/work/manual",
        "/audit",
        "/system",
        "/account/password",
    ]:
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert " style=" not in html, path
        assert "<style" not in html, path


def test_session_cookie_is_httponly_samesite_and_secure_over_tls(
    tmp_path: Path, shared_app: tuple[Any, Any]
) -> None:
    plain = client_for(shared_app[0])
    cookie = sign_in_testclient(plain, "olga").headers["set-cookie"]
    assert "rpa_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie
    tls = client_for(shared_app[0], base_url="https://testserver")
    assert "Secure" in sign_in_testclient(tls, "olga").headers["set-cookie"]
    forced, runtime = isolated_app(tmp_path / "forced", cookie_secure=True)
    try:
        assert "Secure" in sign_in_testclient(client_for(forced), "olga").headers["set-cookie"]
    finally:
        asyncio.run(runtime.aclose())


def test_the_login_form_needs_its_own_token(shared_app: tuple[Any, Any]) -> None:
    app = shared_app[0]
    attacker, victim = client_for(app), client_for(app)
    stolen = form_token(attacker.get("/login").text)
    form = {"username": "olga", "password": PASSWORDS["olga"], "next": "/"}
    assert victim.post("/login", data=form).status_code == 403  # no token
    assert (
        victim.post("/login", data={**form, "csrf_token": stolen}).status_code == 403
    )  # not the victim's cookie
    victim.get("/login")
    assert victim.post("/login", data={**form, "csrf_token": "forged"}).status_code == 403


def test_state_changing_requests_need_the_session_csrf_token(shared_app: tuple[Any, Any]) -> None:
    client = client_for(shared_app[0])
    sign_in_testclient(client, "olga")
    token = _csrf(client)
    # without or with a wrong token: refused before any route runs
    assert client.post("/api/manual/nope/retry", json={}).status_code == 403
    assert (
        client.post("/api/manual/nope/retry", json={}, headers={"x-csrf-token": "wrong"}).status_code == 403
    )
    assert client.post("/work/manual/nope/retry", data={"csrf_token": "wrong"}).status_code == 403
    assert client.post("/logout", data={}).status_code == 403
    other = client_for(shared_app[0])
    sign_in_testclient(other, "admin")
    assert (
        client.post("/api/manual/nope/retry", json={}, headers={"x-csrf-token": _csrf(other)}).status_code
        == 403
    )
    # with the session's token: the request reaches the route (no such run)
    assert client.post("/api/manual/nope/retry", json={}, headers={"x-csrf-token": token}).status_code == 404
    assert client.post("/work/manual/nope/retry", data={"csrf_token": token}).status_code == 404
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303


def test_viewers_get_403_from_every_action(shared_app: tuple[Any, Any]) -> None:
    client = client_for(shared_app[0])
    sign_in_testclient(client, "vera")
    token = _csrf(client)
    headers = {"x-csrf-token": token}
    assert client.get("/api/dashboard/overview").status_code == 200
    assert client.post("/api/manual/nope/retry", json={}, headers=headers).status_code == 403
    assert (
        client.post("/api/bots/ledger-bot/items", json={"reference": "X"}, headers=headers).status_code == 403
    )
    assert client.post("/work/manual/nope/resume", data={"csrf_token": token}).status_code == 403
    assert client.get("/api/dashboard/me").json() == {"user": "vera", "role": "viewer", "via": "session"}


def test_an_account_locks_after_five_failures_and_the_audit_trail_says_so(
    app_runtime: tuple[Any, Any],
) -> None:
    app, runtime = app_runtime
    client = client_for(app)
    statuses = [sign_in_testclient(client, "olga", "wrong-password-123").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    locked = sign_in_testclient(client, "olga")  # the right password, refused while locked
    assert locked.status_code == 423
    assert "locked" in locked.text
    kinds = _audit_kinds(runtime)
    assert kinds.count("login_failed") == 5
    assert kinds.count("login_locked") == 1
    assert "login_refused_locked" in kinds
    assert "login_succeeded" not in kinds
    users = UserDirectory(runtime.store, app.state.dashboard.settings)
    users.unlock("olga", actor="tests")
    assert sign_in_testclient(client, "olga").status_code == 303
    assert runtime.store.verify_audit().ok


def test_failures_from_one_address_are_throttled(tmp_path: Path) -> None:
    app, runtime = isolated_app(tmp_path, address_failures=3, lockout_failures=50)
    try:
        client = client_for(app)
        codes = [sign_in_testclient(client, f"nobody{n}", "whatever-password").status_code for n in range(4)]
        assert codes == [401, 401, 401, 429]
        assert sign_in_testclient(client, "olga").status_code == 429  # even a good password, for a while
        assert "login_throttled" in _audit_kinds(runtime)
    finally:
        asyncio.run(runtime.aclose())


def test_tokens_act_only_within_their_scopes(tmp_path: Path, app_runtime: tuple[Any, Any]) -> None:
    app, runtime = app_runtime
    publish_bots(runtime, app.state.context.queue, write_bots(tmp_path))
    tokens = TokenRegistry(runtime.store)
    reader = tokens.create("reader", Role.viewer, ["read"], actor="tests")
    feeder = tokens.create("feeder", Role.operator, ["items:write"], actor="tests")
    weak_feeder = tokens.create("weak", Role.viewer, ["items:write"], actor="tests")
    client = client_for(app)

    def call(method: str, path: str, token: str, **kw: Any) -> int:
        return client.request(method, path, headers={"authorization": f"Bearer {token}"}, **kw).status_code

    assert call("GET", "/api/dashboard/overview", reader) == 200
    assert call("GET", "/metrics", reader) == 200
    assert (
        call(
            "POST",
            "/api/bots/ledger-bot/items",
            reader,
            json={"reference": "T-1", "inputs": {"reference": "T-1"}},
        )
        == 403
    )
    assert call("GET", "/", reader) == 403  # pages are for people
    assert (
        call(
            "POST",
            "/api/bots/ledger-bot/items",
            feeder,
            json={"reference": "T-1", "inputs": {"reference": "T-1"}},
        )
        == 201
    )
    assert call("GET", "/api/dashboard/overview", feeder) == 403  # no read scope
    assert call("POST", "/api/manual/x/retry", feeder, json={}) == 403
    actor = tokens.create("actor", Role.admin, ["manual:act"], actor="tests")
    assert call("POST", "/api/manual/x/retry", actor, json={}) == 404  # allowed through; no such run
    assert call("POST", "/api/manual/x/approve", actor, json={}) == 403  # four-eyes needs a person
    assert (
        call("POST", "/api/bots/ledger-bot/items", weak_feeder, json={"reference": "T-2"}) == 403
    )  # role too low
    assert call("GET", "/api/items", "rpat_not-a-token") == 401
    tokens.revoke("reader", actor="tests")
    assert call("GET", "/api/dashboard/overview", reader) == 401
    with runtime.store.reading() as conn:
        stored = " ".join(
            str(v) for row in conn.execute(text("SELECT * FROM dashboard_tokens")).all() for v in row
        )
    assert feeder not in stored
    assert feeder[5:] not in stored
    assert token_digest(feeder) in stored
    item = app.state.context.queue.find_item("ledger-bot", "T-1")
    assert item.created_by == "token:feeder"  # never a person's name


def test_tokens_from_the_settings_still_work(tmp_path: Path) -> None:
    secret = "configured-machine-token"
    app, runtime = isolated_app(
        tmp_path, settings_extra={"api_tokens": {"ci": {"sha256": token_digest(secret), "role": "viewer"}}}
    )
    try:
        client = client_for(app)
        assert client.get("/api/bots", headers={"authorization": f"Bearer {secret}"}).status_code == 200
        assert client.get("/api/bots", headers={"authorization": "Bearer other"}).status_code == 401
    finally:
        asyncio.run(runtime.aclose())


def test_first_start_creates_an_admin_with_a_one_time_password(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RPA_ADMIN_PASSWORD", raising=False)
    app, runtime = isolated_app(tmp_path, users=False)
    try:
        printed = capfd.readouterr().err
        match = re.search(r"administrator 'admin' with the one-time password (\S+)", printed)
        assert match, printed
        one_time = match.group(1)
        client = client_for(app)
        response = sign_in_testclient(client, "admin", one_time)
        assert response.headers["location"] == "/account/password"
        assert client.get("/").headers["location"] == "/account/password"
        assert client.get("/api/dashboard/overview").status_code == 403
        page = client.get("/account/password")
        assert "one-time password" in page.text
        token = form_token(page.text)
        new = "my-own-admin-password"
        short = client.post(
            "/account/password",
            data={"csrf_token": token, "current": one_time, "new": "short", "repeat": "short"},
        )
        assert short.status_code == 400
        changed = client.post(
            "/account/password", data={"csrf_token": token, "current": one_time, "new": new, "repeat": new}
        )
        assert changed.status_code == 303
        assert client.get("/").status_code == 200
        fresh = client_for(app)
        assert sign_in_testclient(fresh, "admin", one_time).status_code == 401
        assert sign_in_testclient(fresh, "admin", new).headers["location"] == "/"
    finally:
        asyncio.run(runtime.aclose())
    # a second start prints nothing: the administrator exists
    _again, runtime2 = isolated_app(tmp_path, users=False)
    asyncio.run(runtime2.aclose())
    assert "one-time" not in capfd.readouterr().err


def test_admin_password_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RPA_ADMIN_PASSWORD", "too-short")
    with pytest.raises(ConfigError, match="RPA_ADMIN_PASSWORD: a password needs at least 12 characters"):
        isolated_app(tmp_path / "weak", users=False)
    monkeypatch.setenv("RPA_ADMIN_PASSWORD", "a-good-admin-password")
    app, runtime = isolated_app(tmp_path / "good", users=False)
    try:
        response = sign_in_testclient(client_for(app), "admin", "a-good-admin-password")
        assert response.headers["location"] == "/"  # no forced change: the operator chose it
    finally:
        asyncio.run(runtime.aclose())


def test_signing_out_removing_a_user_or_changing_a_password_ends_sessions(
    app_runtime: tuple[Any, Any],
) -> None:
    app, runtime = app_runtime
    client = client_for(app)
    sign_in_testclient(client, "olga")
    cookie = client.cookies["rpa_session"]
    assert client.post("/logout", data={"csrf_token": _csrf(client)}).status_code == 303
    replay = client_for(app)
    replay.cookies.set("rpa_session", cookie)
    assert replay.get("/").status_code == 303  # the old cookie is dead on the server
    users = UserDirectory(runtime.store, app.state.dashboard.settings)
    second = client_for(app)
    sign_in_testclient(second, "olga")
    users.set_password("olga", "a-new-password-for-olga", actor="tests")
    assert second.get("/").status_code == 303
    third = client_for(app)
    sign_in_testclient(third, "vera")
    users.remove("vera", actor="tests")
    assert third.get("/api/dashboard/overview").status_code == 401
    tampered = client_for(app)
    tampered.cookies.set("rpa_session", cookie[:-3] + "abc")
    assert tampered.get("/api/dashboard/overview").status_code == 401


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_sign_in_never_redirects_off_site(client: Any, target: str) -> None:
    assert sign_in_testclient(client, "olga", next_path=target).headers["location"] == "/"


def test_sign_in_returns_to_the_page_asked_for(client: Any) -> None:
    first = client.get("/work/items?bot=x")
    assert first.headers["location"] == "/login?next=%2Fwork%2Fitems%3Fbot%3Dx"
    assert (
        sign_in_testclient(client, "olga", next_path="/work/items?bot=x").headers["location"]
        == "/work/items?bot=x"
    )
