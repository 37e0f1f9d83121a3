"""Parameter pieces shared by the browser skills: post-conditions and reads."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Expect(BaseModel):
    """A post-condition checked after a step acted; a miss is a ``TechnicalError`` (retried).

    ``text`` alone: the text is visible somewhere on the page. ``selector`` (+ ``text``): the
    element is visible (and contains the text). ``field`` + ``value``: the input labelled
    ``field`` holds exactly ``value``. ``url_contains``: the page's URL contains it.
    """

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, description="Text that must be visible (inside `selector` if given).")
    selector: str | None = Field(None, description="CSS or Playwright selector that must be visible.")
    field: str | None = Field(None, description="Label of an input whose value is checked.")
    value: str | None = Field(None, description="The value the input labelled `field` must hold.")
    url_contains: str | None = Field(None, description="A part the page URL must contain.")
    timeout_seconds: float | None = Field(
        None, gt=0, description="How long to wait for the condition (default: the platform's timeout)."
    )

    @model_validator(mode="after")
    def _one_condition(self) -> Expect:
        if not (self.text or self.selector or self.field or self.url_contains):
            raise ValueError("expect needs at least one of text, selector, field (+ value), url_contains")
        if (self.field is None) != (self.value is None):
            raise ValueError("expect.field and expect.value go together")
        return self


READ_TARGET_HELP = (
    "A CSS/Playwright selector whose text is read (inputs: their value), or 'label:<label>' "
    "for the value of the field with that label."
)
