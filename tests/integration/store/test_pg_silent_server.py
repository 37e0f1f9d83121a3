"""A PostgreSQL server that stops answering is an error within limits, not a hang."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import orchestrator.store.sql as sql_store
from orchestrator.errors import StoreUnavailable
from orchestrator.models import AuditEvent


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port where the TCP handshake succeeds and nothing ever answers (a wedged host)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def _silent_url(port: int) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"


def test_opening_a_store_on_a_server_that_never_answers_fails(silent_server: int) -> None:
    with pytest.raises(StoreUnavailable, match=r"cannot open the store at .*timeout"):
        sql_store.open_store(f"{_silent_url(silent_server)}?connect_timeout=1")


def test_the_cli_says_the_store_cannot_be_opened_instead_of_hanging(
    silent_server: int, run_rpa, tmp_path: Path
) -> None:
    # no limit in the URL: the default one (10 s) ends the wait
    result = run_rpa(
        "manual", "list", cwd=tmp_path, env={"RPA_DB_URL": _silent_url(silent_server)}, timeout=60
    )
    assert result.returncode == 2, result.stderr
    assert "error: cannot open the store at" in result.stderr
    assert "Traceback" not in result.stderr


def _parameters(store: sql_store.SQLRunStore) -> list[dict[str, str]]:
    """The libpq parameters of the pooled connection and of the runner hot path's own."""
    with store.hot_tx() as tx:  # opens the hot path's connection
        tx.append(AuditEvent(kind="probe", actor="test", payload={}))
    raw = store.engine.raw_connection()
    try:
        pooled = raw.dbapi_connection.info.get_parameters()
    finally:
        raw.close()
    return [pooled, store._pipeline._connection().info.get_parameters()]  # white-box: it is private


def test_every_connection_gives_up_on_a_silent_server_within_a_minute(pg_url: str) -> None:
    store = sql_store.open_store(pg_url)
    try:
        for parameters in _parameters(store):
            assert parameters["connect_timeout"] == "10"
            assert (parameters["keepalives_idle"], parameters["keepalives_interval"]) == ("30", "10")
            assert parameters["keepalives_count"] == "3"
            assert parameters["tcp_user_timeout"] == "30000"
    finally:
        store.close()


def test_a_limit_the_url_sets_wins(pg_url: str) -> None:
    store = sql_store.open_store(f"{pg_url}&keepalives_idle=5&connect_timeout=3")
    try:
        for parameters in _parameters(store):
            assert (parameters["keepalives_idle"], parameters["connect_timeout"]) == ("5", "3")
            assert parameters["tcp_user_timeout"] == "30000"
    finally:
        store.close()
