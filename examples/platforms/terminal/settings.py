"""Settings of the clearing terminal."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_USERS = {"clerk": "clerk-pass"}


class TerminalSettings(BaseModel):
    """Everything the terminal can be started with (unknown names are refused)."""

    model_config = ConfigDict(extra="forbid")

    users: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_USERS), description="User name to password."
    )
