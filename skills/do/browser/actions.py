"""Running one browser action on a platform: sessions, sign-in, one retry on expiry, evidence.

``act(ctx, action)`` borrows a page of the platform's signed-in context and runs ``action`` on
it. When the platform shows its login page (first use, or the session expired) it signs in and
runs the action once more. Whatever fails, a screenshot of the page is kept as run evidence
with password inputs and the fields declared sensitive painted over, and the error names it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from skills import BusinessError, SkillContext, SkillError, TechnicalError
from skills.do.browser.config import password_of, platform_of
from skills.do.browser.driver import PageDriver, SessionExpired
from skills.do.browser.models import Expect

if TYPE_CHECKING:
    from skills.do.browser.service import BrowserService

T = TypeVar("T")

MASK_COLOR = "#FF00FF"  # what masked fields look like in evidence screenshots
Action = Callable[[PageDriver], Awaitable[T]]


async def act(
    ctx: SkillContext,
    action: Action[T],
    *,
    sensitive: Sequence[str] = (),
    after_expiry: Action[T | None] | None = None,
) -> T:
    """Run ``action`` on a page of the step's platform (see the module docstring).

    ``sensitive`` lists what is masked in screenshots besides password inputs: read targets
    (``label:<label>`` or a selector). ``after_expiry`` runs after a
    re-sign-in when the session expired *after* a submitting click; when it returns a result
    (the lookup found the posting) that result is returned instead of acting again.
    """
    platform, config = platform_of(ctx)
    browser: BrowserService = ctx.service("browser")
    session = await browser.session(platform.name, config)
    async with session.page() as page:
        driver = PageDriver(page, session)
        try:
            logins_seen = session.logins
            try:
                return await action(driver)
            except SessionExpired as expired:
                if config.login is None:  # is_login_url is False without login: cannot happen
                    raise
                ctx.log(f"signed out of {platform.name} ({expired}), signing in", platform=platform.name)
                await sign_in(ctx, driver, logins_seen)
                if expired.after_submit and after_expiry is not None:
                    found = await after_expiry(driver)
                    if found is not None:
                        return found
                # The platform sent the submit back to its login page, so it did not take it.
                driver.submitted = False
            try:
                return await action(driver)
            except SessionExpired as again:
                raise TechnicalError(
                    f"platform {platform.name!r} showed its login page again right after signing in "
                    f"({again})",
                    applied=None if again.after_submit else False,
                ) from None
        except SkillError as exc:
            await keep_evidence(ctx, driver, sensitive, exc)
            raise
        except Exception as exc:  # anything else from Playwright is technical
            error = TechnicalError(
                f"browser action on platform {platform.name!r} failed: {exc}",
                applied=None if driver.submitted else False,
            )
            await keep_evidence(ctx, driver, sensitive, error)
            raise error from exc


async def sign_in(ctx: SkillContext, driver: PageDriver, logins_seen: int) -> None:
    """Sign the platform's context in, unless another page did so since ``logins_seen``."""
    session = driver.session
    login = session.config.login
    assert login is not None
    async with session.login_lock:
        if session.logins != logins_seen:
            return
        password = password_of(login, ctx.secrets, session.name)
        driver.submitted = False
        await driver.goto(login.path, allow_login_page=True)
        await driver.fill({login.username_label: login.username, login.password_label: password})
        button = driver.page.get_by_role("button", name=login.submit, exact=True)
        try:
            await driver.click(
                button,
                description=f"the {login.submit!r} button",
                navigates=True,
                changes_platform=False,
                allow_login_page=True,
            )
        except BusinessError as exc:
            raise BusinessError(
                f"signing in to platform {session.name!r} as {login.username!r} was refused: "
                f"{'; '.join(exc.details.get('alerts', [])) or exc.message}",
                code="login_refused",
            ) from None
        if session.config.is_login_url(driver.page.url):
            raise TechnicalError(
                f"signing in to platform {session.name!r} as {login.username!r}: still on the login page "
                f"{driver.page.url} and no message shown",
                applied=False,
            )
        if login.logged_in_text:
            await driver.expect(Expect(text=login.logged_in_text))
        session.logins += 1


def evidence_name(ctx: SkillContext, what: str) -> str:
    """A name unique per item, attempt and moment (a verify and its retry both keep theirs)."""
    item = f"item{ctx.item_index}-" if ctx.item_index is not None else ""
    return f"{item}attempt{ctx.attempt}-{time.time_ns() // 1_000_000}-{what}"


async def keep_evidence(
    ctx: SkillContext, driver: PageDriver, sensitive: Sequence[str], error: SkillError
) -> None:
    """Save a masked screenshot of the page and name it in ``error.details``; never raises."""
    page = driver.page
    if ctx.evidence is None or page.is_closed():
        return
    masks = [page.locator("input[type=password]")]
    masks += [driver.target(spec) for spec in sensitive]
    masks += [page.locator(selector) for selector in driver.config.mask_selectors]
    with contextlib.suppress(Exception):  # evidence must never hide the error itself
        png = await page.screenshot(full_page=True, mask=masks, mask_color=MASK_COLOR, timeout=5000)
        ref = ctx.save_evidence(evidence_name(ctx, "screenshot.png"), png, "image/png")
        if ref is not None:
            error.details.setdefault("evidence", ref.path)
            error.details.setdefault("evidence_sha256", ref.sha256)
            error.details.setdefault("url", page.url)
