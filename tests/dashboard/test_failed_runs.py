"""A failed run's page offers what the manual queue can do with it: retry or reject."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from dash_helpers import client_for, csrf_of, isolated_app, sign_in_testclient, write_bots

from orchestrator.enums import RunStatus
from orchestrator.store.sql import utcnow


def _failed_run(runtime, run_id: str = "failed-run-1", item_id: str | None = None) -> str:
    """A run that failed at step ``post`` (a platform down longer than its retries)."""
    store = runtime.store
    run = store.create_run(run_id, "post-to-ledger", "digest", {"reference": "F-1"}, item_id)
    fence = store.acquire_run(run.id, "runner-a", utcnow() + timedelta(seconds=30))
    store.finish_run(
        fence,
        RunStatus.failed,
        reason="step post failed after 3 attempt(s): the clearing terminal did not answer",
        reason_code="technical",
        parked_step="post",
    )
    return run.id


def test_an_operator_retries_a_failed_run_from_its_page(tmp_path: Path) -> None:
    app, runtime = isolated_app(tmp_path)
    try:
        run_id = _failed_run(runtime)
        viewer = client_for(app)
        assert sign_in_testclient(viewer, "vera").status_code == 303
        page = viewer.get(f"/work/runs/{run_id}").text
        assert "Failed: technical" in page
        assert 'data-test="retry"' not in page  # viewers see, operators act

        operator = client_for(app)
        assert sign_in_testclient(operator, "olga").status_code == 303
        page = operator.get(f"/work/runs/{run_id}").text
        assert 'data-test="retry"' in page
        assert 'data-test="reject"' in page
        assert 'data-test="resume"' not in page  # nothing was parked to correct
        sent = operator.post(
            f"/work/manual/{run_id}/retry", data={"csrf_token": csrf_of(operator), "note": "terminal is back"}
        )
        assert (sent.status_code, sent.headers["location"]) == (303, f"/work/runs/{run_id}?ok=retry")
        assert runtime.store.get_run(run_id).status is RunStatus.pending
    finally:
        asyncio.run(runtime.aclose())


def test_the_manual_page_retries_every_failed_item_at_once(tmp_path: Path) -> None:
    from orchestrator.queue.models import ItemStatus
    from orchestrator.queue.service import publish_bots

    app, runtime = isolated_app(tmp_path)
    try:
        queue = app.state.context.queue
        publish_bots(runtime, queue, write_bots(tmp_path))
        for reference in ("F-1", "F-2"):  # as a runner leaves them after a platform outage
            queue.enqueue("ledger-bot", reference, {"reference": reference})
            (claim,) = queue.claim("runner-a", timedelta(seconds=30), limit=1)
            run_id = _failed_run(runtime, f"run-{reference}", claim.item.id)
            queue.finish(claim, ItemStatus.failed, reason="terminal down", run_id=run_id)

        viewer = client_for(app)
        sign_in_testclient(viewer, "vera")
        page = viewer.get("/work/manual").text
        assert "2 failed item(s)" in page
        assert 'data-test="retry-failed"' not in page  # viewers see, operators act

        operator = client_for(app)
        sign_in_testclient(operator, "olga")
        assert 'data-test="retry-failed"' in operator.get("/work/manual").text
        sent = operator.post(
            "/work/manual/retry-failed", data={"csrf_token": csrf_of(operator), "note": "terminal back"}
        )
        assert (sent.status_code, sent.headers["location"]) == (303, "/work/manual?ok=retry-failed")
        assert queue.status_counts() == {ItemStatus.new: 2}
        assert {runtime.store.get_run(f"run-{r}").status for r in ("F-1", "F-2")} == {RunStatus.pending}
        assert "failed item(s)" not in operator.get("/work/manual").text
        forbidden = viewer.post("/work/manual/retry-failed", data={"csrf_token": csrf_of(viewer)})
        assert forbidden.status_code == 403
    finally:
        asyncio.run(runtime.aclose())
