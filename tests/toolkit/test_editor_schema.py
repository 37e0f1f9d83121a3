"""Editor support: committed JSON Schemas, the ``$schema`` modeline in shipped YAML, the VS Code example."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

from orchestrator.cli.main import main as rpa_main
from orchestrator.spec.kinds import detect_kind
from orchestrator.spec.yamlsource import load_yaml_file

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "schema"
SHIPPED_DIRS = ("workflows", "bots", "examples/workflows")
MODELINE = re.compile(r"^#\s*yaml-language-server:\s*\$schema=(\S+)\s*$")


def shipped_yaml() -> list[Path]:
    files: list[Path] = []
    for folder in SHIPPED_DIRS:
        files += sorted(p for p in (ROOT / folder).rglob("*") if p.suffix in {".yaml", ".yml"})
    return files


def modeline_of(path: Path) -> str | None:
    """The ``$schema`` of the file's leading comment block, if it has one."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            return None
        match = MODELINE.match(line)
        if match:
            return match.group(1)
    return None


@pytest.mark.parametrize("kind", ["workflow", "bot"])
def test_committed_schemas_match_rpa_schema(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert rpa_main(["schema", kind]) == 0
    generated = capsys.readouterr().out
    committed = SCHEMA_DIR / f"{kind}.schema.json"
    current = committed.read_text(encoding="utf-8") if committed.is_file() else ""
    assert current == generated, (
        f"schema/{kind}.schema.json is out of date (a skill or the {kind} format changed). Regenerate it "
        f"from the repository root with:\n    .venv/bin/rpa schema {kind} -o schema/{kind}.schema.json\n"
        "and commit the result."
    )


def test_every_shipped_workflow_and_bot_names_its_schema() -> None:
    problems = []
    for path in shipped_yaml():
        kind = detect_kind(load_yaml_file(path))
        expected = Path(os.path.relpath(SCHEMA_DIR / f"{kind}.schema.json", path.parent)).as_posix()
        found = modeline_of(path)
        if found != expected:
            problems.append(
                f"{path.relative_to(ROOT)}: expected the first line '# yaml-language-server: $schema={expected}' "
                f"(a {kind} file), found {found!r}"
            )
        elif not (path.parent / found).resolve().is_file():
            problems.append(f"{path.relative_to(ROOT)}: $schema {found} does not exist")
    assert shipped_yaml(), "no shipped YAML found; the folders moved?"
    assert not problems, "\n".join(problems)


def test_every_shipped_file_passes_its_schema_as_an_editor_checks_it() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="the jsonschema package is not installed")
    validators = {
        kind: jsonschema.Draft202012Validator(json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text()))
        for kind in ("workflow", "bot")
    }
    for path in shipped_yaml():
        kind = detect_kind(load_yaml_file(path))
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validators[kind].iter_errors(data)]
        assert not errors, f"{path.relative_to(ROOT)} fails {kind}.schema.json:\n" + "\n".join(errors)


def test_the_schema_flags_a_misspelt_argument_and_a_bad_retry() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="the jsonschema package is not installed")
    validator = jsonschema.Draft202012Validator(json.loads((SCHEMA_DIR / "workflow.schema.json").read_text()))
    data = yaml.safe_load((ROOT / "examples" / "workflows" / "hello.yaml").read_text(encoding="utf-8"))
    data["steps"][3]["with"]["contents"] = data["steps"][3]["with"].pop("content")
    data["steps"][0]["retry"] = {"max_attempts": 0}

    messages = sorted(e.message for e in validator.iter_errors(data))

    assert any("'contents' was unexpected" in m for m in messages), messages
    assert any("'content' is a required property" in m for m in messages), messages
    assert any("is not valid under any of the given schemas" in m for m in messages), messages


def test_the_vscode_example_maps_both_schemas_to_the_shipped_folders() -> None:
    settings = json.loads((ROOT / ".vscode" / "settings.json.example").read_text(encoding="utf-8"))
    mapping = settings["yaml.schemas"]

    assert "workflows/**/*.yaml" in mapping["./schema/workflow.schema.json"]
    assert "examples/workflows/**/*.yaml" in mapping["./schema/workflow.schema.json"]
    assert "bots/**/*.yaml" in mapping["./schema/bot.schema.json"]
    for schema in mapping:
        assert (ROOT / schema).is_file(), schema
