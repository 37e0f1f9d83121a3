"""``do.browser.open``, ``do.browser.click`` and ``do.browser.read_text``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from skills import SkillContext, skill
from skills.do.browser.actions import act
from skills.do.browser.driver import PageDriver
from skills.do.browser.models import Expect


class OpenParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="Path on the platform (joined to its base_url) or an absolute URL.")
    expect: Expect | None = Field(None, description="Post-condition checked once the page loaded.")


class PageResult(BaseModel):
    url: str = Field(description="The URL the browser ended on.")
    title: str = Field(description="The page title.")


@skill("do.browser.open", effect="none", timeout="60s")
async def browser_open(ctx: SkillContext, params: OpenParams) -> PageResult:
    """Open a page of the step's web platform (signing in when needed) and check it loaded."""

    async def action(driver: PageDriver) -> PageResult:
        await driver.goto(params.url)
        if params.expect is not None:
            await driver.expect(params.expect)
        return PageResult(url=driver.page.url, title=await driver.page.title())

    return await act(ctx, action)


class ClickParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, description="Page to open first (path or absolute URL); default: stay.")
    button: str | None = Field(None, description="Accessible name of the button to click.")
    link: str | None = Field(None, description="Accessible name (text) of the link to click.")
    selector: str | None = Field(None, description="CSS or Playwright selector of the element to click.")
    navigates: bool = Field(
        False, description="The click loads a new page: wait for it and check it (HTTP errors, alerts)."
    )
    expect: Expect | None = Field(None, description="Post-condition checked after the click.")

    @model_validator(mode="after")
    def _one_target(self) -> ClickParams:
        if sum(x is not None for x in (self.button, self.link, self.selector)) != 1:
            raise ValueError("give exactly one of button, link, selector")
        return self


@skill("do.browser.click", effect="idempotent", timeout="60s")
async def browser_click(ctx: SkillContext, params: ClickParams) -> PageResult:
    """Click a button, link or element on the platform's page and check the post-condition.

    Declared idempotent: use it for navigation, tabs, searches. A click that posts something
    belongs in ``do.browser.submit_form``, which is ``once`` and verified by lookup.
    """

    async def action(driver: PageDriver) -> PageResult:
        if params.url is not None:
            await driver.goto(params.url)
        if params.button is not None:
            target, described = driver.page.get_by_role("button", name=params.button, exact=True), "button"
        elif params.link is not None:
            target, described = driver.page.get_by_role("link", name=params.link, exact=True), "link"
        else:
            target, described = driver.page.locator(params.selector or ""), "element"
        name = params.button or params.link or params.selector
        await driver.click(
            target.first,
            description=f"the {described} {name!r}",
            navigates=params.navigates,
            changes_platform=False,
        )
        if params.expect is not None:
            await driver.expect(params.expect)
        return PageResult(url=driver.page.url, title=await driver.page.title())

    return await act(ctx, action)


class ReadTextParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, description="Page to open first (path or absolute URL); default: stay.")
    selector: str | None = Field(None, description="CSS or Playwright selector of the element to read.")
    label: str | None = Field(None, description="Label of the form field whose value is read.")
    sensitive: bool = Field(False, description="Mask the read field in failure screenshots.")

    @model_validator(mode="after")
    def _one_target(self) -> ReadTextParams:
        if (self.selector is None) == (self.label is None):
            raise ValueError("give exactly one of selector, label")
        return self


class ReadTextResult(BaseModel):
    text: str = Field(description="The element's text with whitespace collapsed, or the field's value.")
    url: str = Field(description="The page it was read from.")


@skill("do.browser.read_text", effect="none", timeout="60s")
async def browser_read_text(ctx: SkillContext, params: ReadTextParams) -> ReadTextResult:
    """Read the text of an element (or the value of a labelled field) on the platform's page."""
    target = f"label:{params.label}" if params.label is not None else params.selector or ""

    async def action(driver: PageDriver) -> ReadTextResult:
        if params.url is not None:
            await driver.goto(params.url)
        return ReadTextResult(text=await driver.read(target), url=driver.page.url)

    return await act(ctx, action, sensitive=[target] if params.sensitive else [])
