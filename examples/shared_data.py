"""Where the public sample data lives (read-only, beside the repository; see its README).

Order: ``$RPA_SHARED_DATA``; the repository's sibling ``../shared/data``; ``/work/shared/data``.
Tests that need a sample skip with the path they looked at when none is present.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    candidates = []
    if os.environ.get("RPA_SHARED_DATA"):
        candidates.append(Path(os.environ["RPA_SHARED_DATA"]))
    candidates += [REPO.parent / "shared" / "data", Path("/work/shared/data")]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    return candidates[0]
