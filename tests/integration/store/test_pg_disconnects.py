"""PostgreSQL connections the server dropped: idle ones are pinged and replaced before use."""

from __future__ import annotations

import pytest
from sqlalchemy import text

import orchestrator.store.sql as sql_store
from orchestrator.errors import StoreUnavailable
from orchestrator.models import AuditEvent


def _terminate(store: sql_store.SQLRunStore, pid: int) -> None:
    """End a server backend from outside, as a restart or a firewall would."""
    import psycopg

    url = store.engine.url
    with psycopg.connect(
        host=url.host, port=url.port or 5432, dbname=url.database, user=url.username
    ) as admin:
        assert admin.execute("select pg_terminate_backend(%s)", (pid,)).fetchone()[0]


def _kill_pooled_backend(store: sql_store.SQLRunStore) -> None:
    """Terminate the server side of the (only) pooled connection."""
    with store.engine.connect() as conn:
        pid = conn.execute(text("select pg_backend_pid()")).scalar_one()
    _terminate(store, pid)  # once it is back in the pool


def _write(store: sql_store.SQLRunStore, n: int) -> None:
    store.append_audit([AuditEvent(kind="probe", actor="test", payload={"n": n})])


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(pg_store, monkeypatch) -> None:
    _write(pg_store, 1)
    _kill_pooled_backend(pg_store)
    monkeypatch.setattr(sql_store, "IDLE_PING_SECONDS", 0.0)  # every checkout counts as idle
    _write(pg_store, 2)  # the dead connection failed its ping and a fresh one was used
    assert [e.payload["n"] for e in pg_store.audit_events(kind="probe")] == [1, 2]
    assert pg_store.verify_audit().ok


def test_a_connection_dropped_while_hot_fails_once_and_the_pool_recovers(pg_store, monkeypatch) -> None:
    _write(pg_store, 1)
    _kill_pooled_backend(pg_store)
    monkeypatch.setattr(sql_store, "IDLE_PING_SECONDS", 3600.0)  # no ping: the write finds out
    with pytest.raises(StoreUnavailable):
        _write(pg_store, 2)
    _write(pg_store, 3)  # the pool threw the dead connection away
    assert [e.payload["n"] for e in pg_store.audit_events(kind="probe")] == [1, 3]
    assert pg_store.verify_audit().ok


def _kill_hot_path_backend(store: sql_store.SQLRunStore) -> None:
    """Terminate the server side of the runner hot path's own connection (pipeline mode)."""
    with store.hot_tx() as tx:  # make sure it is open
        tx.append(AuditEvent(kind="probe", actor="test", payload={"n": 0}))
    _terminate(store, store._pipeline._connection().info.backend_pid)  # white-box: it is private


def _hot_write(store: sql_store.SQLRunStore, n: int) -> None:
    with store.hot_tx() as tx:
        tx.append(AuditEvent(kind="probe", actor="test", payload={"n": n}))


def test_the_hot_paths_idle_connection_is_pinged_and_replaced(pg_store, monkeypatch) -> None:
    _kill_hot_path_backend(pg_store)
    monkeypatch.setattr(sql_store, "IDLE_PING_SECONDS", 0.0)
    _hot_write(pg_store, 1)
    assert [e.payload["n"] for e in pg_store.audit_events(kind="probe")] == [0, 1]
    assert pg_store.verify_audit().ok


def test_the_hot_path_fails_once_when_its_connection_dies_and_then_reconnects(pg_store, monkeypatch) -> None:
    _kill_hot_path_backend(pg_store)
    monkeypatch.setattr(sql_store, "IDLE_PING_SECONDS", 3600.0)
    with pytest.raises(StoreUnavailable):
        _hot_write(pg_store, 1)
    _hot_write(pg_store, 2)
    assert [e.payload["n"] for e in pg_store.audit_events(kind="probe")] == [0, 2]
    assert pg_store.verify_audit().ok


def test_a_failed_fence_in_the_pipeline_writes_nothing(pg_store) -> None:
    from sqlalchemy import update

    from orchestrator.store.tables import RunRow

    runs = RunRow.__table__
    never = update(runs).where(runs.c.id == "no-such-run").values(reason="x")

    def fenced_write() -> None:
        with pg_store.hot_tx() as tx:
            tx.append(AuditEvent(kind="probe", actor="test", payload={"n": 1}))
            tx.write_one(never, {}, lambda: LookupError("fence failed"))

    with pytest.raises(LookupError, match="fence failed"):
        fenced_write()
    _hot_write(pg_store, 2)  # the connection is usable again and the chain continues
    assert [e.payload["n"] for e in pg_store.audit_events(kind="probe")] == [2]
    assert pg_store.verify_audit().ok


def test_a_failed_fence_stops_the_transaction_at_the_next_read(pg_store) -> None:
    from sqlalchemy import select, update

    from orchestrator.store.tables import RunRow

    runs = RunRow.__table__
    never = update(runs).where(runs.c.id == "no-such-run").values(reason="x")
    after_the_read: list[str] = []

    def fenced_then_read() -> None:
        with pg_store.hot_tx() as tx:
            tx.append(AuditEvent(kind="probe", actor="test", payload={"n": 1}))
            tx.write_one(never, {}, lambda: LookupError("fence failed"))
            tx.rows(select(runs.c.id).limit(1), {})  # its fetch brings the fence's result back
            after_the_read.append("went on")

    with pytest.raises(LookupError, match="fence failed"):
        fenced_then_read()
    assert after_the_read == []
    _hot_write(pg_store, 2)
    assert [e.payload["n"] for e in pg_store.audit_events(kind="probe")] == [2]
    assert pg_store.verify_audit().ok


def test_a_hot_transaction_costs_one_round_trip_not_one_more_for_begin(pg_store, monkeypatch) -> None:
    # BEGIN is pipelined like every other statement, so a write-only transaction goes to the
    # server and back once: at COMMIT
    from orchestrator.store.pg_pipeline import PipelineTx

    exchanges: list[bool] = []
    exchange = PipelineTx.exchange

    def counting(self: PipelineTx, *, sync: bool = False) -> None:
        exchanges.append(sync)
        exchange(self, sync=sync)

    _hot_write(pg_store, 1)
    monkeypatch.setattr(PipelineTx, "exchange", counting)
    _hot_write(pg_store, 2)
    assert exchanges == [True]
    assert [e.payload["n"] for e in pg_store.audit_events(kind="probe")] == [1, 2]


def test_the_hot_paths_connection_goes_back_to_the_pool_as_it_came(pg_url: str) -> None:
    store = sql_store.open_store(pg_url)
    try:
        _hot_write(store, 1)
        hot = store._pipeline._fairy.dbapi_connection
        assert hot.autocommit  # while it serves the hot path
        store._pipeline.close()
        assert hot.autocommit is False
    finally:
        store.close()
