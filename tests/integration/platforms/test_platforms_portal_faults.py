"""The portal's fault injection and session expiry, against a real uvicorn subprocess."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from platforms_harness import new_reference, page, post_credit, text_of, wait_until

from examples.platforms.launch import run_platform


def test_fail_next_fails_that_many_page_requests_but_not_health_or_api(portal_client: httpx.Client) -> None:
    portal_client.post("/_faults", json={"fail_next": 2}).raise_for_status()

    assert portal_client.get("/health").status_code == 200
    assert portal_client.get("/api/credits").status_code == 200
    statuses = [portal_client.get("/credits/new").status_code for _ in range(3)]

    assert statuses == [500, 500, 200]
    assert portal_client.get("/_faults").json()["fail_next"] == 0


def test_a_failure_before_handling_records_nothing(portal_client: httpx.Client) -> None:
    reference = new_reference()
    portal_client.post("/_faults", json={"fail_next": 1}).raise_for_status()

    assert post_credit(portal_client, reference=reference).status_code == 500
    assert portal_client.get(f"/api/credits/{reference}").status_code == 404


def test_a_failure_after_handling_records_the_credit_but_answers_500(portal_client: httpx.Client) -> None:
    reference = new_reference()
    portal_client.post("/_faults", json={"fail_next": 1, "fail_phase": "after"}).raise_for_status()

    response = post_credit(portal_client, reference=reference)

    assert response.status_code == 500
    assert "Credit posted" not in response.text
    [recorded] = portal_client.get("/api/credits", params={"reference": reference}).json()
    assert recorded["reference"] == reference


def test_fail_rate_with_a_seed_repeats_the_same_failures(portal_client: httpx.Client) -> None:
    def outcomes() -> list[int]:
        portal_client.post("/_faults", json={"fail_rate": 0.5, "seed": 42}).raise_for_status()
        return [portal_client.get("/credits/new").status_code for _ in range(16)]

    first, second = outcomes(), outcomes()

    assert first == second
    assert set(first) == {200, 500}
    state = portal_client.get("/_faults").json()
    assert (state["fail_rate"], state["seed"]) == (0.5, 42)


def test_fail_rate_one_fails_every_page(portal_client: httpx.Client) -> None:
    portal_client.post("/_faults", json={"fail_rate": 1.0}).raise_for_status()

    assert {portal_client.get(path).status_code for path in ["/", "/credits/new", "/login"]} == {500}


def test_expire_sessions_sends_signed_in_users_back_to_login_once(portal_client: httpx.Client) -> None:
    assert portal_client.get("/credits/new").status_code == 200

    state = portal_client.post("/_faults", json={"expire_sessions": True}).json()

    response = portal_client.get("/credits/new")
    assert response.status_code == 303
    assert httpx.URL(response.headers["location"]).params["expired"] == "1"
    login = page(portal_client.get(response.headers["location"]))
    assert text_of(login, "//*[@id='session-expired']") == ["Your session has expired. Please sign in again."]
    portal_client.post("/login", data={"username": "bot", "password": "bot-password"})
    assert portal_client.get("/credits/new").status_code == 200  # only the sessions of that moment
    assert portal_client.get("/_faults").json()["sessions_expired"] == state["sessions_expired"]


def test_slow_ms_holds_page_requests_but_not_health(portal_client: httpx.Client) -> None:
    portal_client.post("/_faults", json={"slow_ms": 400}).raise_for_status()

    started = time.monotonic()
    assert portal_client.get("/credits/new").status_code == 200
    held = time.monotonic() - started

    # A lower bound only: the injected delay is a minimum, never a speed claim.
    assert held >= 0.4
    assert portal_client.get("/_faults").json()["slow_ms"] == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [({"fail_rate": 1.5}, "fail_rate"), ({"fail_next": -1}, "fail_next"), ({"fail_nxt": 1}, "fail_nxt")],
)
def test_bad_fault_settings_are_refused_with_the_field(
    portal_client: httpx.Client, body: dict[str, object], field: str
) -> None:
    response = portal_client.post("/_faults", json=body)

    assert response.status_code == 422
    assert [error["loc"][-1] for error in response.json()["detail"]] == [field]


def test_sessions_expire_after_their_time_to_live(tmp_path: Path) -> None:
    with (
        run_platform("portal", data_dir=tmp_path, session_ttl_s=0.5) as portal,
        httpx.Client(base_url=portal.base_url) as client,
    ):
        client.post("/login", data={"username": "bot", "password": "bot-password"})
        assert client.get("/credits/new").status_code == 200

        expired = wait_until(
            lambda: (r := client.get("/credits/new")).status_code == 303 and r, "the session to expire"
        )

        assert httpx.URL(expired.headers["location"]).params["expired"] == "1"


def test_stray_requests_do_not_use_up_fail_next(portal_client: httpx.Client) -> None:
    portal_client.post("/_faults", json={"fail_next": 1}).raise_for_status()

    assert portal_client.get("/favicon.ico").status_code == 404

    assert portal_client.get("/credits/new").status_code == 500
