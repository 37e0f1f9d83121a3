"""The contract between ``rpa demo`` and a scenario module (``examples/scenarios/<name>.py``).

A scenario module provides ``NAME``, ``BOTS``, ``PLATFORMS``, ``platform_settings(handles)``,
``secrets()``, ``prepare(workspace, size=, seed=)``, ``after_main_batch(workspace, handles, queue)``
and ``evaluate(workspace, handles, store, queue)``; see docs/scenarios.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class GroundTruth:
    """What the generator knows about one item, to judge the outcome against."""

    reference: str
    bot: str
    clean: bool
    defect: str | None
    expected_reason_code: str | None
    amount: Decimal | None = None
    account: str | None = None


@dataclass
class ScenarioBatch:
    truths: list[GroundTruth]
    api_items: list[tuple[str, str, dict]] = field(default_factory=list)  # (bot, reference, inputs)
    expected_items: int = 0  # work items the demo waits for (duplicates excluded)


@dataclass
class ScenarioReport:
    name: str
    items: int
    done: int
    straight_through: int
    needs_review: int
    failed: int
    manual_by_reason: dict[str, int]
    clean_total: int
    clean_straight_through: int
    defects_total: int
    defects_caught: int
    wrong_postings: int
    notes: list[str] = field(default_factory=list)
