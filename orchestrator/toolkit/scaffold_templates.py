"""Templates of ``rpa new``: a workflow, a bot and a skill plugin package.

Placeholders are ``{name}``-style (``str.format``); literal braces are doubled. Every template
produces files that ``rpa validate`` (workflows, bots) or pytest (skill packages) accept as
they are, so a new author starts from something that works.
"""

WORKFLOW = """\
# yaml-language-server: $schema={schema}
# A workflow: inputs, steps run in order (each calls a skill), outputs.
# Check it: rpa validate {file}   See it: rpa plan {file} -i reference=REF-1 -i amount=100.00
# Skills: rpa skills (list), rpa skills describe ID (arguments, outputs, example), docs/skills.md.
name: {name}
description: >
  What this workflow does, in a sentence or two for the operators who will read it.
version: "1"
inputs:
  reference:
    type: string
    description: Business reference of the work item (kept as text).
  amount:
    type: decimal
    description: Amount in CNY; write it as text ("1234.50") so YAML never turns it into a float.
steps:
  - id: check_amount
    uses: think.require
    with:
      condition: ${{{{ inputs.amount > 0 }}}}
      message: amount must be positive, found ${{{{ inputs.amount }}}}
      code: bad_amount
  - id: fee
    uses: think.evaluate
    with:
      value: ${{{{ round(inputs.amount * 0.001, 2) }}}}
  - id: receipt
    uses: do.write_file
    with:
      path: out/${{{{ inputs.reference }}}}.txt
      content: |
        ${{{{ inputs.reference }}}}: ${{{{ format_amount(inputs.amount) }}}} CNY, fee ${{{{ steps.fee.value }}}}
outputs:
  fee: ${{{{ steps.fee.value }}}}
  receipt: ${{{{ steps.receipt.path }}}}
"""

BOT = """\
# yaml-language-server: $schema={schema}
# A bot puts a workflow to work: triggers create work items, each item is one run.
# Check it (and its workflow): rpa validate {file}
name: {name}
description: What this digital employee does, for the operations dashboard.
workflow: {workflow}
triggers:
  - type: api          # items arrive through POST /api/bots/{name}/items
  # - type: folder     # one item per file dropped in a folder (the workflow needs a 'file' input)
  #   path: ../inbox/{name}
  #   pattern: "*.xml"
  # - type: cron       # on a schedule, Asia/Shanghai time, business days only with a calendar
  #   cron: "*/10 9-16 * * 1-5"
concurrency: 1          # items of this bot in progress at once (all runners together)
sla: 30m                # an item should be done this long after it arrived
minutes_saved_per_item: 5
"""

SKILL_PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{distribution}"
version = "0.1.0"
description = "Digital Employee skill plugin: {skill_id}."
requires-python = ">=3.11"
dependencies = ["digital-employee"]

# The orchestrator finds skills through this entry-point group: the value names the module
# whose @skill functions are registered (here: {package}.skills).
[project.entry-points."rpa.skills"]
{entry_name} = "{package}.skills"

[tool.setuptools]
packages = ["{package}"]

[tool.ruff]
line-length = 110
"""

SKILL_INIT = '''\
"""{distribution}: a Digital Employee skill plugin ({skill_id})."""
'''

SKILL_MODULE = '''\
"""{skill_id}: {summary}

Write the skill as a plain (or async) function with a pydantic model for its arguments and one
for its result; every field has a description (they become `rpa skills describe` and the JSON
Schema editors use). Raise BusinessError when the data or the world is not as expected (a
person looks at it, no retry) and TechnicalError for transient faults (retried).

effect: "none" reads only; "idempotent" can be repeated safely; "once" must happen at most once
(a payment keyed into a platform) and then needs a verify companion that looks the effect up.
Long-lived objects (a browser, an OCR engine) come from services: ctx.service("name").
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from skills import BusinessError, SkillContext, skill


class {params_class}(BaseModel):
    """Arguments of {skill_id} (the step's `with:`)."""

    reference: str = Field(description="Business reference to normalise, e.g. ' ref-001 '.")
    max_length: int = Field(16, ge=1, le=35, description="Longest reference accepted.")


class {result_class}(BaseModel):
    """Result of {skill_id} (read as steps.<id>.<field>)."""

    reference: str = Field(description="The reference in upper case without surrounding spaces.")
    length: int = Field(description="Its length.")


@skill("{skill_id}", effect="{effect}", timeout="30s")
def {function}(ctx: SkillContext, params: {params_class}) -> {result_class}:
    """{summary}"""
    reference = params.reference.strip().upper()
    if not reference:
        raise BusinessError("expected a reference, found only spaces", code="empty_reference")
    if len(reference) > params.max_length:
        raise BusinessError(
            f"expected at most {{params.max_length}} characters, found {{len(reference)}} in {{reference!r}}",
            code="reference_too_long",
        )
    return {result_class}(reference=reference, length=len(reference))
'''

SKILL_TEST = '''\
"""Tests of {skill_id}, run without an engine through skills.testing.run_skill."""

from __future__ import annotations

import pytest
from skills import BusinessError
from skills.testing import run_skill

from {package}.skills import {function}


def test_the_reference_is_normalised() -> None:
    result = run_skill({function}, {{"reference": "  ref-001 "}})

    assert result.reference == "REF-001"
    assert result.length == 7


def test_a_reference_that_is_too_long_is_a_business_error() -> None:
    with pytest.raises(BusinessError, match="expected at most 4 characters, found 7") as error:
        run_skill({function}, {{"reference": "REF-001", "max_length": 4}})

    assert error.value.code == "reference_too_long"
'''

SKILL_README = """\
# {distribution}

A Digital Employee skill plugin providing `{skill_id}`.

```sh
pip install -e .                      # registers the skill (entry point rpa.skills)
rpa skills describe {skill_id}        # its arguments, outputs and an example step
pytest tests                          # its tests (skills.testing.run_skill, no engine needed)
```
"""
