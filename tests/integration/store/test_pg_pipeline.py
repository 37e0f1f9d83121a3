"""The PostgreSQL hot path at the libpq level: values, prepared statements, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest
from sqlalchemy import text

import orchestrator.store.sql as sql_store
from orchestrator.errors import UniqueConflict
from orchestrator.models import AuditEvent
from orchestrator.store.tables import RunRow

RUNS = RunRow.__table__


def _probe(store: sql_store.SQLRunStore, n: int) -> None:
    with store.hot_tx() as tx:
        tx.append(AuditEvent(kind="probe", actor="test", payload={"n": n}))


def _probes(store: sql_store.SQLRunStore) -> list[int]:
    return [e.payload["n"] for e in store.audit_events(kind="probe")]


ECHO = text(
    "SELECT CAST(:at AS TIMESTAMP WITH TIME ZONE) AS at, CAST(:n AS BIGINT) AS n, :flag = true AS flag,"
    " CAST(:names AS VARCHAR[]) AS names, CAST(:numbers AS INTEGER[]) AS numbers,"
    " CAST(:word AS VARCHAR) AS word, CAST(:nothing AS VARCHAR) AS nothing"
)


def test_values_go_and_come_back_as_psycopg_would_send_them(pg_store) -> None:
    values = {
        "at": datetime(2026, 11, 27, 18, 30, 1, 123456, tzinfo=timezone(timedelta(hours=8))),
        "n": 2**40,
        "flag": True,
        "names": ["bot:a", 'res:"quoted", {braced}', "back\\slash", "ünïcode", None, ""],
        "numbers": [1, -2, 30000],
        "word": "汇款 ' \\ %s %(x)s",
        "nothing": None,
    }
    # the first run prepares the statement (and learns which parameters are timestamptz:
    # datetimes go there in binary from then on), the next ones use it
    for _ in range(3):
        with pg_store.hot_tx() as tx:
            (row,) = tx.rows(ECHO, values)
        assert row._asdict() == values
    with pg_store.hot_tx() as tx:
        (row,) = tx.rows(ECHO, {**values, "names": [], "numbers": [], "at": None})
    assert (row.names, row.numbers, row.at) == ([], [], None)


def test_a_datetime_in_a_multi_row_insert_is_stored_as_given(pg_store) -> None:
    # only the first row of a multi-row VALUES carries SQLAlchemy's casts: the server types
    # the others' parameters from the columns, and says so when it describes the statement
    moments = [datetime(2026, 11, 27, 8, n, tzinfo=timezone(timedelta(hours=n))) for n in range(3)]
    for n, at in enumerate(moments):
        with pg_store.hot_tx() as tx:
            for m in range(n + 1):
                tx.append(AuditEvent(kind="probe", actor="test", payload={"n": m}, at=at))
    stored = sorted(e.at for e in pg_store.audit_events(kind="probe"))
    assert stored == sorted(at for n, at in enumerate(moments) for _ in range(n + 1))


def test_a_statement_prepared_in_a_failed_transaction_is_prepared_again(pg_store) -> None:
    # the first transaction fails before the server got to the new statement's PREPARE (the
    # pipeline is aborted): the hot path must not believe it exists
    broken = text("SELECT 1 / 0 AS x")
    fresh = text("SELECT CAST(:v AS INTEGER) + 1 AS v")

    def failing() -> None:
        with pg_store.hot_tx() as tx:
            tx.write(broken, {})
            tx.rows(fresh, {"v": 1})

    with pytest.raises(psycopg.errors.DivisionByZero):
        failing()
    with pg_store.hot_tx() as tx:
        assert tx.rows(fresh, {"v": 2})[0].v == 3
    _probe(pg_store, 1)
    assert _probes(pg_store) == [1]
    assert pg_store.verify_audit().ok


def test_prepared_statements_outlive_a_rolled_back_transaction(pg_store) -> None:
    fresh = text("SELECT CAST(:v AS INTEGER) + 1 AS v")
    with pg_store.hot_tx() as tx:
        assert tx.rows(fresh, {"v": 1})[0].v == 2

    def giving_up() -> None:
        with pg_store.hot_tx() as tx:
            tx.rows(fresh, {"v": 1})
            raise LookupError("the caller gave up")

    with pytest.raises(LookupError):
        giving_up()
    with pg_store.hot_tx() as tx:
        assert tx.rows(fresh, {"v": 5})[0].v == 6


def test_an_error_in_the_pipeline_rolls_everything_back_and_a_unique_conflict_names_its_key(
    pg_store,
) -> None:
    from sqlalchemy import insert

    row = {
        "id": "r1",
        "workflow": "w",
        "workflow_digest": "d",
        "status": "pending",
        "inputs_json": "{}",
        "epoch": 0,
        "executions": 0,
        "created_at": datetime.now(UTC),
        "updated_at": datetime.now(UTC),
    }
    with pg_store.hot_tx() as tx:
        tx.write(insert(RUNS), row)

    def inserting_again() -> None:
        with pg_store.hot_tx() as tx:
            tx.append(AuditEvent(kind="probe", actor="test", payload={"n": 1}))
            tx.write(insert(RUNS), row)
            tx.rows(text("SELECT 1 AS one"), {})  # the read brings the error back

    with pytest.raises(UniqueConflict) as raised:
        inserting_again()
    assert raised.value.constraint == "runs_pkey"
    assert isinstance(raised.value.__cause__, psycopg.errors.UniqueViolation)
    _probe(pg_store, 2)
    assert _probes(pg_store) == [2]
    assert pg_store.verify_audit().ok


def test_a_hot_connection_given_back_to_the_pool_and_taken_again_prepares_anew(pg_url: str) -> None:
    # the pool may hand the same server session back: its statements are still prepared there,
    # so the names must not clash
    store = sql_store.open_store(pg_url)
    try:
        _probe(store, 1)
        first = store._pipeline._connection().info.backend_pid  # white-box: private
        store._pipeline.close()
        _probe(store, 2)
        assert store._pipeline._connection().info.backend_pid == first
        assert _probes(store) == [1, 2]
    finally:
        store.close()


def test_the_hot_path_works_on_a_socket_above_select_s_limit(pg_url: str) -> None:
    # select() refuses descriptors above 1023; a worker with a raised file limit may hold them
    import os
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the system's hard open-file limit ({hard}) cannot hold a descriptor above 1023")
    if soft != resource.RLIM_INFINITY and soft < 1200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1200, hard))
    null = os.open(os.devnull, os.O_RDONLY)
    taken = [os.dup(null) for _ in range(1100)]
    store = sql_store.open_store(pg_url)
    try:
        _probe(store, 1)
        assert store._pipeline._connection().pgconn.socket > 1023  # white-box: private
        _probe(store, 2)
        assert _probes(store) == [1, 2]
    finally:
        store.close()
        for fd in [*taken, null]:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
