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
        refused = operator.post(
            "/work/manual/retry-failed", data={"csrf_token": csrf_of(operator), "not_before": "later"}
        )
        assert refused.status_code == 409
        assert "not before: &#39;later&#39; is not a time" in refused.text
        assert queue.status_counts() == {ItemStatus.failed: 2}  # nothing was retried
        sent = operator.post(
            "/work/manual/retry-failed",
            data={"csrf_token": csrf_of(operator), "note": "terminal back", "not_before": "2099-01-02 06:00"},
        )
        assert (sent.status_code, sent.headers["location"]) == (303, "/work/manual?ok=retry-failed")
        assert queue.status_counts() == {ItemStatus.new: 2}
        waiting = {item.not_before.isoformat() for item in queue.list_items(bot="ledger-bot")}
        assert waiting == {"2099-01-01T22:00:00+00:00"}
        assert {runtime.store.get_run(f"run-{r}").status for r in ("F-1", "F-2")} == {RunStatus.pending}
        assert "failed item(s)" not in operator.get("/work/manual").text
        forbidden = viewer.post("/work/manual/retry-failed", data={"csrf_token": csrf_of(viewer)})
        assert forbidden.status_code == 403
    finally:
        asyncio.run(runtime.aclose())


def test_the_bulk_retry_says_which_items_stay_failed_and_why(tmp_path: Path) -> None:
    """A folder item whose inbox now holds another file of its name is not retried (its run
    would read that file); the others are, and the page names the one left and why."""
    from orchestrator.queue.models import ItemStatus
    from orchestrator.queue.service import publish_bots

    app, runtime = isolated_app(tmp_path)
    try:
        queue = app.state.context.queue
        publish_bots(runtime, queue, write_bots(tmp_path))
        inbox, failed = tmp_path / "inbox", tmp_path / "failed"
        inbox.mkdir()
        failed.mkdir()
        for reference, source in (("F-1", {}), ("F-2", {"source": "folder:inbox"})):
            queue.enqueue(
                "ledger-bot", reference, {"reference": reference}, source_path=str(inbox / "m.txt"), **source
            )
            (claim,) = queue.claim("runner-a", timedelta(seconds=30), limit=1)
            run_id = _failed_run(runtime, f"run-{reference}", claim.item.id)
            queue.finish(claim, ItemStatus.failed, reason="terminal down", run_id=run_id)
        (failed / "m.txt").write_text("F-2's payments")  # where F-2's file was parked
        (inbox / "m.txt").write_text("the next day's payments")  # a new file of the same name

        operator = client_for(app)
        sign_in_testclient(operator, "olga")
        sent = operator.post("/work/manual/retry-failed", data={"csrf_token": csrf_of(operator)})
        assert sent.status_code == 200
        listed = sent.text.split('data-test="not-retried"', 1)[1].split("</div>", 1)[0]
        assert "1 failed item(s) went back to the queue; 1 did not:" in listed
        assert '<a href="/work/runs/run-F-2">F-2</a>: ' in listed  # a link to the run, and why
        assert "holds another file" in listed
        assert "run-F-1" not in listed
        assert runtime.store.get_run("run-F-1").status is RunStatus.pending
        assert runtime.store.get_run("run-F-2").status is RunStatus.failed
        assert (inbox / "m.txt").read_text() == "the next day's payments"
        assert (failed / "m.txt").read_text() == "F-2's payments"
    finally:
        asyncio.run(runtime.aclose())


def test_an_operator_retries_a_failed_item_not_before_a_time(tmp_path: Path) -> None:
    from orchestrator.queue.models import ItemStatus
    from orchestrator.queue.service import publish_bots

    app, runtime = isolated_app(tmp_path)
    try:
        queue = app.state.context.queue
        publish_bots(runtime, queue, write_bots(tmp_path))
        queue.enqueue("ledger-bot", "F-1", {"reference": "F-1"})
        (claim,) = queue.claim("runner-a", timedelta(seconds=30), limit=1)
        run_id = _failed_run(runtime, "run-F-1", claim.item.id)
        queue.finish(claim, ItemStatus.failed, reason="terminal down", run_id=run_id)
        itemless = _failed_run(runtime, "run-alone")

        operator = client_for(app)
        sign_in_testclient(operator, "olga")
        assert 'data-test="not-before"' in operator.get(f"/work/runs/{run_id}").text
        assert 'data-test="not-before"' not in operator.get(f"/work/runs/{itemless}").text  # nothing to hold
        csrf = csrf_of(operator)
        refused = operator.post(
            f"/work/manual/{run_id}/retry", data={"csrf_token": csrf, "not_before": "soon"}
        )
        assert refused.status_code == 409
        assert "not before: &#39;soon&#39; is not a time" in refused.text
        assert runtime.store.get_run(run_id).status is RunStatus.failed  # nothing was changed
        sent = operator.post(
            f"/work/manual/{run_id}/retry", data={"csrf_token": csrf, "not_before": "2099-01-02 06:00"}
        )
        assert (sent.status_code, sent.headers["location"]) == (303, f"/work/runs/{run_id}?ok=retry")
        item = queue.get_item(claim.item.id)
        assert (item.status, item.not_before.isoformat()) == (ItemStatus.new, "2099-01-01T22:00:00+00:00")
    finally:
        asyncio.run(runtime.aclose())
