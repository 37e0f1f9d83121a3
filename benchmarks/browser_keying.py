"""Benchmark: credits keyed into the example portal per second, framework against raw Playwright.

Usage: ``python benchmarks/browser_keying.py [--items N] [--rounds R] [--relaunch-items M]``

Starts the example portal, then in the same run and on the same Chromium binary:

- **framework**: ``do.browser.submit_form`` with one warm, signed-in context (the browser
  service as the engine uses it: checked navigation, alert scan, ``expect``, result read);
- **raw**: a minimal hand-written Playwright loop doing the same form on one signed-in page
  (goto, fill six fields, click, wait for the next page, read ``#txn-no``);
- **relaunch**: a fresh browser context and a sign-in for every item (what a bot that does not
  keep its session pays), and a fresh Chromium launch per item on top of that.

Raw and framework run in alternating rounds so that load from other processes on the machine
falls on both. Prints a table and the last line ``ratio=<framework items/s / raw items/s>``
(target >= 0.8: the framework's checks cost at most 25 %). Exits 1 if the portal does not hold
exactly one credit per keyed item.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from examples.platforms.launch import run_platform
from skills import PlatformInfo
from skills.do.browser import browser_service, browser_submit_form
from skills.do.browser.service import CHROMIUM_ARGS
from skills.testing import make_context, service_pool

CHROMIUM = "/usr/bin/chromium"
TARGET_RATIO = 0.8
FIELDS = {
    "Account number": "6222020200112233",
    "Beneficiary name": "张三 Zhang San",
    "Amount": "1250.50",
    "Reference": "",
    "Purpose code": "SALA",
}
CURRENCY = "CNY"


def submit_params(reference: str) -> dict[str, Any]:
    return {
        "url": "/credits/new",
        "fields": {**FIELDS, "Currency": CURRENCY, "Reference": reference},
        "submit": "Post credit",
        "expect": {"text": "Credit posted"},
        "read": {"txn_no": "#txn-no"},
        "reference": reference,
        "lookup": {
            "url": "/credits/lookup?reference={reference}",
            "found_selector": "#lookup-result",
            "not_found_text": "No credit found",
            "read": {"txn_no": "#lookup-result tbody tr:first-child td:nth-child(1)"},
        },
    }


def references(prefix: str, count: int) -> list[str]:
    run = uuid.uuid4().hex[:6].upper()
    return [f"{prefix}{run}{index:05d}" for index in range(count)]


async def raw_sign_in(page: Any, base_url: str) -> None:
    await page.goto(f"{base_url}/login")
    await page.get_by_label("Username", exact=True).fill("bot")
    await page.get_by_label("Password", exact=True).fill("bot-password")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Sign in", exact=True).click()


async def raw_key(page: Any, base_url: str, reference: str) -> str:
    """The hand-written loop body: what a careful script without a framework does."""
    await page.goto(f"{base_url}/credits/new")
    for label, value in {**FIELDS, "Reference": reference}.items():
        await page.get_by_label(label, exact=True).fill(value)
    await page.get_by_label("Currency", exact=True).select_option(CURRENCY)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Post credit", exact=True).click()
    return (await page.locator("#txn-no").inner_text()).strip()


async def timed(items: list[str], key: Callable[[str], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    for reference in items:
        await key(reference)
    return time.perf_counter() - start


async def measure(
    base_url: str, items: int, rounds: int, relaunch_items: int
) -> dict[str, tuple[int, float]]:
    from playwright.async_api import async_playwright

    pool = service_pool([browser_service])
    platform = PlatformInfo(
        "portal", {"base_url": base_url, "login": {"username": "bot", "password_secret": "portal_password"}}
    )
    secrets = {"portal_password": "bot-password"}
    model = browser_submit_form.__rpa_skill__.params_model

    async def framework_key(reference: str) -> str:
        ctx = make_context(browser_submit_form, services=pool, platform=platform, secrets=secrets)
        result = await browser_submit_form(ctx, model.model_validate(submit_params(reference)))
        return result.values["txn_no"]

    totals = {"framework": (0, 0.0), "raw": (0, 0.0)}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
        )
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        await raw_sign_in(page, base_url)
        # Warm both up (first sign-in, page templates, JIT) before any timing.
        await raw_key(page, base_url, references("WRAW", 1)[0])
        await framework_key(references("WFWK", 1)[0])
        for _ in range(rounds):
            for name, key in (
                ("raw", lambda ref: raw_key(page, base_url, ref)),
                ("framework", framework_key),
            ):
                batch = references(name[:3].upper(), items)
                seconds = await timed(batch, key)
                count, total = totals[name]
                totals[name] = (count + items, total + seconds)
        await context.close()

        async def relaunch_context(reference: str) -> str:
            fresh = await browser.new_context(viewport={"width": 1280, "height": 900})
            fresh_page = await fresh.new_page()
            await raw_sign_in(fresh_page, base_url)
            txn = await raw_key(fresh_page, base_url, reference)
            await fresh.close()
            return txn

        totals["relaunch: new context + sign-in"] = (
            relaunch_items,
            await timed(references("RCTX", relaunch_items), relaunch_context),
        )
        await browser.close()

        async def relaunch_browser(reference: str) -> str:
            fresh_browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
            )
            fresh_page = await (await fresh_browser.new_context()).new_page()
            await raw_sign_in(fresh_page, base_url)
            txn = await raw_key(fresh_page, base_url, reference)
            await fresh_browser.close()
            return txn

        totals["relaunch: new Chromium + sign-in"] = (
            relaunch_items,
            await timed(references("RBRW", relaunch_items), relaunch_browser),
        )
    await pool.aclose()
    return totals


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20, help="items per round for raw and framework")
    parser.add_argument("--rounds", type=int, default=3, help="alternating raw/framework rounds")
    parser.add_argument("--relaunch-items", type=int, default=5, help="items for each relaunch variant")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing (Debian package chromium)", file=sys.stderr)
        return 2
    with (
        tempfile.TemporaryDirectory(prefix="bench-portal-") as data_dir,
        run_platform("portal", data_dir=Path(data_dir)) as portal,
    ):
        assert portal.base_url is not None
        totals = asyncio.run(measure(portal.base_url, args.items, args.rounds, args.relaunch_items))
        stored = httpx.get(f"{portal.base_url}/api/credits").json()
    keyed = sum(count for count, _ in totals.values()) + 2  # + the two warm-up items
    rates = {name: count / seconds for name, (count, seconds) in totals.items()}
    print(f"{'variant':36} {'items':>6} {'seconds':>8} {'items/s':>8} {'ms/item':>8}")
    for name, (count, seconds) in totals.items():
        print(f"{name:36} {count:6d} {seconds:8.2f} {rates[name]:8.2f} {1000 * seconds / count:8.0f}")
    print(f"portal holds {len(stored)} credits for {keyed} keyed items")
    ratio = rates["framework"] / rates["raw"]
    verdict = "meets" if ratio >= TARGET_RATIO else "misses"
    print(
        f"framework/raw {ratio:.3f} ({verdict} the target >= {TARGET_RATIO}); "
        f"framework/relaunch-context {rates['framework'] / rates['relaunch: new context + sign-in']:.1f}x"
    )
    print(f"ratio={ratio:.3f}")
    return 0 if len(stored) == keyed else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
