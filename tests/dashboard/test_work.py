"""The dashboard's JSON API and pages over a store filled by a real run of the example bots.

The served dashboard (``served`` fixture) keeps running its runners: tests that change the
manual queue enqueue their own items and wait for them, and every expected figure is read
from the store when the test runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from dash_helpers import (
    BOTS,
    PORTAL_SECRET,
    ServedDashboard,
    client_for,
    csrf_of,
    isolated_app,
    sign_in,
    wait_for,
)

from orchestrator.dashboard.queries.manual import manual_entries as read_manual_entries
from orchestrator.queue.manual import ManualQueue
from orchestrator.queue.models import ItemStatus

MINUTES = {name: float(spec["minutes_saved_per_item"]) for name, spec in BOTS.items()}


def _item(served: ServedDashboard, reference: str) -> Any:
    bot = "ledger-bot" if reference.startswith(("L-", "W-")) else "rmb-bot"
    return served.queue.find_item(bot, reference)


def _settled_counts(served: ServedDashboard) -> dict[str, dict[ItemStatus, int]]:
    wait_for(served.settled, 120, "the queue to settle")
    return {bot: served.queue.status_counts(bot) for bot in BOTS}


def test_overview_api_equals_counts_taken_from_the_store(served: ServedDashboard) -> None:
    client = sign_in(served.url, "vera")
    before = _settled_counts(served)
    data = client.get("/api/dashboard/overview").json()
    assert _settled_counts(served) == before  # nothing moved while we asked
    for figures in data["bots"]:
        counts = before[figures["bot"]]
        done = counts.get(ItemStatus.done, 0)
        failed = counts.get(ItemStatus.failed, 0)
        rejected = counts.get(ItemStatus.rejected, 0)
        assert figures["done"] == done
        assert figures["failed"] == failed
        assert figures["rejected"] == rejected
        assert figures["needs_review"] == counts.get(ItemStatus.needs_review, 0)
        assert figures["queued"] == counts.get(ItemStatus.new, 0) == 0
        straight = [
            i
            for i in served.queue.list_items(bot=figures["bot"], status=ItemStatus.done, limit=1000)
            if i.straight_through
        ]
        assert figures["straight_through"] == len(straight)
        assert figures["success_rate"] == pytest.approx(done / (done + failed + rejected))
        assert figures["done_month"] >= figures["done_today"] == done  # everything finished just now
        assert figures["fte_hours_month"] == round(figures["done_month"] * MINUTES[figures["bot"]] / 60, 2)
        assert sum(figures["hourly_done"]) == done
    total = data["total"]
    assert total["done"] == sum(c.get(ItemStatus.done, 0) for c in before.values())
    assert total["fte_hours_today"] == pytest.approx(sum(b["fte_hours_today"] for b in data["bots"]))
    assert data["runners"]["up"] >= 1
    assert data["runners"]["capacity"] == 2
    assert "minutes_saved_per_item" in data["formulas"]["fte_hours"]


def test_items_and_runs_with_filters(served: ServedDashboard) -> None:
    client = sign_in(served.url, "vera")
    failed = client.get("/api/dashboard/items", params={"bot": "rmb-bot", "status": "failed"}).json()
    assert [i["reference"] for i in failed["items"]] == ["R-08"]
    assert "503" in failed["items"][0]["reason"]
    prefix = client.get("/api/dashboard/items", params={"reference": "L-1"}).json()
    assert sorted(i["reference"] for i in prefix["items"]) == ["L-10", "L-11", "L-12"]
    first = client.get("/api/dashboard/items", params={"bot": "ledger-bot", "limit": 5}).json()
    second = client.get("/api/dashboard/items", params={"bot": "ledger-bot", "limit": 5, "offset": 5}).json()
    assert first["has_more"] is True
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    created = [i["created_at"] for i in first["items"] + second["items"]]
    assert created == sorted(created, reverse=True)
    day = client.get("/api/dashboard/items", params={"from": "2000-01-01", "to": "2000-01-02"}).json()
    assert day["items"] == []
    assert client.get("/api/dashboard/items", params={"from": "yesterday"}).status_code == 422
    page = client.get("/work/items", params={"from": "not-a-date"})
    assert page.status_code == 400
    assert "expected a date as YYYY-MM-DD" in page.text
    runs = client.get("/api/dashboard/runs", params={"status": "failed", "workflow": "post-credit"}).json()[
        "runs"
    ]
    assert [(r["bot"], r["reference"]) for r in runs] == [("rmb-bot", "R-08")]
    html = client.get("/work/runs", params={"bot": "rmb-bot"}).text
    assert "R-08" in html
    assert "L-01" not in html


def test_secrets_never_reach_a_page_or_the_api(served: ServedDashboard) -> None:
    client = sign_in(served.url, "vera")
    run_id = _item(served, "R-06").run_id
    detail = client.get(f"/api/dashboard/runs/{run_id}").json()
    screen = next(s for s in detail["steps"] if s["step_id"] == "screen")
    assert screen["params"]["login"] == "***"
    assert screen["output"]["screen"] == "credit R-06 posted (signed in with ***)"
    for path in [
        f"/api/dashboard/runs/{run_id}",
        f"/work/runs/{run_id}",
        "/api/dashboard/audit?limit=1000",
        "/audit",
        "/api/dashboard/manual",
        "/work/manual",
        "/metrics",
    ]:
        assert PORTAL_SECRET not in client.get(path).text, path


def test_data_is_escaped_in_the_pages(served: ServedDashboard) -> None:
    hostile = '<img src=x onerror="alert(1)">'
    served.queue.enqueue("rmb-bot", hostile, {"reference": hostile, "ok": False}, source="test")
    _wait_status(served, hostile, ItemStatus.needs_review)
    client = sign_in(served.url, "vera")
    for path in ["/work/items", "/work/manual", f"/work/runs/{_item(served, hostile).run_id}"]:
        html = client.get(path).text
        assert "&lt;img src=x onerror=" in html, path
        assert "<img src=x" not in html, path


def test_run_detail_shows_the_timeline_and_the_failure_screenshot(served: ServedDashboard) -> None:
    client = sign_in(served.url, "vera")
    run_id = _item(served, "R-06").run_id
    detail = client.get(f"/api/dashboard/runs/{run_id}").json()
    steps = {s["step_id"]: s for s in detail["steps"]}
    assert [s["step_id"] for s in detail["steps"]] == ["check", "approve", "screen", "post"]
    assert (steps["screen"]["status"], steps["screen"]["attempts"]) == ("done", 2)
    assert steps["approve"]["status"] == "skipped"
    assert steps["post"]["offset_ms"] >= steps["screen"]["offset_ms"] >= steps["check"]["offset_ms"] == 0
    assert detail["inputs"]["reference"] == "R-06"
    assert [e["kind"] for e in detail["audit"]].count("step_retrying") == 1
    (evidence,) = detail["evidence"]
    assert evidence["verified"] is True
    assert evidence["step_id"] == "screen"
    image = client.get(evidence["url"])
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert hashlib.sha256(image.content).hexdigest() == evidence["sha256"]
    page = client.get(f"/work/runs/{run_id}").text
    assert f'src="{evidence["url"]}"' in page
    assert 'class="tl-bar tl-done"' in page
    assert "hash checked" in page
    assert httpx.get(served.url + evidence["url"]).status_code == 303  # signed-in users only


def test_evidence_is_confined_to_the_run_and_the_evidence_folder(
    served: ServedDashboard, tmp_path: Path
) -> None:
    client = sign_in(served.url, "vera")
    flaky = _item(served, "R-06").run_id
    other = _item(served, "R-07").run_id
    other_file = client.get(f"/api/dashboard/runs/{other}").json()["evidence"][0]["file"]
    assert client.get(f"/evidence/{flaky}/{other_file}").status_code == 404  # another run's screenshot
    folder = served.runtime.settings.home / "evidence"
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not evidence")
    link = folder / f"{flaky}-link-000000000000.png"
    os.symlink(secret, link)
    (folder / "sub").mkdir(exist_ok=True)
    (folder / "sub" / f"{flaky}-nested.png").write_bytes(b"nested")
    try:
        files = [e["file"] for e in client.get(f"/api/dashboard/runs/{flaky}").json()["evidence"]]
        assert link.name not in files
        for path in [
            f"/evidence/{flaky}/{link.name}",
            f"/evidence/{flaky}/..%2F..%2Frpa.db",
            f"/evidence/{flaky}/sub%2F{flaky}-nested.png",
            f"/evidence/{flaky}/%2E%2E",
            f"/evidence/..%2F{flaky}/x.png",
            f"/evidence/{flaky}/.hidden",
        ]:
            assert client.get(path).status_code == 404, path
    finally:
        link.unlink()


def _wait_status(served: ServedDashboard, reference: str, status: ItemStatus) -> Any:
    wait_for(
        lambda: (_item(served, reference) or _missing()).status is status,
        60,
        f"{reference} to be {status.value}",
    )
    return _item(served, reference)


def _missing() -> Any:
    class Missing:
        status = None

    return Missing()


def test_the_manual_queue_shows_each_role_what_it_may_do(served: ServedDashboard) -> None:
    served.queue.enqueue("ledger-bot", "W-FLAG", {"reference": "W-FLAG", "ok": False}, source="test")
    served.queue.enqueue("ledger-bot", "W-4EYES", {"reference": "W-4EYES", "maker": "olga"}, source="test")
    flagged = _wait_status(served, "W-FLAG", ItemStatus.needs_review)
    four_eyes = _wait_status(served, "W-4EYES", ItemStatus.needs_review)

    def entries(user: str) -> dict[str, Any]:
        data = sign_in(served.url, user).get("/api/dashboard/manual").json()
        return {e["item"]["reference"]: e for e in data if e["item"]}

    batch = read_manual_entries(served.runtime.store)
    one_by_one = ManualQueue(served.runtime.store, served.queue, served.runtime.registry).entries()
    assert [(e.run, e.item, e.step) for e in batch] == [(e.run, e.item, e.step) for e in one_by_one]
    viewer = entries("vera")
    assert viewer["W-FLAG"]["actions"] == viewer["W-4EYES"]["actions"] == []
    operator = entries("olga")
    assert operator["W-FLAG"]["actions"] == ["retry", "resume", "reject"]
    assert operator["W-4EYES"]["actions"] == ["retry", "reject"]  # olga is the maker: no approve
    assert operator["W-4EYES"]["maker"] == "olga"
    fields = {f["name"]: f for f in operator["W-FLAG"]["fields"]}
    condition = fields["condition"]
    assert (condition["kind"], condition["value"], condition["required"]) == ("checkbox", "false", True)
    assert entries("admin")["W-4EYES"]["actions"] == ["retry", "approve", "reject"]

    vera = sign_in(served.url, "vera")
    html = vera.get("/work/manual").text
    assert "W-FLAG" in html
    assert 'data-test="retry"' not in html
    assert 'data-test="reject"' not in html
    assert "Viewers can see this run but not act on it." in html
    olga = sign_in(served.url, "olga")
    html = olga.get("/work/manual").text
    assert 'data-test="maker-note"' in html
    token = csrf_of(olga)
    # olga cannot sneak past four-eyes by "correcting" the approval step
    sneak = olga.post(
        f"/work/manual/{four_eyes.run_id}/resume", data={"csrf_token": token, "field__maker": "someone-else"}
    )
    assert sneak.status_code == 409
    assert "four-eyes" in sneak.text
    no_reason = olga.post(
        f"/work/manual/{flagged.run_id}/reject", data={"csrf_token": token, "reason": " ", "back": "manual"}
    )
    assert no_reason.status_code == 409
    assert "a rejection needs a reason" in no_reason.text
    done = olga.post(
        f"/work/manual/{flagged.run_id}/reject",
        data={"csrf_token": token, "reason": "customer withdrew it", "back": "manual"},
    )
    assert (done.status_code, done.headers["location"]) == (303, "/work/manual?ok=reject")
    rejected = _wait_status(served, "W-FLAG", ItemStatus.rejected)
    assert rejected.reason == "customer withdrew it"
    admin = sign_in(served.url, "admin")
    approved = admin.post(
        f"/work/manual/{four_eyes.run_id}/approve", data={"csrf_token": csrf_of(admin), "note": "checked"}
    )
    assert approved.status_code == 303
    _wait_status(served, "W-4EYES", ItemStatus.done)
    audit = vera.get("/api/dashboard/audit", params={"run": four_eyes.run_id}).json()["events"]
    assert ("manual_approve", "admin") in [(e["kind"], e["actor"]) for e in audit]
    rejects = vera.get("/api/dashboard/audit", params={"kind": "manual_rejected", "actor": "olga"}).json()[
        "events"
    ]
    assert [e["run_id"] for e in rejects] == [flagged.run_id]


def test_audit_trail_filters_and_chain_check(served: ServedDashboard) -> None:
    client = sign_in(served.url, "vera")
    run_id = _item(served, "R-07").run_id
    by_run = client.get("/api/dashboard/audit", params={"run": run_id, "limit": 1000}).json()["events"]
    assert by_run
    assert {e["run_id"] for e in by_run} == {run_id}
    assert {"run_created", "step_retrying", "run_done"} <= {e["kind"] for e in by_run}
    enqueued = client.get("/api/dashboard/audit", params={"kind": "item_enqueued", "actor": "tests"}).json()[
        "events"
    ]
    assert {e["payload"]["reference"] for e in enqueued} >= {"L-01", "R-08"}
    assert (
        client.get("/api/dashboard/audit", params={"from": "2001-01-01", "to": "2001-01-31"}).json()["events"]
        == []
    )
    newest, oldest = by_run[0]["at"], by_run[-1]["at"]  # newest first
    since = client.get("/api/dashboard/audit", params={"run": run_id, "since": newest}).json()["events"]
    assert [e["id"] for e in since] == [e["id"] for e in by_run if e["at"] >= newest]
    before = client.get("/api/dashboard/audit", params={"run": run_id, "until": oldest}).json()
    assert before["events"] == []
    verify = client.get("/api/dashboard/audit/verify").json()
    assert verify["ok"] is True
    assert verify["events"] == served.runtime.store.verify_audit().events
    page = client.get("/audit", params={"verify": "1", "kind": "step_retrying"}).text
    assert "Intact:" in page
    assert 'data-kind="step_retrying"' in page
    assert 'data-kind="run_done"' not in page


def test_health_page_runners_leases_and_hot_spots(served: ServedDashboard) -> None:
    client = sign_in(served.url, "vera")
    system = client.get("/api/dashboard/system").json()
    live = [r for r in system["runners"] if r["up"]]
    assert live
    assert live[0]["heartbeat_age_seconds"] < 60
    assert {s["capacity"] for s in system["slots"]} >= {"bot:ledger-bot", "bot:rmb-bot"}
    spots = {(s["skill"], s["step_id"]): s for s in client.get("/api/dashboard/hotspots").json()["spots"]}
    screen = spots[("do.test_portal_screen", "screen")]
    assert screen["retries"] >= 3  # each needed a second attempt
    assert screen["retry_events"] >= 3
    assert screen["failed"] >= 1
    html = client.get("/system").text
    assert "do.test_portal_screen" in html
    assert live[0]["id"] in html


def test_metrics_need_a_reader_and_match_the_store(served: ServedDashboard, tmp_path: Path) -> None:
    assert httpx.get(f"{served.url}/metrics").status_code == 401
    client = sign_in(served.url, "vera")
    counts = _settled_counts(served)
    text = client.get("/metrics").text
    for bot, by_status in counts.items():
        for status, count in by_status.items():
            assert f'rpa_work_items{{bot="{bot}",status="{status.value}"}} {float(count)}' in text
    retries = [
        line
        for line in text.splitlines()
        if line.startswith('rpa_step_retries_total{skill="do.test_portal_screen"}')
    ]
    assert retries
    assert float(retries[0].split()[-1]) >= 3
    assert 'rpa_step_duration_seconds_bucket{le="+Inf",skill="do.append_record",status="done"}' in text
    assert "rpa_runner_heartbeat_age_seconds{" in text
    app, runtime = isolated_app(tmp_path, metrics_anonymous=True)
    try:
        assert client_for(app).get("/metrics").status_code == 200
    finally:
        asyncio.run(runtime.aclose())
