"""The test tree stays importable as one suite.

Test folders are not packages, so pytest imports every test and helper module by its bare file
name: two modules with the same name, or an ``import conftest`` (which returns whichever
conftest happened to load first), break collection or bind the wrong helpers.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def _modules() -> list[Path]:
    return [
        p
        for p in TESTS.rglob("*.py")
        if "plugins" not in p.parts and p.name not in {"conftest.py", "__init__.py"}
    ]


def test_no_two_test_modules_share_a_name() -> None:
    counts = Counter(p.name for p in _modules())
    assert [name for name, n in counts.items() if n > 1] == []


def test_nothing_imports_a_conftest() -> None:
    pattern = re.compile(r"^\s*(from conftest import|import conftest)", re.M)
    offenders = [
        str(p.relative_to(TESTS)) for p in _modules() if pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
