from decimal import Decimal

import pytest

from orchestrator.errors import ExpressionError
from orchestrator.expressions import compile_expression, references, render

SCOPE = {
    "inputs": {"amount": Decimal("12345.60"), "ref": "R-1", "names": ["a", "b"]},
    "steps": {"parse": {"currency": "CNY", "rows": [{"v": 1}]}},
    "env": {"REGION": "sh"},
    "secrets": {},
    "run": {"id": "run1"},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${{ inputs.amount * 2 }}", Decimal("24691.20")),
        ("${{ inputs.amount > 1000.5 }}", True),
        ("${{ 0.1 + 0.2 == 0.3 }}", True),  # literals are Decimal, never float
        ("${{ steps.parse.rows[0].v }}", 1),
        ("${{ inputs['ref'] }}", "R-1"),
        ("${{ len(inputs.names) }}", 2),
        ("${{ format_amount(inputs.amount) }}", "12,345.60"),
        ("${{ 'x' if inputs.amount > 1 else 'y' }}", "x"),
        ("${{ null }}", None),
        ("ref ${{ inputs.ref }} in ${{ env.REGION }}", "ref R-1 in sh"),
        ("plain text", "plain text"),
    ],
)
def test_render(text: str, expected: object) -> None:
    assert render(text, SCOPE) == expected


@pytest.mark.parametrize(
    "attempt",
    [
        "${{ ().__class__ }}",
        "${{ inputs.__class__ }}",
        "${{ inputs['__class__'] }}",
        "${{ __import__('os') }}",
        "${{ inputs.ref.upper() }}",
        "${{ '{0.__class__}'.format(1) }}",
        "${{ f'{inputs}' }}",
        "${{ 9 ** 9 ** 9 }}",
        "${{ 'a' * 10 ** 9 }}",
        "${{ [x for x in inputs.names] }}",
        "${{ (lambda: 1)() }}",
        "${{ open('/etc/passwd') }}",
        "${{ getattr(inputs, 'x') }}",
        "${{ inputs.nope }}",
        "${{ 1 / 0 }}",
        "${{ " + "(" * 300 + "1" + ")" * 300 + " }}",
        "${{ '" + "a" * 5000 + "' }}",
    ],
)
def test_sandbox_refuses(attempt: str) -> None:
    with pytest.raises(ExpressionError):
        render(attempt, SCOPE)


def test_unterminated_expression_is_an_error() -> None:
    with pytest.raises(ExpressionError, match="closing"):
        render("${{ inputs.ref", SCOPE)


def test_references_lists_paths() -> None:
    found = references(compile_expression("steps.parse.currency + inputs['ref'] + str(len(steps.other))"))
    assert [r.parts for r in found] == [("steps", "parse", "currency"), ("inputs", "ref"), ("steps", "other")]


def test_a_finished_evaluation_keeps_no_reference_to_its_scope() -> None:
    # sandboxes are reused between evaluations: an idle one must not keep a run's data (its
    # secrets view among it) alive, nor hand it to the next evaluation
    from orchestrator import expressions

    scope = {"inputs": {"x": 1}}
    assert expressions.render("${{ inputs.x }}", scope) == 1
    with pytest.raises(ExpressionError, match="unknown name 'inputs'"):
        expressions.render("${{ inputs.x }}", {})
    assert expressions._IDLE_SANDBOXES
    assert all(not sandbox.names for sandbox in expressions._IDLE_SANDBOXES)
