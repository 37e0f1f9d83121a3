"""Run store backends. ``open_store(url)`` picks SQLite (embedded default) or PostgreSQL."""

from orchestrator.store.sql import SQLRunStore as SQLRunStore
from orchestrator.store.sql import open_store as open_store

__all__ = ["SQLRunStore", "open_store"]
