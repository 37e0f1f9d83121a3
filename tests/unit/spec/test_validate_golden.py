"""Golden tests (actionlint style): each tests/workflows/err/X.yaml has the exact diagnostics in X.out.

Regenerate after an intended change with ``RPA_UPDATE_GOLDEN=1 pytest tests/unit/spec/test_validate_golden.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.registry import SkillRegistry
from orchestrator.spec.kinds import validate_any_file

CASES = Path(__file__).resolve().parents[2] / "workflows"


@pytest.fixture(scope="module")
def registry() -> SkillRegistry:
    return SkillRegistry.from_entry_points()


@pytest.mark.parametrize("case", sorted((CASES / "err").glob("*.yaml")), ids=lambda p: p.stem)
def test_error_cases_match_golden_output(
    case: Path, registry: SkillRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CASES.parent.parent)
    relative = case.relative_to(CASES.parent.parent)
    got = "".join(f"{d}\n" for d in validate_any_file(relative, registry))
    golden = case.with_suffix(".out")
    if os.environ.get("RPA_UPDATE_GOLDEN"):
        golden.write_text(got, encoding="utf-8")
    assert got, "an error case must produce diagnostics"
    assert got == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", sorted((CASES / "ok").glob("*.yaml")), ids=lambda p: p.stem)
def test_ok_cases_have_no_diagnostics(case: Path, registry: SkillRegistry) -> None:
    assert validate_any_file(case, registry) == []


SHIPPED = sorted(
    p
    for folder in ("workflows", "bots", "examples/workflows")
    for p in (CASES.parent.parent / folder).glob("*.yaml")
)


@pytest.mark.parametrize("shipped", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_workflow_and_bot_validates(shipped: Path, registry: SkillRegistry) -> None:
    assert [str(d) for d in validate_any_file(shipped, registry)] == []
