"""The PostgreSQL store of the store's integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import orchestrator.store.sql as sql_store


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[sql_store.SQLRunStore]:
    store = sql_store.open_store(pg_url)
    yield store
    store.close()
