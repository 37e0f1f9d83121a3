"""Settings of the ledger."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LedgerSettings(BaseModel):
    """Everything the ledger can be started with (unknown names are refused)."""

    model_config = ConfigDict(extra="forbid")

    slow_ms: int = Field(
        0, ge=0, le=600_000, description="Hold every POST /entries this long before recording."
    )
