"""The HTTP API over a real store: auth by role, idempotent enqueue, manual actions, OpenAPI."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from queue_helpers import published_queue

from orchestrator.api.app import ServiceContext, create_app
from orchestrator.api.security import token_digest
from orchestrator.bootstrap import build_runtime
from orchestrator.queue.manual import ManualQueue
from orchestrator.queue.models import ItemStatus
from orchestrator.queue.worker import Worker
from orchestrator.settings import Settings

TOKENS = {"ops": ("operator-token-123", "operator"), "watch": ("viewer-token-456", "viewer")}


@pytest.fixture
def client(sqlite_store, tmp_path: Path):
    settings = Settings(
        home=tmp_path / ".rpa",
        db_url=sqlite_store.url,
        work_dir=tmp_path,
        poll_interval=0.05,
        api_tokens={
            name: {"sha256": token_digest(tok), "role": role, "user": name}
            for name, (tok, role) in TOKENS.items()
        },
    )
    runtime = build_runtime(settings)
    queue = published_queue(runtime.store, tmp_path)
    context = ServiceContext(
        runtime=runtime, queue=queue, manual=ManualQueue(runtime.store, queue, runtime.registry)
    )
    with TestClient(create_app(context)) as test_client:
        test_client.runtime = runtime
        test_client.queue = queue
        yield test_client
    asyncio.run(runtime.aclose())


def _auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[name][0]}"}


def test_only_health_is_anonymous(client) -> None:
    assert client.get("/api/health").status_code == 200
    assert client.get("/api/items").status_code == 401
    assert client.get("/api/items", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/items", headers=_auth("watch")).status_code == 200


def test_enqueue_is_idempotent_and_needs_the_operator_role(client) -> None:
    body = {"reference": "API-1", "inputs": {"reference": "API-1", "amount": "5.00"}}
    assert client.post("/api/bots/ledger-bot/items", json=body, headers=_auth("watch")).status_code == 403
    first = client.post("/api/bots/ledger-bot/items", json=body, headers=_auth("ops"))
    again = client.post("/api/bots/ledger-bot/items", json=body, headers=_auth("ops"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["item"]["id"] == again.json()["item"]["id"]
    assert first.json()["item"]["created_by"] == "ops"
    assert client.post("/api/bots/nope/items", json=body, headers=_auth("ops")).status_code == 404
    assert (
        client.post("/api/bots/ledger-bot/items", json={"inputs": {}}, headers=_auth("ops")).status_code
        == 422
    )
    assert len(client.get("/api/duplicates", headers=_auth("watch")).json()) == 1


def test_deadline_and_postponement_need_their_utc_offset(client) -> None:
    """A time without an offset is ambiguous (the bank's local time? UTC?): refused, with why."""
    url = "/api/bots/ledger-bot/items"
    for field in ("deadline", "not_before"):
        body = {"reference": f"T-{field}", "inputs": {"reference": "T"}, field: "2026-11-28T18:00:00"}
        refused = client.post(url, json=body, headers=_auth("ops"))
        assert refused.status_code == 422
        (problem,) = refused.json()["detail"]
        assert problem["loc"] == ["body", field]
        assert "timezone" in problem["msg"]
    body = {"reference": "T-ok", "inputs": {"reference": "T"}, "deadline": "2026-11-28T18:00:00+08:00"}
    created = client.post(url, json=body, headers=_auth("ops"))
    assert created.status_code == 201
    assert created.json()["item"]["deadline"].startswith("2026-11-28T10:00:00")  # kept in UTC


def test_enqueue_batch_answers_per_item_in_order(client) -> None:
    items = [{"reference": f"B-{n}", "inputs": {"reference": f"B-{n}"}} for n in range(3)]
    url = "/api/bots/ledger-bot/items/batch"
    assert client.post(url, json={"items": items}, headers=_auth("watch")).status_code == 403
    first = client.post(url, json={"items": items}, headers=_auth("ops"))
    assert first.status_code == 201
    assert first.json()["created"] == 3
    assert [r["item"]["reference"] for r in first.json()["items"]] == ["B-0", "B-1", "B-2"]
    # a repeat of one reference beside a new one: 201, only the new one created
    again = client.post(
        url,
        json={"items": [items[1], {"reference": "B-9", "inputs": {"reference": "B-9"}}]},
        headers=_auth("ops"),
    )
    assert again.status_code == 201
    assert [r["created"] for r in again.json()["items"]] == [False, True]
    assert again.json()["items"][0]["item"]["id"] == first.json()["items"][1]["item"]["id"]
    # nothing new at all: 200
    assert client.post(url, json={"items": items[:1]}, headers=_auth("ops")).status_code == 200
    assert client.post(url, json={"items": []}, headers=_auth("ops")).status_code == 422
    assert (
        client.post("/api/bots/nope/items/batch", json={"items": items}, headers=_auth("ops")).status_code
        == 404
    )
    assert len(client.get("/api/duplicates", headers=_auth("watch")).json()) == 2


def _parked_over_http(client, reference: str) -> dict:
    """An item enqueued over HTTP, run until it waits for a person: its manual-queue entry."""
    client.post(
        "/api/bots/ledger-bot/items",
        json={"reference": reference, "inputs": {"reference": reference, "ok": False}},
        headers=_auth("ops"),
    )
    worker = Worker(client.runtime, client.queue, capacity=1, poll_interval=0.05)

    async def drain() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        while client.queue.status_counts().get(ItemStatus.needs_review) != 1:
            await asyncio.sleep(0.05)
        stop.set()
        await task

    asyncio.run(drain())
    (entry,) = client.get("/api/manual", headers=_auth("watch")).json()
    return entry


def test_manual_actions_over_http(client) -> None:
    entry = _parked_over_http(client, "M-1")
    assert entry["reason_code"] == "flagged"
    assert entry["arguments"]["condition"] is False
    run_id = entry["run_id"]
    denied = client.post(f"/api/manual/{run_id}/retry", json={}, headers=_auth("watch"))
    assert denied.status_code == 403
    bad = client.post(f"/api/manual/{run_id}/resume", json={"corrections": {"nope": 1}}, headers=_auth("ops"))
    assert bad.status_code == 409
    assert "no argument" in bad.json()["detail"]
    ok = client.post(
        f"/api/manual/{run_id}/resume", json={"corrections": {"condition": True}}, headers=_auth("ops")
    )
    assert ok.status_code == 200
    assert ok.json()["change"]["after"] == {"condition": True}
    assert client.get(f"/api/runs/{run_id}", headers=_auth("watch")).json()["status"] == "pending"
    assert client.get("/api/manual", headers=_auth("watch")).json() == []


def test_a_retry_over_http_can_wait_for_a_time_given_with_its_offset(client) -> None:
    run_id = _parked_over_http(client, "M-2")["run_id"]
    url = f"/api/manual/{run_id}/retry"
    naive = client.post(url, json={"not_before": "2099-01-02T06:00:00"}, headers=_auth("ops"))
    assert naive.status_code == 422
    assert naive.json()["detail"][0]["loc"] == ["body", "not_before"]
    refused = client.post(
        f"/api/manual/{run_id}/reject",
        json={"reason": "r", "not_before": "2099-01-02T06:00:00+08:00"},
        headers=_auth("ops"),
    )
    assert refused.status_code == 422
    assert client.get(f"/api/runs/{run_id}", headers=_auth("watch")).json()["status"] == "needs_review"
    ok = client.post(url, json={"not_before": "2099-01-02T06:00:00+08:00"}, headers=_auth("ops"))
    assert ok.status_code == 200
    item = client.queue.find_item("ledger-bot", "M-2")
    assert (item.status, item.not_before.isoformat()) == (ItemStatus.new, "2099-01-01T22:00:00+00:00")


def test_retry_failed_needs_the_operator_role(client) -> None:
    url = "/api/manual/retry-failed"
    assert client.post(url, json={}, headers=_auth("watch")).status_code == 403
    answer = client.post(url, json={"bot": "ledger-bot"}, headers=_auth("ops"))
    assert (answer.status_code, answer.json()) == (200, {"retried": [], "skipped": []})  # nothing failed
    assert client.post(url, json={"limit": 0}, headers=_auth("ops")).status_code == 422


def test_openapi_documents_the_api(client) -> None:
    paths = client.get("/openapi.json", headers=_auth("watch")).json()["paths"]
    for path in (
        "/api/health",
        "/api/bots/{bot}/items",
        "/api/items",
        "/api/runs/{run_id}",
        "/api/manual/{run_id}/{action}",
    ):
        assert path in paths
