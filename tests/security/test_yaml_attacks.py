"""Hostile YAML through the real ``rpa`` command: code tags, huge and deep documents, alias bombs.

Workflows, bots, the settings file and ``--inputs-file`` all go through one safe loader. Each
attack must be refused with ``file:line:col`` and a rule name, without a traceback, without
running anything (the ``os.system`` payload would create a marker file) and without expanding
an alias bomb in memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

STEP = "steps:\n  - id: a\n    uses: think.evaluate\n    with:\n      value: {value}\n"


def _alias_bomb(levels: int = 9) -> str:
    lines = ["name: bomb", 'lol0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"lol{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n" + STEP.format(value=f"*a{levels}")


def _files(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """name -> (content, expected fragment of the diagnostic)."""
    marker = tmp_path / "pwned"
    return {
        "apply.yaml": (
            "name: t\n" + STEP.format(value=f'!!python/object/apply:os.system ["touch {marker}"]'),
            ":6:14 steps[0].with.value: tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed",
        ),
        "new.yaml": (
            "name: t\n" + STEP.format(value="!!python/object/new:subprocess.Popen [[touch, x]]"),
            ":6:14 steps[0].with.value: tag 'tag:yaml.org,2002:python/object/new:subprocess.Popen'",
        ),
        "name_tag.yaml": ("name: !!python/name:os.system t\nsteps: []\n", ":1:7 name: tag"),
        "module_tag.yaml": ("name: t\n" + STEP.format(value="!!python/module:os"), ":6:14"),
        "custom_tag.yaml": ("name: t\n" + STEP.format(value="!include /etc/passwd"), "tag '!include'"),
        "key_tag.yaml": (
            "name: t\n!!python/name:os.system : 1\nsteps: []\n",
            ":2:1 ?: mapping keys must be plain strings",
        ),
        "merge.yaml": ("name: t\nbase: &b {x: 1}\nother: {<<: *b}\nsteps: []\n", "merge keys (<<)"),
        "big.yaml": (
            "name: t\n" + STEP.format(value='"' + "x" * 2_100_000 + '"'),
            ":1:1: document is larger than 2000000 bytes [too-large]",
        ),
        "deep.yaml": ("name: t\n" + STEP.format(value="[" * 100 + "]" * 100), "nested deeper than 64 levels"),
        "deeper.yaml": ("name: t\n" + STEP.format(value="[" * 20_000 + "]" * 20_000), "nesting depth"),
        "bomb.yaml": (_alias_bomb(), "document has more than 200000 values [too-large]"),
    }


_MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": done.returncode, "out": done.stdout, "err": done.stderr, "peak_kb": peak}))
"""


def _validate_measuring_memory(
    folder: Path, files: list[str]
) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run ``rpa validate`` under a fresh parent whose only child it is, so its peak RSS is its own."""
    rpa = str(Path(sys.executable).parent / "rpa")
    wrapper = subprocess.run(
        [sys.executable, "-c", _MEASURE, rpa, "validate", *files],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    data = json.loads(wrapper.stdout)
    return subprocess.CompletedProcess(["rpa", "validate"], data["code"], data["out"], data["err"]), data[
        "peak_kb"
    ]


def test_hostile_workflows_are_refused_with_located_errors(tmp_path: Path, run_rpa) -> None:
    files = _files(tmp_path)
    for name, (content, _) in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    result, peak_kb = _validate_measuring_memory(tmp_path, list(files))
    before = 0
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    for name, (_, expected) in files.items():
        lines = [line for line in result.stdout.splitlines() if line.startswith(f"{name}:")]
        assert lines, f"{name} was not reported:\n{result.stdout[:3000]}"
        assert any(expected in line for line in lines), f"{name}: {lines}"
        assert all(line.rstrip().endswith("]") for line in lines), lines  # every line names its rule
    assert f"{len(files)} file(s) checked, 0 valid" in result.stderr
    assert not (tmp_path / "pwned").exists()
    # the alias bomb expands to 10**10 strings; refusing it must not come near that
    print(f"rpa validate peak RSS {peak_kb / 1024:.0f} MB (children peak before: {before / 1024:.0f} MB)")
    assert peak_kb < 600 * 1024


def test_a_bot_file_with_a_code_tag_is_refused(tmp_path: Path, run_rpa) -> None:
    (tmp_path / "wf.yaml").write_text("name: wf\n" + STEP.format(value="1"), encoding="utf-8")
    bot = tmp_path / "evil.bot.yaml"
    bot.write_text(
        textwrap.dedent(f"""
            name: evil
            workflow: wf.yaml
            triggers:
              - type: interval
                every: !!python/object/apply:os.system ["touch {tmp_path / "pwned"}"]
        """).lstrip(),
        encoding="utf-8",
    )
    result = run_rpa("validate", str(bot), cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{bot}:5:12 triggers[0].every:" in result.stdout
    assert "[unsafe-tag]" in result.stdout
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("where", ["config", "inputs"])
def test_settings_and_inputs_files_are_loaded_safely(tmp_path: Path, run_rpa, where: str) -> None:
    (tmp_path / "wf.yaml").write_text("name: wf\n" + STEP.format(value="1"), encoding="utf-8")
    evil = tmp_path / "evil.yaml"
    evil.write_text(
        f'home: !!python/object/apply:os.system ["touch {tmp_path / "pwned"}"]\n', encoding="utf-8"
    )
    if where == "config":
        result = run_rpa("--config", str(evil), "runs", cwd=tmp_path)
    else:
        result = run_rpa("run", "wf.yaml", "--inputs-file", str(evil), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert f"{evil}:1:7" in result.stderr
    assert "is not allowed" in result.stderr
    assert not (tmp_path / "pwned").exists()
