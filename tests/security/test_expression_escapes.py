"""Sandbox escapes and resource bombs in ``${{ }}`` expressions: refused statically and at run time.

Static: every attempt in ``ESCAPES`` is written into one workflow and ``rpa validate`` (the real
console script) must report each one with its ``file:line:col`` and the ``[expression]`` rule.
At run time the dangerous values come from data (work-item inputs), so nothing can be checked
before the run: the run must park with an expression error naming the step, quickly and without
building the huge value.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest
from security_harness import EngineHarness

from orchestrator.errors import ExpressionError
from orchestrator.expressions import compile_expression, evaluate
from orchestrator.secrets import EnvSecretSource
from skills.think.basics import evaluate as evaluate_skill

ESCAPES = [
    "().__class__",
    "inputs.__class__",
    "inputs['__class__']",
    "inputs['__globals__']",
    "__import__('os')",
    "getattr(inputs, 'x')",
    "eval('1')",
    "open('/etc/passwd')",
    "'{0.__class__}'.format(1)",
    "'{0}'.format",
    "str.format_map",
    "str.format",
    "f'{inputs}'",
    "lambda: 1",
    "[x for x in inputs]",
    "(x for x in inputs)",
    "{x: 1 for x in inputs}",
    "{x for x in inputs}",
    "(y := 1)",
    "[*inputs]",
    "max(*inputs)",
    "max(**inputs)",
    "min(inputs, key=len)",
    "len.__self__",
    "len.__call__",
    "inputs.x.__class__.__mro__",
    "9**9**9",
    "2**1000",
    "'a' * 10**9",
    "['a' * 100000] * 100000",
    "join(['a' * 100000] * 100000, '')",
    "str(['a' * 100000] * 100000)",
    "replace('a' * 100000, '', 'b' * 100000)",
    "sum([[1] * 1000] * 1000, [])",
    "'%999999999d' % 1",
    "int(decimal('1e999999999'))",
    "int('9' * 5000)",
    "now('/etc/localtime/../../etc/passwd')",
    "x" * 2100,
    "(" * 300 + "1" + ")" * 300,
    "-" * 1000 + "1",
    "inputs" + ".a" * 500,
    "'\\x00'.join",
    "'\x00'",  # a real NUL byte (YAML "\u0000"): some Python versions raise ValueError here
    "yield 1",
    "await inputs",
]


def test_every_escape_attempt_is_refused_by_rpa_validate(tmp_path: Path, run_rpa) -> None:
    lines = ["name: escapes", "steps:"]
    for number, attack in enumerate(ESCAPES):
        lines += [
            f"  - id: s{number}",
            "    uses: think.evaluate",
            "    with:",
            f"      value: {json.dumps('${{ ' + attack + ' }}')}",
        ]
    workflow = tmp_path / "escapes.yaml"
    workflow.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = run_rpa("validate", str(workflow), cwd=tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    reported = [line for line in result.stdout.splitlines() if line.strip()]
    for number, attack in enumerate(ESCAPES):
        line = 6 + 4 * number  # the line of "value:" of step s<number>
        located = [r for r in reported if r.startswith(f"{workflow}:{line}:") and "[expression]" in r]
        assert located, f"{attack[:60]!r} was not reported at line {line}:\n{result.stdout[-3000:]}"
        assert f"steps[{number}].with.value" in located[0]
    assert f"{len(ESCAPES)} problem(s)" in result.stderr


@pytest.mark.parametrize("attack", ESCAPES)
def test_each_escape_attempt_fails_to_compile(attack: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(attack)
    assert caught.value.message  # a readable reason, never an empty one


# Run-time attempts: the expression is harmless text, the danger is in the data.
DATA = {
    "text": "a" * 100_000,
    "count": 10**9,
    "key": "__class__",
    "amount": "1e999999999",
    "hex": "f" * 50_000,
    "power": 10**9,
    "small": "x",
}
RUNTIME_ATTACKS = [
    "inputs.small * inputs.count",
    "[inputs.text] * inputs.count",
    "[inputs.text] * 100",
    "join([inputs.text] * 100, '')",
    "str([inputs.small] * 1000000)",
    "replace(inputs.text, '', inputs.text)",
    "inputs[inputs.key]",
    "int(decimal(inputs.amount))",
    "int(inputs.hex, 16)",
    "decimal(inputs.small) ** inputs.power",
    "2 ** inputs.power",
    "inputs.text + inputs.text",
    "'%s' % inputs.small",
    "format_amount(decimal(inputs.amount))",
    "round(decimal(inputs.amount), inputs.power)",
]


def _scope() -> dict[str, object]:
    return {"inputs": dict(DATA), "steps": {}, "item": None, "index": 0, "secrets": {}, "env": {}, "run": {}}


@pytest.mark.parametrize("attack", RUNTIME_ATTACKS)
def test_data_cannot_make_an_expression_escape_or_explode(attack: str) -> None:
    compiled = compile_expression(attack)  # statically fine: only the data is hostile
    tracemalloc.start()
    try:
        with pytest.raises(ExpressionError) as caught:
            evaluate(compiled, _scope())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert attack in caught.value.message or "arithmetic" in caught.value.message
    assert peak < 20_000_000, f"{attack}: {peak} bytes allocated while refusing"


def test_worst_attempts_are_refused_quickly_in_total() -> None:
    """A hang guard, not a performance claim: all attempts together stay far below 2 s."""
    started = time.perf_counter()
    for attack in ESCAPES:
        with pytest.raises(ExpressionError):
            compile_expression.__wrapped__(attack)  # bypass the cache: measure the real work
    for attack in RUNTIME_ATTACKS:
        with pytest.raises(ExpressionError):
            evaluate(compile_expression(attack), _scope())
    elapsed = time.perf_counter() - started
    print(f"{len(ESCAPES) + len(RUNTIME_ATTACKS)} attempts refused in {elapsed * 1000:.1f} ms")
    assert elapsed < 2.0


def test_legitimate_expressions_still_work() -> None:
    scope = {**_scope(), "inputs": {"amount": Decimal("12345.60"), "refs": ["A", "B"], "name": "张三"}}
    cases = {
        "round(inputs.amount * 0.001, 2)": Decimal("12.35"),
        "join(inputs.refs, '/')": "A/B",
        "str(inputs.refs)": "['A', 'B']",
        "replace(inputs.name, '三', '四')": "张四",
        "int('0042')": 42,
        "sum([1, 2, 3])": 6,
        "inputs.amount % 100": Decimal("45.60"),
        "[0] * 1000 == [0] * 1000": True,
        "'-' * 80": "-" * 80,
        "format_amount(inputs.amount)": "12,345.60",
    }
    for source, expected in cases.items():
        assert evaluate(compile_expression(source), scope) == expected, source


def test_data_that_looks_like_an_expression_is_never_evaluated(tmp_path: Path) -> None:
    """Expression injection: a message field holding ``${{ secrets.X }}`` stays plain text."""
    harness = EngineHarness(
        tmp_path, [evaluate_skill], secrets=EnvSecretSource({"RPA_SECRET_PORTAL_PASSWORD": "hunter2-secret"})
    )
    try:
        outcome = harness.run(
            """
            name: injection
            inputs: {remittance: {type: string}}
            steps:
              - id: copy
                uses: think.evaluate
                with: {value: "note: ${{ inputs.remittance }}"}
            outputs: {note: "${{ steps.copy.value }}"}
            """,
            {"remittance": "${{ secrets.PORTAL_PASSWORD }} ${{ __import__('os') }}"},
        )
    finally:
        harness.close()
    assert outcome.status.value == "done", outcome.reason
    assert outcome.outputs == {"note": "note: ${{ secrets.PORTAL_PASSWORD }} ${{ __import__('os') }}"}


def test_a_hostile_value_parks_the_run_with_the_step_named(tmp_path: Path) -> None:
    harness = EngineHarness(tmp_path, [evaluate_skill])
    try:
        outcome = harness.run(
            """
            name: bomb
            inputs: {text: {type: string}, times: {type: integer}}
            steps:
              - id: repeat
                uses: think.evaluate
                with: {value: "${{ [inputs.text] * inputs.times }}"}
            """,
            {"text": "a" * 50_000, "times": 1_000_000},
        )
    finally:
        harness.close()
    assert outcome.status.value == "needs_review", outcome
    assert outcome.reason_code == "expression_error"
    assert outcome.reason is not None
    assert "step repeat" in outcome.reason
    assert "larger than" in outcome.reason
