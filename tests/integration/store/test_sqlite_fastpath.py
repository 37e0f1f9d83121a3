"""The SQLite checkpoint SQL is written out by hand: it must name the columns the code binds, in order."""

from __future__ import annotations

import re

from orchestrator.store.sqlite_fastpath import AUDIT_COLUMNS, AUDIT_INSERT_SQL, STEP_COLUMNS, STEP_UPSERT_SQL
from orchestrator.store.tables import AuditRow, StepRow


def _insert_columns(sql: str) -> tuple[str, ...]:
    match = re.match(r"INSERT INTO \w+ \(([^)]*)\)", sql)
    assert match is not None
    return tuple(c.strip() for c in match.group(1).split(","))


def test_step_upsert_binds_the_declared_columns_in_order() -> None:
    assert _insert_columns(STEP_UPSERT_SQL) == STEP_COLUMNS
    assert STEP_UPSERT_SQL.count("?") == len(STEP_COLUMNS)
    updated = re.findall(r"(\w+) = excluded\.(\w+)", STEP_UPSERT_SQL)
    assert all(a == b for a, b in updated)
    assert {a for a, _ in updated} == set(STEP_COLUMNS) - {"run_id", "step_id", "item_index"}
    assert set(STEP_COLUMNS) <= set(StepRow.model_fields)


def test_audit_insert_binds_the_declared_columns_in_order() -> None:
    assert _insert_columns(AUDIT_INSERT_SQL) == AUDIT_COLUMNS
    assert AUDIT_INSERT_SQL.count("?") == len(AUDIT_COLUMNS)
    assert set(AUDIT_COLUMNS) <= set(AuditRow.model_fields)
