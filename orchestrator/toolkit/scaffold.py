"""``rpa new``: a workflow, a bot or a skill plugin package that validates as created."""

from __future__ import annotations

import os
import re
from pathlib import Path

from orchestrator.enums import Capability
from orchestrator.errors import ConfigError
from orchestrator.spec.workflow import WORKFLOW_NAME
from orchestrator.toolkit import scaffold_templates as templates

SKILL_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
PACKAGE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def _check_name(name: str, what: str) -> None:
    if not re.match(WORKFLOW_NAME, name):
        raise ConfigError(
            f"{what} name {name!r} must start with a letter and use lower-case letters, digits, - and _"
        )


def _write(files: dict[Path, str], force: bool) -> list[Path]:
    existing = [path for path in files if path.exists()]
    if existing and not force:
        shown = ", ".join(str(p) for p in existing)
        raise ConfigError(f"{shown} already exist(s); use --force to overwrite")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)


def schema_reference(file: Path, kind: str, root: Path | None = None) -> str:
    """The ``$schema`` path of a new file: ``schema/<kind>.schema.json`` under ``root``
    (default: the current folder), relative to the file's folder."""
    schema = (root or Path.cwd()).resolve() / "schema" / f"{kind}.schema.json"
    return Path(os.path.relpath(schema, file.resolve().parent)).as_posix()


def new_workflow(name: str, directory: Path, *, force: bool = False) -> list[Path]:
    """Create ``directory/NAME.yaml``: two inputs, three steps, two outputs."""
    _check_name(name, "workflow")
    path = directory / f"{name}.yaml"
    text = templates.WORKFLOW.format(
        name=name, file=path.as_posix(), schema=schema_reference(path, "workflow")
    )
    return _write({path: text}, force)


def new_bot(name: str, directory: Path, *, workflow: Path | None = None, force: bool = False) -> list[Path]:
    """Create ``directory/NAME.yaml`` and, without ``workflow``, ``workflows/NAME.yaml`` for it."""
    _check_name(name, "bot")
    path = directory / f"{name}.yaml"
    created: list[Path] = []
    if workflow is None:
        workflow = Path("workflows") / f"{name}.yaml"
        if not workflow.exists() or force:
            created += new_workflow(name, workflow.parent, force=force)
    elif not workflow.is_file():
        raise ConfigError(f"workflow file {workflow} does not exist")
    relative = Path(os.path.relpath(workflow.resolve(), path.resolve().parent)).as_posix()
    text = templates.BOT.format(
        name=name, file=path.as_posix(), workflow=relative, schema=schema_reference(path, "bot")
    )
    return created + _write({path: text}, force)


def new_skill_package(
    name: str, capability: str, directory: Path, *, package: str | None = None, force: bool = False
) -> list[Path]:
    """Create a plugin package: ``pyproject.toml`` (entry point ``rpa.skills``), the skill module,
    a test using ``skills.testing.run_skill`` and a README."""
    try:
        chosen = Capability(capability)
    except ValueError:
        raise ConfigError(
            f"capability {capability!r} is not one of {', '.join(c.value for c in Capability)}"
        ) from None
    if not SKILL_NAME.match(name):
        raise ConfigError(
            f"skill name {name!r} must be lower_snake_case (letters, digits, _), e.g. normalise_reference"
        )
    package = package or f"rpa_{name}"
    if not PACKAGE_NAME.match(package):
        raise ConfigError(f"package name {package!r} must be a lower-case Python identifier")
    skill_id = f"{chosen.value}.{name}"
    camel = "".join(part.capitalize() for part in name.split("_"))
    values = {
        "skill_id": skill_id,
        "distribution": package.replace("_", "-"),
        "package": package,
        "entry_name": package,
        "function": name,
        "params_class": f"{camel}Params",
        "result_class": f"{camel}Result",
        "effect": "idempotent" if chosen is Capability.do else "none",
        "summary": "Normalise a business reference (trim, upper case) and check its length.",
    }
    root = directory / package
    files = {
        root / "pyproject.toml": templates.SKILL_PYPROJECT.format(**values),
        root / "README.md": templates.SKILL_README.format(**values),
        root / package / "__init__.py": templates.SKILL_INIT.format(**values),
        root / package / "skills.py": templates.SKILL_MODULE.format(**values),
        root / "tests" / f"test_{name}.py": templates.SKILL_TEST.format(**values),
    }
    return _write(files, force)
