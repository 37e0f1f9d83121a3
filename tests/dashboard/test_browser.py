"""The dashboard in real headless Chromium, over a store filled by a real run of the example bots.

Screenshots of the main pages go to the test's temporary folder, and to docs/screenshots/
when ``RPA_SAVE_SCREENSHOTS=1`` (how the README's pictures are made).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from dash_helpers import PASSWORDS, ServedDashboard, wait_for

from orchestrator.queue.models import ItemStatus

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
VIEWPORT = {"width": 1400, "height": 900}


class Shots:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.publish = os.environ.get("RPA_SAVE_SCREENSHOTS") == "1"

    def take(self, page: Any, name: str) -> None:
        path = self.folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if self.publish:
            target = ROOT / "docs" / "screenshots"
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target / path.name)


def _sign_in(browser: Any, url: str, user: str, password: str | None = None) -> tuple[Any, Any, list[str]]:
    """(context, page, console errors) of a user signed in through the login form."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{url}/")
    assert "/login" in page.url
    page.fill('input[name="username"]', user)
    page.fill('input[name="password"]', password or PASSWORDS[user])
    page.click('button[type="submit"]')
    page.wait_for_url(f"{url}/")
    return context, page, errors


def _item(served: ServedDashboard, reference: str) -> Any:
    bot = "rmb-bot" if reference.startswith("R-") else "ledger-bot"
    return served.queue.find_item(bot, reference)


def _text(page: Any, selector: str) -> str:
    return page.inner_text(selector).strip()


def test_operator_reads_the_overview_and_works_the_manual_queue(
    served: ServedDashboard, chromium: Any, tmp_path: Path
) -> None:
    shots = Shots(tmp_path)
    wait_for(served.settled, 120, "the queue to settle")
    context, page, errors = _sign_in(chromium, served.url, "olga")
    page.wait_for_selector("#live-state:has-text('live')")  # the script fetched the JSON API
    page.wait_for_selector("#chart canvas")  # uPlot drew the hourly chart
    counts = {bot: served.queue.status_counts(bot) for bot in ("ledger-bot", "rmb-bot")}
    total_done = sum(c.get(ItemStatus.done, 0) for c in counts.values())
    assert _text(page, '[data-test="total.done"]') == str(total_done)
    assert _text(page, '[data-test="total.failed"]') == str(
        sum(c.get(ItemStatus.failed, 0) for c in counts.values())
    )
    assert _text(page, '[data-test="total.needs_review"]') == str(
        sum(c.get(ItemStatus.needs_review, 0) for c in counts.values())
    )
    assert _text(page, '[data-test="total.queued"]') == "0"
    for bot, by_status in counts.items():
        row = f'tr[data-bot="{bot}"]'
        assert _text(page, f'{row} [data-field="done"]') == str(by_status.get(ItemStatus.done, 0))
        assert _text(page, f'{row} [data-field="needs_review"]') == str(
            by_status.get(ItemStatus.needs_review, 0)
        )
    ledger_done = counts["ledger-bot"].get(ItemStatus.done, 0)
    assert (
        _text(page, 'tr[data-bot="ledger-bot"] [data-field="fte_hours_today"]')
        == f"{ledger_done * 6 / 60:.2f}"
    )
    assert "minutes_saved_per_item" in _text(page, '[data-test="formula-fte_hours"]')
    shots.take(page, "overview")

    # items → the run of an item whose portal step was retried: timeline and screenshot
    page.goto(f"{served.url}/work/items?bot=rmb-bot")
    shots.take(page, "items")
    page.click('tr:has-text("R-06") a[href^="/work/runs/"]')
    page.wait_for_selector("svg.timeline rect.tl-done")
    assert _text(page, '[data-test="reference"]') == "R-06"
    assert _text(page, 'tr[data-step="screen"] [data-field="attempts"]') == "2"
    page.wait_for_function(  # the browser loads the screenshot after the page itself
        "() => { const i = document.querySelector('img[data-test=\"evidence\"]');"
        " return i !== null && i.complete; }"
    )
    image_width = page.eval_on_selector(
        'img[data-test="evidence"]', "img => img.complete ? img.naturalWidth : -1"
    )
    assert image_width == 360
    shots.take(page, "run")

    # the overview in a second tab, to see it change without a reload
    live = context.new_page()
    live.goto(f"{served.url}/")
    live.wait_for_selector("#live-state:has-text('live')")

    # resume L-11 with a correction (the screening flag checked by a person)
    page.goto(f"{served.url}/work/manual")
    four_eyes = page.locator('article.manual-entry:has-text("L-12")')
    assert four_eyes.locator('[data-test="approve"]').count() == 0  # olga made it
    assert "another person must approve it" in four_eyes.inner_text()
    entry = page.locator('article.manual-entry:has-text("L-11")')
    entry.locator("summary:has-text('Correct and resume')").click()
    shots.take(page, "manual")
    entry.locator('input[name="field__condition"]').check()
    entry.locator('form.correction input[name="note"]').fill("screening hit cleared with compliance")
    entry.locator('[data-test="resume"]').click()
    page.wait_for_url(f"{served.url}/work/manual?ok=resume")
    assert "Done: resume" in _text(page, '[data-test="flash"]')
    resumed = _item(served, "L-11")
    wait_for(lambda: _item(served, "L-11").status is ItemStatus.done, 60, "L-11 to be done after the resume")
    new_total = total_done + 1
    live.wait_for_function(
        "n => document.querySelector('[data-test=\"total.done\"]').textContent.trim() === String(n)",
        arg=new_total,
    )
    page.goto(f"{served.url}/work/runs/{resumed.run_id}")
    assert _text(page, "h1 [data-test=status]") == "done"

    # an administrator approves L-12 (four-eyes: not its maker)
    admin_context, admin, _ = _sign_in(chromium, served.url, "admin")
    four_eyes_run = _item(served, "L-12").run_id
    admin.goto(f"{served.url}/work/runs/{four_eyes_run}")
    admin.click('[data-test="approve"]')
    admin.wait_for_url(f"{served.url}/work/runs/{four_eyes_run}?ok=approve")
    wait_for(lambda: _item(served, "L-12").status is ItemStatus.done, 60, "L-12 to be done after approval")
    actions = {
        (e.kind, e.actor)
        for e in served.runtime.store.audit_events(limit=100_000)
        if e.kind.startswith("manual_")
    }
    assert {("manual_resume", "olga"), ("manual_approve", "admin")} <= actions

    admin.goto(f"{served.url}/audit")
    admin.click('[data-test="verify-now"]')
    assert _text(admin, '[data-test="verify-result"]').startswith("Intact:")
    shots.take(admin, "audit")
    admin.goto(f"{served.url}/system")
    admin.wait_for_selector("#runners tr[data-runner]")
    shots.take(admin, "health")
    admin_context.close()
    csp = [e for e in errors if "Content Security Policy" in e or "Refused" in e]
    assert csp == []
    assert errors == []
    context.close()
    login_context = chromium.new_context(viewport=VIEWPORT)
    login = login_context.new_page()
    response = login.goto(f"{served.url}/login")
    headers = response.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    shots.take(login, "login")
    login_context.close()


def test_a_viewer_sees_no_actions_and_the_api_refuses_with_or_without_csrf(
    served: ServedDashboard, chromium: Any
) -> None:
    served.queue.enqueue("ledger-bot", "B-FLAG", {"reference": "B-FLAG", "ok": False}, source="test")
    wait_for(lambda: _item(served, "B-FLAG").status is ItemStatus.needs_review, 60, "B-FLAG to be parked")
    run_id = _item(served, "B-FLAG").run_id
    context, page, _ = _sign_in(chromium, served.url, "vera")
    page.goto(f"{served.url}/work/manual")
    assert page.locator('article.manual-entry:has-text("B-FLAG")').count() == 1
    assert (
        page.locator("[data-test=retry], [data-test=resume], [data-test=approve], [data-test=reject]").count()
        == 0
    )
    assert _text(page, '[data-test="role"]') == "viewer"
    post = """async ([runId, token]) => {
        const headers = {'Content-Type': 'application/json'};
        if (token !== null) { headers['X-CSRF-Token'] = token; }
        const r = await fetch(`/api/manual/${runId}/retry`, {method: 'POST', headers, body: '{}'});
        return r.status;
    }"""
    token = page.get_attribute('meta[name="csrf-token"]', "content")
    assert page.evaluate(post, [run_id, token]) == 403  # a viewer, even with the right token
    context.close()

    context, page, _ = _sign_in(chromium, served.url, "olga")
    page.goto(f"{served.url}/work/runs/{run_id}")
    token = page.get_attribute('meta[name="csrf-token"]', "content")
    assert page.evaluate(post, [run_id, None]) == 403  # no token
    assert page.evaluate(post, [run_id, "forged-token"]) == 403
    # a form whose hidden token was tampered with
    page.eval_on_selector(
        'form[action$="/reject"] input[name="csrf_token"]', "input => { input.value = 'tampered'; }"
    )
    page.fill('form[action$="/reject"] input[name="reason"]', "test")
    with page.expect_response(lambda r: r.url.endswith("/reject")) as refused:
        page.click('[data-test="reject"]')
    assert refused.value.status == 403
    assert _item(served, "B-FLAG").status is ItemStatus.needs_review
    page.goto(f"{served.url}/work/runs/{run_id}")
    assert page.evaluate(post, [run_id, token]) == 200  # the real token: the retry is accepted
    context.close()


def test_an_account_locks_after_five_failed_sign_ins(served: ServedDashboard, chromium: Any) -> None:
    from dash_helpers import LOCKOUT_TARGET

    user, password = LOCKOUT_TARGET
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    statuses = []
    for attempt in range(6):
        page.goto(f"{served.url}/login")
        page.fill('input[name="username"]', user)
        page.fill('input[name="password"]', password if attempt == 5 else f"wrong-password-{attempt}")
        with page.expect_response(
            lambda r: r.url.endswith("/login") and r.request.method == "POST"
        ) as answer:
            page.click('button[type="submit"]')
        statuses.append(answer.value.status)
    assert statuses == [401, 401, 401, 401, 423, 423]  # the right password too, once locked
    assert "locked after repeated failed sign-ins" in _text(page, '[data-test="login-message"]')
    kinds = [e.kind for e in served.runtime.store.audit_events(kind="login_locked")]
    assert kinds == ["login_locked"]
    context.close()
