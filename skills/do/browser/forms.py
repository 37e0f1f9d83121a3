"""``do.browser.fill_form`` and ``do.browser.submit_form`` (``once``, verified by a lookup)."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from skills import SkillContext, TechnicalError, skill
from skills.do.browser.actions import act
from skills.do.browser.driver import PageDriver
from skills.do.browser.models import READ_TARGET_HELP, Expect

FieldValue = str | bool | int | Decimal


def _as_text(value: FieldValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class FormFields(BaseModel):
    """What every form-filling skill takes: values by label, what is secret, what to read back."""

    model_config = ConfigDict(extra="forbid")

    fields: dict[str, FieldValue] = Field(
        description="Field label → value, filled in this order. Selects take an option's value or "
        "shown text; checkboxes take true/false. Amounts as strings or decimals, never floats."
    )
    sensitive: list[str] = Field(
        default_factory=list, description="Labels of fields masked in failure screenshots."
    )
    read: dict[str, str] = Field(
        default_factory=dict, description=f"Result name → what to read after submitting. {READ_TARGET_HELP}"
    )

    @field_validator("fields", mode="before")
    @classmethod
    def _no_floats(cls, value: object) -> object:
        if isinstance(value, dict):
            floats = [label for label, item in value.items() if isinstance(item, float)]
            if floats:
                raise ValueError(
                    f"fields {floats} hold floating-point numbers; write amounts as strings or decimals"
                )
        return value

    def texts(self) -> dict[str, str]:
        return {label: _as_text(value) for label, value in self.fields.items()}

    def masked(self) -> list[str]:
        return [f"label:{label}" for label in self.sensitive]


class FillFormParams(FormFields):
    url: str | None = Field(None, description="Page of the form (path or absolute URL); default: stay.")
    submit: str | None = Field(None, description="Accessible name of the button to press afterwards.")
    expect: Expect | None = Field(None, description="Post-condition checked after filling (and submitting).")


class FormResult(BaseModel):
    url: str = Field(description="The URL the browser ended on.")
    values: dict[str, str] = Field(description="The values named in `read`.")


@skill("do.browser.fill_form", effect="idempotent", timeout="60s")
async def browser_fill_form(ctx: SkillContext, params: FillFormParams) -> FormResult:
    """Fill a form's fields by label, optionally press a button, check the post-condition.

    Declared idempotent: for searches, filters and drafts. A form that posts something belongs
    in ``do.browser.submit_form``, which is ``once`` and verified by lookup.
    """

    async def action(driver: PageDriver) -> FormResult:
        if params.url is not None:
            await driver.goto(params.url)
        await driver.fill(params.texts())
        if params.submit is not None:
            button = driver.page.get_by_role("button", name=params.submit, exact=True)
            await driver.click(
                button, description=f"the {params.submit!r} button", navigates=True, changes_platform=False
            )
        if params.expect is not None:
            await driver.expect(params.expect)
        values = {name: await driver.read(target) for name, target in params.read.items()}
        return FormResult(url=driver.page.url, values=values)

    return await act(ctx, action, sensitive=params.masked())


class Lookup(BaseModel):
    """Where the platform shows what was posted under a reference (used by verify)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="Lookup page; `{reference}` is replaced by the URL-quoted reference.")
    found_selector: str = Field(description="Element visible only when something was found.")
    not_found_text: str | None = Field(
        None, description="Text shown when nothing was found (without it, a missing element means none)."
    )
    read: dict[str, str] = Field(
        default_factory=dict,
        description="Result name → what to read on the lookup page (same names as `read`). "
        + READ_TARGET_HELP,
    )

    @field_validator("url")
    @classmethod
    def _has_placeholder(cls, value: str) -> str:
        if "{reference}" not in value:
            raise ValueError(f"the lookup url must contain {{reference}}, found {value!r}")
        return value


class SubmitFormParams(FormFields):
    url: str = Field(description="Page of the form (path or absolute URL).")
    submit: str = Field(description="Accessible name of the button that posts the form.")
    expect: Expect = Field(description="Post-condition that proves the platform took it (e.g. a heading).")
    reference: str = Field(min_length=1, description="The business reference keyed in; verify looks it up.")
    lookup: Lookup = Field(description="How to look the reference up on the platform (verify).")

    @model_validator(mode="after")
    def _same_result_names(self) -> SubmitFormParams:
        if set(self.read) != set(self.lookup.read):
            raise ValueError(
                f"read {sorted(self.read)} and lookup.read {sorted(self.lookup.read)} must name the same "
                "results, so a verified step returns what a submitted one does"
            )
        return self


class SubmitFormResult(FormResult):
    found_by_lookup: bool = Field(
        False, description="True when the result was read from the lookup page (posted earlier)."
    )


async def _look_up(driver: PageDriver, params: SubmitFormParams) -> SubmitFormResult | None:
    lookup = params.lookup
    await driver.goto(lookup.url.replace("{reference}", quote(params.reference, safe="")))
    found = driver.page.locator(lookup.found_selector)
    settled = found.first
    if lookup.not_found_text:
        settled = found.or_(driver.page.get_by_text(lookup.not_found_text)).first
    try:
        await settled.wait_for(state="visible")
    except Exception as exc:
        if lookup.not_found_text:
            raise TechnicalError(
                f"looking up reference {params.reference!r}: expected {lookup.found_selector!r} or the text "
                f"{lookup.not_found_text!r}, found {await driver.describe()}",
            ) from exc
        return None
    if not await found.first.is_visible():
        return None
    values = {name: await driver.read(target) for name, target in lookup.read.items()}
    return SubmitFormResult(url=driver.page.url, values=values, found_by_lookup=True)


async def verify_browser_submit_form(ctx: SkillContext, params: SubmitFormParams) -> SubmitFormResult | None:
    """Look the reference up on the platform: the earlier result when it was posted, else None."""

    async def action(driver: PageDriver) -> SubmitFormResult | None:
        return await _look_up(driver, params)

    return await act(ctx, action, sensitive=params.masked())


@skill("do.browser.submit_form", effect="once", verify=verify_browser_submit_form, timeout="90s")
async def browser_submit_form(ctx: SkillContext, params: SubmitFormParams) -> SubmitFormResult:
    """Fill and post a form once (a payment, a credit), check it was taken, read the result back.

    A validation message on the page is a business error; HTTP 5xx, timeouts and a missed
    ``expect`` are technical (retried after verify looked the reference up). When the session
    expired on the submit, the skill signs in, looks the reference up, and posts again only
    when the platform does not have it.
    """

    async def action(driver: PageDriver) -> SubmitFormResult:
        await driver.goto(params.url)
        await driver.fill(params.texts())
        button = driver.page.get_by_role("button", name=params.submit, exact=True)
        await driver.click(
            button, description=f"the {params.submit!r} button", navigates=True, changes_platform=True
        )
        await driver.expect(params.expect)
        values = {name: await driver.read(target) for name, target in params.read.items()}
        return SubmitFormResult(url=driver.page.url, values=values)

    async def after_expiry(driver: PageDriver) -> SubmitFormResult | None:
        return await _look_up(driver, params)

    return await act(ctx, action, sensitive=params.masked(), after_expiry=after_expiry)
