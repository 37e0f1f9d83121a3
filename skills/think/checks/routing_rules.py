"""The routing rules file (``config/routing.yaml``): its model and its located loader.

The file is read with the project's located YAML loader (every scalar stays a string, so
``17:00`` is not 1020 and ``1000000.00`` is not a float) and validated with pydantic; every
problem is reported at once as ``file:line:col path: message [rule]``.
"""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator.errors import ConfigError
from orchestrator.spec.diagnostics import Diagnostic, validate_model
from orchestrator.spec.yamlsource import LocatedYaml, load_yaml, load_yaml_file


class ScreeningRules(BaseModel):
    """How sanctions screening feeds the decision."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float = Field(85.0, ge=0, le=100, description="Minimum score (0-100) of a screening hit.")
    entry_types: list[str] | None = Field(
        None,
        description="Only hits on these entry types count (individual, entity, vessel, aircraft); all if absent.",
    )


class CrossBorderRules(BaseModel):
    """What a cross-border RMB payment must carry (payments-spec section 7)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    clearing_systems: list[str] = Field(
        default_factory=lambda: ["CIPS"],
        description="Clearing systems whose payments are always cross-border.",
    )
    cnaps_business_kinds: list[str] = Field(
        default_factory=lambda: ["02112", "02113", "02114", "02115", "02116", "02117"],
        description="CNAPS 业务种类 codes that mark a cross-border RMB payment.",
    )
    require_purpose: bool = Field(True, description="A purpose text (用途 / remittance purpose) is required.")
    require_reporting_code: bool = Field(True, description="A 6-digit BOP 涉外收支交易编码 is required.")
    reporting_code_pattern: str = Field(
        r"^[1-9]\d{5}$", description="Regular expression a reporting code must match (first digit 1-9)."
    )
    reporting_codes: list[str] | None = Field(
        None, description="If given, the only reporting codes accepted (the bank's copy of the SAFE table)."
    )

    @field_validator("reporting_code_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value


class RoutingRules(BaseModel):
    """Rules that send a payment straight through (STP) or to a person."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(1, description="Version of this file's layout; only 1 exists.")
    timezone: str = Field("Asia/Shanghai", description="Time zone the cut-off times are in.")
    four_eyes_threshold: Decimal = Field(
        ..., gt=0, description="Amounts above this need a second person (four-eyes check)."
    )
    currencies: list[str] = Field(
        default_factory=lambda: ["CNY"], description="Currencies this desk processes straight through."
    )
    cutoffs: dict[str, time] = Field(
        default_factory=dict,
        description="Clearing system -> last local time (HH:MM) a payment is accepted for today. "
        "A system not listed has no cut-off (runs 7x24, e.g. IBPS).",
    )
    screening: ScreeningRules = Field(default_factory=ScreeningRules, description="Screening settings.")
    cross_border: CrossBorderRules = Field(
        default_factory=CrossBorderRules, description="Cross-border RMB requirements."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (expected an IANA name like Asia/Shanghai)"
            ) from exc
        return value

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != 1:
            raise ValueError(f"routing rules version {value} is not supported (expected 1)")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class RoutingRulesError(ConfigError):
    """The routing rules file is invalid; ``diagnostics`` lists every problem with its position."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        lines = "\n".join(str(d) for d in diagnostics)
        super().__init__(f"invalid routing rules ({len(diagnostics)} problem(s)):\n{lines}")


def _validated(doc: LocatedYaml) -> RoutingRules:
    if doc.errors:
        raise RoutingRulesError(list(doc.errors))
    if not isinstance(doc.data, dict):
        raise RoutingRulesError([doc.diagnostic((), "expected a mapping of routing rules", "schema")])
    rules, diagnostics = validate_model(RoutingRules, doc)
    if diagnostics or not isinstance(rules, RoutingRules):
        raise RoutingRulesError(diagnostics)
    return rules


def load_routing_rules(path: str | Path) -> RoutingRules:
    """Read and validate a routing rules file.

    Raises:
        RoutingRulesError: the file is unreadable or invalid; every problem is listed with its
            ``file:line:col`` and field path.
    """
    return _validated(load_yaml_file(path))


def parse_routing_rules(text: str, file: str = "<routing rules>") -> RoutingRules:
    """Validate routing rules given as YAML text (``file`` names it in messages)."""
    return _validated(load_yaml(text, file))
