"""Skills documented from their code: ``rpa skills describe`` and the committed ``docs/skills.md``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orchestrator.spec.validate import check_workflow
from orchestrator.spec.yamlsource import load_yaml
from orchestrator.toolkit.fields import generated_example
from orchestrator.toolkit.skilldocs import REGENERATE, describe_text, example_yaml, skills_markdown

ROOT = Path(__file__).resolve().parents[2]
SKILLS_MD = ROOT / "docs" / "skills.md"


def test_docs_skills_md_is_up_to_date(rpa_registry) -> None:
    assert not rpa_registry.failures, f"skill plugins failed to load: {rpa_registry.failures}"
    expected = skills_markdown(rpa_registry)
    current = SKILLS_MD.read_text(encoding="utf-8") if SKILLS_MD.is_file() else ""
    if current != expected:
        documented = {line.split("`")[1] for line in current.splitlines() if line.startswith("### `")}
        registered = {spec.id for spec in rpa_registry}
        pytest.fail(
            "docs/skills.md is out of date with the registered skills "
            f"(new: {sorted(registered - documented) or 'none'}, gone: {sorted(documented - registered) or 'none'}"
            f", or a description changed). Regenerate it from the repository root with:\n"
            f"    .venv/bin/{REGENERATE}\n"
            "and commit the result.",
            pytrace=False,
        )


def test_the_reference_is_deterministic_and_holds_no_machine_paths(rpa_registry) -> None:
    first = skills_markdown(rpa_registry)

    assert first == skills_markdown(rpa_registry)
    assert "/work/" not in first
    assert "/tmp/" not in first
    assert "### `do.browser.submit_form`" in first
    assert (
        "| `lookup.found_selector` | text | required | Element visible only when something was found. |"
        in first
    )


def test_describe_lists_inputs_outputs_effect_verify_and_an_example(rpa_registry) -> None:
    text = describe_text(rpa_registry.get("do.append_record"), rpa_registry)

    assert text.startswith("do.append_record — Append a record as one JSON line")
    assert (
        "effect      once — at most once: an interrupted call is looked up on the platform (verify)" in text
    )
    assert "verify      yes" in text
    assert "  path (text, required): JSON-lines file to append to." in text
    assert "outputs (steps.<id>.<name>):\n  path (text): Absolute path of the file." in text
    assert "  - id: append_record\n    uses: do.append_record\n    with:\n      path: <path>" in text


def test_authored_examples_are_shown_as_written(rpa_registry) -> None:
    example, authored = example_yaml(rpa_registry.get("think.evaluate"))

    assert authored
    assert example == "- id: evaluate\n  uses: think.evaluate\n  with:\n    value: ${{ inputs.amount * 2 }}\n"


def test_generated_examples_that_claim_to_be_valid_pass_rpa_validate(rpa_registry) -> None:
    checked = 0
    for spec in rpa_registry:
        if spec.example:
            continue
        _, valid = generated_example(spec.params_model)
        example, _ = example_yaml(spec)
        assert yaml.safe_load(example)[0]["uses"] == spec.id
        if not valid:
            assert "# complete the placeholders" in example
            continue
        document = load_yaml(f"name: example\nsteps:\n{example}", f"{spec.id}.yaml")
        _, diagnostics = check_workflow(document, rpa_registry)
        assert diagnostics == [], f"example of {spec.id} does not validate:\n{example}\n{diagnostics}"
        checked += 1
    assert checked >= len(rpa_registry) // 2


def test_rpa_skills_describe_and_docs_check_on_the_command_line(rpa_cli) -> None:
    described = rpa_cli("skills", "describe", "speak.notify")
    assert described.code == 0, described.stderr
    assert "channel (one of 'email', 'webhook', required)" in described.stdout

    unknown = rpa_cli("skills", "describe", "speak.notfy")
    assert unknown.code == 2
    assert "unknown skill 'speak.notfy'; did you mean 'speak.notify'?" in unknown.stderr

    written = rpa_cli("docs", "skills", "-o", "skills.md")
    assert written.code == 0, written.stderr
    fresh = rpa_cli("docs", "skills", "-o", "skills.md", "--check")
    assert fresh.code == 0, fresh.stderr
    Path("skills.md").write_text("old\n", encoding="utf-8")
    stale = rpa_cli("docs", "skills", "-o", "skills.md", "--check")
    assert stale.code == 1
    assert "skills.md is out of date; regenerate it with: rpa docs skills -o skills.md" in stale.stderr
