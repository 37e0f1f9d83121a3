"""Hypothesis mutates a valid workflow: ``rpa validate`` always fails with a located message.

The mutations below each make the file invalid on purpose (a missing required field, a wrong
type, an unknown field or argument, an unknown skill, a broken or dangling expression, a
duplicate id, a YAML syntax error); a second property feeds arbitrary text edits and only
requires a clean answer (exit 0 or 1, never a traceback).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.cli.main import main

BASE_FILE = Path(__file__).resolve().parents[2] / "workflows" / "ok" / "hello.yaml"
BASE: dict[str, Any] = yaml.safe_load(BASE_FILE.read_text(encoding="utf-8"))
LOCATED = re.compile(r"^\S+\.yaml:\d+:\d+[: ].*\[[a-z\-]+\]$", re.M)


def _mappings(node: Any, path: tuple = ()) -> list[tuple]:
    found = []
    if isinstance(node, dict):
        found.append(path)
        for key, value in node.items():
            found.extend(_mappings(value, (*path, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_mappings(value, (*path, index)))
    return found


def _get(node: Any, path: tuple) -> Any:
    for key in path:
        node = node[key]
    return node


# free-form mappings (outputs, a skill argument that is itself a mapping) accept any key
MAPPINGS = [p for p in _mappings(BASE) if p[:1] != ("outputs",) and not (len(p) > 3 and p[2] == "with")]
STEP_COUNT = len(BASE["steps"])
WRONG_VALUES = {
    "max_attempts": ["many", -1, [1]],
    "timeout": ["soon", "-5s", "5 minutes"],
    "on_error": ["ignore", "RETRY", 3],
    "id": ["Bad Id", "", "9lives"],
    "name": ["Has Spaces", ""],
    "foreach": ["not an expression"],
}


@st.composite
def broken_workflow(draw: st.DrawFn) -> str:
    doc = copy.deepcopy(BASE)
    kind = draw(
        st.sampled_from(
            ["drop", "wrong", "unknown_field", "unknown_arg", "skill", "expr", "ref", "dup", "syntax"]
        )
    )
    step_index = draw(st.integers(0, STEP_COUNT - 1))
    step = doc["steps"][step_index]
    if kind == "drop":
        target = draw(st.sampled_from(["name", "steps", "step.id", "step.uses"]))
        if target in ("name", "steps"):
            del doc[target]
        else:
            del step[target.split(".")[1]]
    elif kind == "wrong":
        field = draw(st.sampled_from(sorted(WRONG_VALUES)))
        value = draw(st.sampled_from(WRONG_VALUES[field]))
        if field == "name":
            doc["name"] = value
        elif field == "max_attempts":
            step["retry"] = {"max_attempts": value}
        else:
            step[field] = value
    elif kind == "unknown_field":
        path = draw(st.sampled_from(MAPPINGS))
        target = _get(doc, path)
        target[draw(st.sampled_from(["colour", "retries", "timeOut", "zz"]))] = "x"
    elif kind == "unknown_arg":
        step.setdefault("with", {})["no_such_argument_" + draw(st.text("abc", min_size=1, max_size=3))] = "x"
    elif kind == "skill":
        step["uses"] = draw(st.sampled_from(["think.evaluat", "do.teleport", "see.everything", "nonsense"]))
    elif kind == "expr":
        step.setdefault("with", {})["value" if step["uses"] == "think.evaluate" else "path"] = draw(
            st.sampled_from(
                [
                    "${{ 1 + }}",
                    "${{ __import__('os') }}",
                    "${{ x.__class__ }}",
                    "${{ open('f') }}",
                    "${{ inputs.amount ** }}",
                    "${{ [i for i in inputs] }}",
                    "${{ unclosed",
                ]
            )
        )
    elif kind == "ref":
        # the last step (receipt) cannot be read by any step, itself included; item only exists in a foreach
        dangling = ["${{ inputs.nope }}", "${{ steps.receipt.path }}", "${{ steps.ghost.x }}"]
        if "foreach" not in step:
            dangling.append("${{ item }}")
        step.setdefault("with", {})["value" if step["uses"] == "think.evaluate" else "path"] = draw(
            st.sampled_from(dangling)
        )
    elif kind == "dup":
        other = doc["steps"][(step_index + 1) % STEP_COUNT]
        other["id"] = step["id"]
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    if kind == "syntax":
        lines = text.splitlines()
        # break a structural line (a key line, not the inside of a quoted or block string)
        structural = [
            i for i, line in enumerate(lines) if re.match(r"^(name|inputs|steps|outputs):|^- id:", line)
        ]
        at = draw(st.sampled_from(structural))
        lines[at] = lines[at] + draw(st.sampled_from([" [unclosed", ": : :", " {a: b", "\t- x: ]"]))
        text = "\n".join(lines) + "\n"
    return text


def _validate(tmp: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    target = tmp / "mutated.yaml"
    target.write_text(text, encoding="utf-8")
    code = main(["validate", str(target)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=broken_workflow())
def test_every_broken_workflow_gets_a_located_error(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = _validate(tmp_path, text, capsys)
    assert code == 1, output
    assert LOCATED.search(output), output
    assert "Traceback" not in output
    assert "internal error" not in output


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    position=st.floats(0, 1),
    cut=st.integers(0, 40),
    insert=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20),
)
def test_arbitrary_edits_never_crash(
    position: float, cut: int, insert: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = BASE_FILE.read_text(encoding="utf-8")
    at = int(position * len(base))
    code, output = _validate(tmp_path, base[:at] + insert + base[at + cut :], capsys)
    assert code in (0, 1), output
    assert "Traceback" not in output
    assert "internal error" not in output
    if code == 1:
        assert LOCATED.search(output), output
