"""pytest plugin of Digital Employee: fixtures to run workflows offline with fake skills.

Registered as the ``rpa`` plugin through the ``pytest11`` entry point. Importing it costs
nothing: the engine and the skill registry are loaded only when a test asks for a fixture.

Fixtures:
    workflow_runner: a ``WorkflowRunner`` working in the test's ``tmp_path`` (its own SQLite
        store, files and evidence), closed after the test.
    rpa_registry: the registry of every installed skill plugin, loaded once per session.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from orchestrator.registry import SkillRegistry
    from orchestrator.toolkit.runner import WorkflowRunner


@pytest.fixture(scope="session")
def rpa_registry() -> SkillRegistry:
    """Every installed skill (entry points ``rpa.skills``), loaded once per test session."""
    from orchestrator.toolkit.runner import installed_registry

    return installed_registry()


@pytest.fixture
def workflow_runner(tmp_path: Path, rpa_registry: SkillRegistry) -> Iterator[WorkflowRunner]:
    """Runs workflows offline in ``tmp_path``: ``workflow_runner.run(path, inputs, fakes={...})``."""
    from orchestrator.toolkit.runner import WorkflowRunner

    runner = WorkflowRunner(tmp_path / "workflow-run", registry=rpa_registry)
    try:
        yield runner
    finally:
        runner.close()
