"""``PageDriver``: the checked page actions every browser skill is built from.

Each navigation is checked in one order: HTTP 5xx → ``TechnicalError``; the platform's login
page → ``SessionExpired`` (the caller signs in and retries once); after a click, a visible
validation message (``role="alert"``) → ``BusinessError`` carrying the message; another 4xx →
``BusinessError``.
Playwright timeouts (element missing, page not loading) become ``TechnicalError``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from skills import BusinessError, TechnicalError
from skills.do.browser.config import BrowserPlatformConfig
from skills.do.browser.models import Expect

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page, Response

    from skills.do.browser.service import PlatformSession

# For each wanted label text, the kind of the control a <label> with exactly that text names;
# under "" the texts of all labels on the page (for the error message when one is missing).
_CONTROLS_BY_LABEL = """(wanted) => {
  const found = {"": []};
  for (const label of document.querySelectorAll('label')) {
    const text = (label.textContent || '').replace(/\\s+/g, ' ').trim();
    const control = label.control;
    found[""].push(text);
    if (!wanted.includes(text) || !control || text in found) continue;
    const kind = control.tagName === 'SELECT' ? 'SELECT' : control.tagName + ':' + (control.type || '');
    const options = control.tagName === 'SELECT' ? Array.from(control.options).map(o => [o.value, o.label]) : null;
    found[text] = {kind, options};
  }
  return found;
}"""
_TRUE_WORDS = {"true", "yes", "on", "1", "checked", "x"}
_RETRYABLE_CLIENT_STATUSES = {408, 425, 429}


class SessionExpired(Exception):
    """The platform showed its login page instead of the page asked for."""

    def __init__(self, url: str, *, after_submit: bool) -> None:
        super().__init__(f"redirected to the login page {url}")
        self.after_submit = after_submit


@dataclass
class PageDriver:
    """One page of a platform session, with checked navigation, filling, clicking and reading."""

    page: Page
    session: PlatformSession
    submitted: bool = False  # a click that may have changed the platform went out

    @property
    def config(self) -> BrowserPlatformConfig:
        return self.session.config

    # -- navigation -------------------------------------------------------------------------

    async def goto(self, path_or_url: str, *, allow_login_page: bool = False) -> None:
        """Open a page of the platform and check what came back."""
        url = self.config.url(path_or_url)
        try:
            response = await self.page.goto(url, wait_until="load")
        except Exception as exc:
            raise _technical(exc, f"opening {url}", applied=None if self.submitted else False) from exc
        await self.check_page(
            response, action=f"opening {url}", allow_login_page=allow_login_page, check_alerts=False
        )

    async def click(
        self,
        target: Locator,
        *,
        description: str,
        navigates: bool,
        changes_platform: bool,
        allow_login_page: bool = False,
    ) -> None:
        """Click ``target`` and check the page it leaves the browser on.

        ``navigates``: the click loads a new page (a form post); its HTTP status is checked too.
        ``changes_platform``: the click may change the platform (from then on a failure is
        reported with ``applied=None``, unknown, instead of ``False``).
        """
        try:
            if navigates:
                async with self.page.expect_navigation(wait_until="load") as navigation:
                    self.submitted = self.submitted or changes_platform
                    await target.click()
                response = await navigation.value
            else:
                self.submitted = self.submitted or changes_platform
                await target.click()
                await self.page.wait_for_load_state("load")
                response = None
        except Exception as exc:
            applied = None if self.submitted else False
            raise _technical(exc, f"clicking {description}", applied=applied) from exc
        await self.check_page(response, action=f"clicking {description}", allow_login_page=allow_login_page)

    async def check_page(
        self,
        response: Response | None,
        *,
        action: str,
        allow_login_page: bool = False,
        check_alerts: bool = True,
    ) -> None:
        """Raise the error the current page stands for, if any (see the module docstring).

        Validation messages are looked for only after a click (``check_alerts``): they answer
        input, and a page merely opened may carry a banner with the same role.
        """
        status = response.status if response is not None else 200
        url = self.page.url
        applied = None if self.submitted else False
        if status >= 500 or status in _RETRYABLE_CLIENT_STATUSES:
            raise TechnicalError(
                f"{action}: platform {self.session.name!r} answered HTTP {status} at {url}",
                applied=applied,
                details={"url": url, "status": status},
            )
        if not allow_login_page and self.config.is_login_url(url):
            raise SessionExpired(url, after_submit=self.submitted)
        alerts = await self.alert_texts() if check_alerts else []
        if alerts:
            raise BusinessError(
                f"{action}: platform {self.session.name!r} rejected the input: {'; '.join(alerts)}",
                code="platform_validation",
                details={"url": url, "alerts": alerts},
            )
        if status >= 400:
            raise BusinessError(
                f"{action}: platform {self.session.name!r} answered HTTP {status} at {url}",
                code=f"http_{status}",
                details={"url": url, "status": status},
            )

    async def alert_texts(self) -> list[str]:
        """The non-empty validation messages visible on the page (one call to the browser)."""
        texts = await self.page.locator(self.config.alert_selector).evaluate_all(
            "elements => elements.filter(e => e.checkVisibility()).map(e => e.innerText)"
        )
        return [text for text in (" ".join(str(t).split()) for t in texts) if text]

    # -- forms ------------------------------------------------------------------------------

    def field(self, label: str) -> Locator:
        """The form control labelled exactly ``label``."""
        return self.page.get_by_label(label, exact=True)

    async def fill(self, fields: Mapping[str, str]) -> None:
        """Fill controls by label: text inputs, selects (by value or shown text), checkboxes.

        One call to the page first learns which labels name selects or checkboxes (and the
        options), so each field then costs one call, as in a hand-written script.
        """
        controls = await self.page.evaluate(_CONTROLS_BY_LABEL, list(fields))
        for label, value in fields.items():
            control = self.field(label)
            known = controls.get(label) or {}
            kind = known.get("kind", "")
            try:
                if kind == "SELECT":
                    await _select(control, value, known.get("options") or [])
                elif kind in ("INPUT:checkbox", "INPUT:radio"):
                    await control.set_checked(value.strip().lower() in _TRUE_WORDS)
                else:  # a text field, or a control labelled another way (aria-label): fill it
                    await control.fill(value)
            except BusinessError:
                raise
            except Exception as exc:
                action = f"filling the field labelled {label!r}"
                if not known:
                    shown = ", ".join(repr(text) for text in controls[""]) or "none"
                    action = f"{action} on {self.page.url} (labels there: {shown})"
                raise _technical(exc, action, applied=False) from exc

    # -- reading and checking ---------------------------------------------------------------

    def target(self, spec: str) -> Locator:
        """A locator from a read target: ``label:<label>`` or a selector."""
        if spec.startswith("label:"):
            return self.field(spec.removeprefix("label:").strip())
        return self.page.locator(spec)

    async def read(self, spec: str) -> str:
        """The text of the first element matching ``spec`` (inputs and selects: their value)."""
        locator = self.target(spec).first
        try:
            is_field, text = await locator.evaluate(
                "e => ['INPUT', 'TEXTAREA', 'SELECT'].includes(e.tagName) ? [true, e.value] : [false, e.innerText]"
            )
            return str(text).strip() if is_field else " ".join(str(text).split())
        except Exception as exc:
            raise _technical(exc, f"reading {spec!r}", applied=None if self.submitted else False) from exc

    async def expect(self, expect: Expect) -> None:
        """Wait until ``expect`` holds; a miss is a ``TechnicalError`` describing what was found."""
        timeout = (expect.timeout_seconds or self.config.timeout_seconds) * 1000
        applied = None if self.submitted else False
        try:
            if expect.url_contains:
                await self.page.wait_for_url(re.compile(re.escape(expect.url_contains)), timeout=timeout)
            if expect.selector:
                element = self.page.locator(expect.selector)
                if expect.text:
                    element = element.filter(has_text=expect.text)
                await element.first.wait_for(state="visible", timeout=timeout)
            elif expect.text:
                await self.page.get_by_text(expect.text).first.wait_for(state="visible", timeout=timeout)
            if expect.field is not None:
                await _wait_for_value(self.field(expect.field), expect.value or "", timeout)
        except Exception as exc:
            found = await self.describe()
            raise TechnicalError(
                f"expected {_describe_expect(expect)} on platform {self.session.name!r}, found {found}",
                applied=applied,
                details={"url": self.page.url},
            ) from exc

    async def describe(self) -> str:
        """A short account of the current page for error messages."""
        try:
            title = await self.page.title()
            heading = self.page.locator("h1, h2").first
            first_heading = (await heading.inner_text(timeout=500)).strip() if await heading.count() else ""
        except Exception:
            return f"page {self.page.url}"
        shown = f"page {self.page.url} titled {title!r}"
        return f"{shown} with heading {first_heading!r}" if first_heading else shown


async def _select(control: Locator, value: str, options: list[list[str]]) -> None:
    for option_value, option_label in options:
        if value in (option_value, option_label):
            await control.select_option(value=option_value)
            return
    shown = ", ".join(label or option_value for option_value, label in options)
    raise BusinessError(f"option {value!r} is not offered (options: {shown})", code="option_missing")


async def _wait_for_value(control: Locator, value: str, timeout: float) -> None:
    from playwright.async_api import expect as playwright_expect

    await playwright_expect(control).to_have_value(value, timeout=timeout)


def _describe_expect(expect: Expect) -> str:
    parts = []
    if expect.url_contains:
        parts.append(f"a URL containing {expect.url_contains!r}")
    if expect.selector:
        with_text = f" with text {expect.text!r}" if expect.text else ""
        parts.append(f"an element {expect.selector!r}{with_text}")
    elif expect.text:
        parts.append(f"the text {expect.text!r}")
    if expect.field is not None:
        parts.append(f"the field {expect.field!r} holding {expect.value!r}")
    return " and ".join(parts)


def _technical(exc: Exception, action: str, *, applied: bool | None) -> TechnicalError:
    """A ``TechnicalError`` for a Playwright failure (timeout, connection refused, page crash)."""
    message = getattr(exc, "message", None) or str(exc)
    first_line = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
    return TechnicalError(f"{action} failed: {first_line}", applied=applied)
