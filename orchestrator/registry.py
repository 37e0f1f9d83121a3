"""The skill registry: finds skills and services through the ``rpa.skills`` entry-point group.

Each entry point names a module; the registry imports it and collects the functions decorated
with ``@skill`` and ``@service``. Each plugin loads in isolation: one that fails to import
becomes a ``PluginLoadError`` listed by ``rpa skills`` and only workflows that use its skills
fail validation.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

from orchestrator.errors import PluginLoadError, SkillRegistrationError
from orchestrator.plugin import ServiceSpec, SkillSpec, service_spec_of, spec_of

ENTRY_POINT_GROUP = "rpa.skills"


@dataclass
class SkillRegistry:
    """Skills by id (and alias), service factories by name, and plugins that failed to load."""

    skills: dict[str, SkillSpec] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    services: dict[str, ServiceSpec] = field(default_factory=dict)
    failures: list[PluginLoadError] = field(default_factory=list)
    plugins: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_functions(cls, functions: Iterable[Any]) -> SkillRegistry:
        """A registry of exactly these ``@skill`` / ``@service`` functions (tests, embedding)."""
        registry = cls()
        for func in functions:
            registry._add_object(func, plugin="<direct>")
        return registry

    @classmethod
    def from_entry_points(cls, group: str = ENTRY_POINT_GROUP) -> SkillRegistry:
        """Load every module of the entry-point group; a failing plugin is recorded, not fatal."""
        registry = cls()
        for ep in sorted(entry_points(group=group), key=lambda e: e.name):
            try:
                module = ep.load()
            except Exception as exc:  # any import-time failure of a third-party plugin
                registry.failures.append(PluginLoadError(ep.name, f"{type(exc).__name__}: {exc}"))
                continue
            if not isinstance(module, ModuleType):
                registry.failures.append(PluginLoadError(ep.name, "the entry point must name a module"))
                continue
            try:
                registry.add_module(module, plugin=ep.name)
            except SkillRegistrationError as exc:
                registry.failures.append(PluginLoadError(ep.name, str(exc)))
        return registry

    def add_module(self, module: ModuleType, plugin: str) -> None:
        """Collect the skills and services defined in ``module`` and its ``__all__`` imports."""
        for name in sorted(vars(module)):
            self._add_object(getattr(module, name), plugin=plugin)

    def add_module_by_name(self, name: str, plugin: str | None = None) -> None:
        self.add_module(importlib.import_module(name), plugin=plugin or name)

    def _add_object(self, obj: Any, plugin: str) -> None:
        spec = spec_of(obj)
        if spec is not None:
            existing = self.skills.get(spec.id)
            if existing is not None and existing.func is not spec.func:
                raise SkillRegistrationError(
                    f"skill {spec.id} is defined twice: {existing.source} and {spec.source}"
                )
            self.skills[spec.id] = spec
            self.plugins[spec.id] = plugin
            for alias in spec.aliases:
                self.aliases[alias] = spec.id
            return
        service = service_spec_of(obj)
        if service is not None:
            self.services[service.name] = service

    def get(self, skill_id: str) -> SkillSpec | None:
        """The skill registered under ``skill_id`` or one of its aliases."""
        return self.skills.get(skill_id) or self.skills.get(self.aliases.get(skill_id, ""))

    def suggest(self, skill_id: str) -> str | None:
        """The closest registered id, for "did you mean" messages."""
        matches = difflib.get_close_matches(skill_id, list(self.skills) + list(self.aliases), n=1)
        return matches[0] if matches else None

    def __contains__(self, skill_id: object) -> bool:
        return isinstance(skill_id, str) and self.get(skill_id) is not None

    def __iter__(self) -> Any:
        return iter(sorted(self.skills.values(), key=lambda s: s.id))

    def __len__(self) -> int:
        return len(self.skills)
