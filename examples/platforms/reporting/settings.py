"""Settings of the reporting platform: only fault injection."""

from __future__ import annotations

from examples.platforms.common.faults import FaultOptions


class ReportingSettings(FaultOptions):
    """Everything the reporting platform can be started with (unknown names are refused)."""

    def fault_options(self) -> FaultOptions:
        """The fault-injection part of these settings."""
        return FaultOptions.model_validate(self.model_dump(include=set(FaultOptions.model_fields)))
