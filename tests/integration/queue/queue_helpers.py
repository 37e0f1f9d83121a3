"""Shared set-up for queue tests: a workflow + bot file pair published to a store."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from orchestrator.queue.bots import load_bot_file, publish
from orchestrator.queue.store import SQLWorkQueue
from orchestrator.registry import SkillRegistry

LEDGER_WORKFLOW = """
name: post-to-ledger
inputs:
  reference: {type: string}
  amount: {type: decimal, default: "10.00"}
  ok: {type: boolean, default: true}
  maker: {type: string, default: ""}
steps:
  - id: check
    uses: think.require
    with:
      condition: ${{ inputs.ok }}
      message: the instruction was flagged
      code: flagged
  - id: approve
    uses: think.approval
    if: ${{ inputs.maker != '' }}
    with:
      subject: payment ${{ inputs.reference }}
      maker: ${{ inputs.maker }}
      amount: ${{ inputs.amount }}
  - id: post
    uses: do.append_record
    idempotency_key: ${{ inputs.reference }}
    with:
      path: ledger.jsonl
      record: {reference: "${{ inputs.reference }}", amount: "${{ inputs.amount }}"}
outputs:
  line: ${{ steps.post.line }}
"""


def write_bot(folder: Path, name: str = "ledger-bot", **extra: Any) -> Path:
    (folder / "workflows").mkdir(parents=True, exist_ok=True)
    (folder / "bots").mkdir(parents=True, exist_ok=True)
    (folder / "workflows" / "ledger.yaml").write_text(textwrap.dedent(LEDGER_WORKFLOW), encoding="utf-8")
    lines = [f"name: {name}", "workflow: ../workflows/ledger.yaml"]
    for key, value in extra.items():
        lines.append(f"{key}: {value}")
    path = folder / "bots" / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def published_queue(store: Any, folder: Path, name: str = "ledger-bot", **extra: Any) -> SQLWorkQueue:
    registry = SkillRegistry.from_entry_points()
    queue = SQLWorkQueue(store)
    publish(queue, load_bot_file(write_bot(folder, name, **extra), registry))
    return queue
