"""Reading the ground truth the voucher generator writes beside each image."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_truths(folder: Path) -> list[dict[str, Any]]:
    """The ground-truth JSON of every voucher in ``folder``, in order."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("voucher-*.json"))]
