"""The run engine. Depends only on contracts (``orchestrator.abc``), never on a backend."""

from orchestrator.engine.clock import Clock as Clock
from orchestrator.engine.clock import SystemClock as SystemClock
from orchestrator.engine.executor import EngineConfig as EngineConfig
from orchestrator.engine.executor import RunExecutor as RunExecutor
from orchestrator.engine.executor import RunOutcome as RunOutcome

__all__ = ["Clock", "EngineConfig", "RunExecutor", "RunOutcome", "SystemClock"]
