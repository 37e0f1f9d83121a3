"""Where the payment tests find their data: the shared samples beside the repository, and ./data.

Kept out of conftest.py (and given a unique name) so that it cannot collide with the helpers of
other test folders when the whole suite is collected.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from examples.shared_data import shared_data_dir

SHARED_DATA = shared_data_dir()
LOCAL_DATA = Path(__file__).resolve().parent / "data"
MT_DIR = SHARED_DATA / "mt/prowide-core"
BALLERINA = SHARED_DATA / "iso20022/ballerina-swiftmt-to-iso20022"


def shared(relative: str) -> Path:
    """A path under the shared data folder; skips the test (saying why) when it is missing."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(
            f"shared data {path} is missing (expected beside the repository), so this test cannot run"
        )
    return path


def local(name: str) -> Path:
    """A file of this test folder's ``data`` directory."""
    return LOCAL_DATA / name


def shared_available() -> bool:
    """True when the shared data folder exists (for parametrising at collection time)."""
    return SHARED_DATA.is_dir()


def indexed_mt_files() -> list[Path]:
    """Every file named by the ``_index.json`` files of the MT sample folders, plus the RJE/test resources."""
    if not shared_available():
        return []
    files: list[Path] = []
    for index in (MT_DIR / "extracted-from-java-tests/_index.json", BALLERINA / "mt-fin/_index.json"):
        entries = json.loads(index.read_text(encoding="utf-8"))
        files += [index.parent / entry["file"] for entry in entries]
    files += sorted((MT_DIR / "test-resources").iterdir())
    return files


def mt_type_of(path: Path) -> str:
    """The 3-digit message type in block 2 of a FIN file (``""`` when there is none)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    marker = text.find("{2:")
    return text[marker + 4 : marker + 7] if marker >= 0 else ""


def or_skip(items: list[Any]) -> list[Any]:
    """``items`` for ``parametrize``, or one skipped case that says why when the shared data is missing."""
    if items or shared_available():
        return items
    reason = f"shared data {SHARED_DATA} is missing (expected beside the repository), so this test cannot run"
    return [pytest.param(None, id="shared-data-missing", marks=pytest.mark.skip(reason=reason))]
