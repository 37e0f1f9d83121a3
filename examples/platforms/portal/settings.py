"""Settings of the core banking portal."""

from __future__ import annotations

from pydantic import Field

from examples.platforms.common.faults import FaultOptions

DEFAULT_USERS = {"bot": "bot-password", "operator": "operator-password"}


class PortalSettings(FaultOptions):
    """Everything the portal can be started with (unknown names are refused)."""

    users: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_USERS), description="User name to password."
    )
    reject_duplicates: bool = Field(
        False, description="Refuse a credit whose reference is already posted (default: record it)."
    )
    session_ttl_s: float = Field(1800.0, gt=0, description="Seconds a sign-in stays valid.")
    secret_key: str | None = Field(
        None, description="Key that signs session cookies; random per process when not given."
    )

    def fault_options(self) -> FaultOptions:
        """The fault-injection part of these settings."""
        return FaultOptions.model_validate(self.model_dump(include=set(FaultOptions.model_fields)))
