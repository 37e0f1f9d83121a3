"""Testing workflows offline: the ``workflow_runner`` pytest fixture and fake skills.

The pytest plugin (``orchestrator.testing.plugin``) is registered through the ``pytest11``
entry point, so any project with Digital Employee installed gets the fixtures. See
``docs/authoring.md``, "Testing a workflow offline".
"""

from orchestrator.toolkit.fakes import FakeCall as FakeCall
from orchestrator.toolkit.fakes import FakeSetupError as FakeSetupError
from orchestrator.toolkit.fakes import FakeSkill as FakeSkill
from orchestrator.toolkit.fakes import fake as fake
from orchestrator.toolkit.recording import Recording as Recording
from orchestrator.toolkit.recording import record_run as record_run
from orchestrator.toolkit.replay import ReplayReport as ReplayReport
from orchestrator.toolkit.replay import replay_workflow as replay_workflow
from orchestrator.toolkit.results import WorkflowRun as WorkflowRun
from orchestrator.toolkit.runner import WorkflowRunner as WorkflowRunner

__all__ = [
    "FakeCall",
    "FakeSetupError",
    "FakeSkill",
    "Recording",
    "ReplayReport",
    "WorkflowRun",
    "WorkflowRunner",
    "fake",
    "record_run",
    "replay_workflow",
]
