"""The public API for writing skills, plus the built-in skills (one sub-package per capability).

Write a skill like this (see ``docs/writing-skills.md``)::

    from pydantic import BaseModel
    from skills import BusinessError, SkillContext, skill

    class Params(BaseModel):
        name: str

    class Result(BaseModel):
        greeting: str

    @skill("think.greet", effect="none")
    def greet(ctx: SkillContext, params: Params) -> Result:
        \"\"\"Say hello.\"\"\"
        return Result(greeting=f"hello {params.name}")

and register the module in your package's ``pyproject.toml``::

    [project.entry-points."rpa.skills"]
    greet = "my_package.skills"
"""

from orchestrator.enums import Capability as Capability
from orchestrator.enums import Effect as Effect
from orchestrator.errors import BusinessError as BusinessError
from orchestrator.errors import ResourceUnavailable as ResourceUnavailable
from orchestrator.errors import SkillError as SkillError
from orchestrator.errors import SkillTimeout as SkillTimeout
from orchestrator.errors import TechnicalError as TechnicalError
from orchestrator.plugin import EmptyResult as EmptyResult
from orchestrator.plugin import EvidenceRef as EvidenceRef
from orchestrator.plugin import PlatformInfo as PlatformInfo
from orchestrator.plugin import SkillContext as SkillContext
from orchestrator.plugin import SkillSpec as SkillSpec
from orchestrator.plugin import service as service
from orchestrator.plugin import skill as skill
from orchestrator.retry import RetryPolicy as RetryPolicy

__all__ = [
    "BusinessError",
    "Capability",
    "Effect",
    "EmptyResult",
    "EvidenceRef",
    "PlatformInfo",
    "ResourceUnavailable",
    "RetryPolicy",
    "SkillContext",
    "SkillError",
    "SkillSpec",
    "SkillTimeout",
    "TechnicalError",
    "service",
    "skill",
]
