"""The run store on SQLite (embedded default, WAL) or PostgreSQL, through SQLAlchemy Core.

The tables are SQLModel models (``tables.py``); the hot path (one checkpoint per step) uses
Core statements on one connection per transaction, because an ORM session per step costs
several times a raw commit. On SQLite every write transaction starts with ``BEGIN IMMEDIATE``
(so two processes never deadlock upgrading a read lock) and reads use a separate engine with
deferred transactions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Index,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.schema import CreateIndex, DropIndex
from sqlmodel import SQLModel

from orchestrator import jsoncodec
from orchestrator.abc import RunStore
from orchestrator.audit import GENESIS, content_hash, new_chain_id, verify_chain
from orchestrator.enums import RunStatus, StepStatus
from orchestrator.errors import LeaseLostError, RpaError, RunNotFound, StoreUnavailable
from orchestrator.models import AuditEvent, AuditProblem, AuditReport, Fence, RunRecord, StepRecord
from orchestrator.store.pg_connect import pg_connect_args
from orchestrator.store.pg_pipeline import PgPipeline
from orchestrator.store.sqlite_fastpath import (
    AUDIT_COLUMNS,
    AUDIT_INSERT_SQL,
    FENCE_LEASE_SQL,
    FENCE_SQL,
    STEP_COLUMNS,
    STEP_UPSERT_SQL,
    SQLiteFastPath,
    sqlite_datetime,
)
from orchestrator.store.sqlite_tx import SqliteStatements, SqliteTx
from orchestrator.store.tables import AuditRow, RunRow, StepRow, WorkflowSourceRow
from orchestrator.store.tx import ConnTx, StoreTx

RUNS = RunRow.__table__  # type: ignore[attr-defined]
STEPS = StepRow.__table__  # type: ignore[attr-defined]
AUDIT = AuditRow.__table__  # type: ignore[attr-defined]
SOURCES = WorkflowSourceRow.__table__  # type: ignore[attr-defined]


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes: everything stored here is UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _lease_lost(fence: Fence) -> LeaseLostError:
    return LeaseLostError(
        f"run {fence.run_id} is no longer owned by {fence.owner} (epoch {fence.epoch} is stale)"
    )


def sqlite_url_for(path: str | Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


IDLE_PING_SECONDS = 2.0


def _ping_idle_connections(engine: Engine) -> None:
    """Pessimistic disconnect handling for connections that sat idle in the pool.

    ``pool_pre_ping`` would cost a round trip on every checkout, that is on every transaction,
    though a connection handed back a moment ago is as good as the statement it just ran. A connection idle for longer (when a restarted server or a
    firewall may have dropped it) is pinged; raising ``DisconnectionError`` makes the pool
    replace it with a fresh one.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
            dbapi_connection.rollback()
        except Exception as exc:  # any failure means the connection is gone
            raise DisconnectionError(f"idle connection failed its ping: {exc}") from exc


def _sqlite_audit_values(row: dict[str, Any]) -> tuple[Any, ...]:
    """An audit row's values for ``AUDIT_INSERT_SQL``."""
    return tuple(sqlite_datetime(row[c]) if c == "at" else row[c] for c in AUDIT_COLUMNS)


def _make_engines(url: str, synchronous: str) -> tuple[Engine, Engine]:
    if not url.startswith("sqlite"):
        engine = create_engine(url, pool_size=5, max_overflow=10, connect_args=pg_connect_args(url))
        _ping_idle_connections(engine)
        return engine, engine
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)

    def build(immediate: bool) -> Engine:
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    return build(True), build(False)


class SQLRunStore(RunStore):
    """``RunStore`` over SQLAlchemy; see ``orchestrator.abc.RunStore`` for the contract."""

    def __init__(self, url: str, *, synchronous: str = "FULL", create: bool = True) -> None:
        if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, got {synchronous!r}")
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._write, self._read = _make_engines(url, synchronous.upper())
        self._chain_lock = threading.Lock()
        self._chain_id: str | None = None
        self._chain_seq = 0
        self._chain_prev = GENESIS
        self._pending_head: tuple[int, str] | None = None
        self._saved_sources: set[str] = set()
        self._prepare_statements()
        if create:
            self.create_schema()
        self._fast = SQLiteFastPath(self._write.raw_connection()) if self.is_sqlite else None
        self._sqlite_statements = SqliteStatements(self._write.dialect)
        self._pipeline = None if self.is_sqlite else PgPipeline(self._write, lambda: IDLE_PING_SECONDS)

    @property
    def pipelined(self) -> bool:
        """``hot_tx`` sends its statements together (PostgreSQL): rows read with the commit
        (``rows_at_commit``) cost no round trip of their own."""
        return self._pipeline is not None

    # -- plumbing --------------------------------------------------------------------------
    def _prepare_statements(self) -> None:
        """Build the hot-path statements once; executing them only binds parameters."""
        self._fence_stmt = (
            update(RUNS)
            .where(
                RUNS.c.id == bindparam("f_id"),
                RUNS.c.epoch == bindparam("f_epoch"),
                RUNS.c.status == RunStatus.running.value,
            )
            .values(updated_at=bindparam("f_now"))
        )
        self._fence_lease_stmt = self._fence_stmt.values(lease_until=bindparam("f_lease"))
        # the fence and the run's outcome in one statement
        self._finish_stmt = self._fence_stmt.values(
            status=bindparam("r_status"),
            outputs_json=bindparam("r_outputs"),
            reason=bindparam("r_reason"),
            reason_code=bindparam("r_code"),
            parked_step=bindparam("r_parked"),
            owner=None,
            lease_until=None,
            finished_at=bindparam("r_finished"),
        )
        self._audit_stmt = insert(AUDIT)
        self._run_insert_stmt = insert(RUNS)
        # a run that is neither over nor parked, sent to a person (see park_run_in)
        self._park_stmt = (
            update(RUNS)
            .where(
                RUNS.c.id == bindparam("p_id"),
                or_(RUNS.c.status == RunStatus.pending.value, RUNS.c.status == RunStatus.running.value),
            )
            .values(
                status=RunStatus.needs_review.value,
                reason=bindparam("p_reason"),
                reason_code=bindparam("p_code"),
                owner=None,
                lease_until=None,
                updated_at=bindparam("p_now"),
            )
            .returning(RUNS.c.id)
        )
        upsert = self._insert(STEPS)
        keys = {"run_id", "step_id", "item_index"}
        self._step_stmt = upsert.on_conflict_do_update(
            index_elements=sorted(keys),
            set_={c.name: upsert.excluded[c.name] for c in STEPS.columns if c.name not in keys | {"id"}},
        )

    def create_schema(self) -> None:
        # every table lives in one database; the queue's tables are registered on import
        from orchestrator.queue.tables import RETIRED_INDEXES, WorkItemRow

        try:
            SQLModel.metadata.create_all(self._write)
            self.upgrade_columns(WorkItemRow.__table__)  # type: ignore[attr-defined]
            self.upgrade_indexes(WorkItemRow.__table__, RETIRED_INDEXES)  # type: ignore[attr-defined]
        except OperationalError as exc:
            raise StoreUnavailable(f"cannot open the store at {self.safe_url}: {exc.orig}") from exc

    def upgrade_columns(self, table: Any) -> None:
        """Add the nullable columns ``table`` declares that a store made by an earlier version
        lacks (``create_all`` only creates missing tables). Existence is read first, so that
        an up-to-date store takes no lock on the table; two processes upgrading at once both
        succeed."""
        have = {column["name"] for column in inspect(self._write).get_columns(table.name)}
        preparer = self._write.dialect.identifier_preparer
        for column in table.columns:
            if column.name in have:
                continue
            if not column.nullable or column.server_default is not None:
                raise StoreUnavailable(
                    f"the store at {self.safe_url} needs column {table.name}.{column.name}, "
                    "which cannot be added in place: migrate it"
                )
            guard = "" if self.is_sqlite else "IF NOT EXISTS "  # SQLite has no such clause
            ddl = (
                f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN {guard}"
                f"{preparer.quote(column.name)} {column.type.compile(dialect=self._write.dialect)}"
            )
            try:
                with self._write.begin() as conn:
                    conn.exec_driver_sql(ddl)
            except OperationalError as exc:  # SQLite: another process added it first
                if "duplicate column" not in str(exc.orig):
                    raise

    def upgrade_indexes(self, table: Any, retired: Sequence[str] = ()) -> None:
        """Bring a store made by an earlier version to ``table``'s declared indexes, dropping
        the ``retired`` ones.

        ``create_all`` creates the indexes of the tables it creates only. Existence is read
        first, once per table, so that an up-to-date store takes no lock on the table.
        """
        have = self.index_names(table.name)
        stale = [name for name in retired if name in have]
        missing = [index for index in table.indexes if index.name not in have]
        if not stale and not missing:
            return
        with self._write.begin() as conn:
            for name in stale:
                conn.execute(DropIndex(Index(name), if_exists=True))
            for index in missing:
                conn.execute(CreateIndex(index, if_not_exists=True))

    def index_names(self, table_name: str) -> set[str]:
        """The names of ``table_name``'s indexes. On SQLite read from ``sqlite_master``:
        SQLAlchemy's reflection skips indexes on expressions there (with a warning)."""
        if not self.is_sqlite:
            return {ix["name"] for ix in inspect(self._write).get_indexes(table_name)}
        with self._write.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                (table_name,),
            )
            return {row[0] for row in rows}

    @property
    def safe_url(self) -> str:
        """The URL without its password."""
        from sqlalchemy.engine import make_url

        return make_url(self.url).render_as_string(hide_password=True)

    @property
    def engine(self) -> Engine:
        return self._write

    @property
    def read_engine(self) -> Engine:
        return self._read

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        try:
            with self._write.begin() as conn:
                yield conn
        except OperationalError as exc:
            raise StoreUnavailable(f"store write failed: {exc.orig}") from exc

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        try:
            with self._read.begin() as conn:
                yield conn
        except OperationalError as exc:
            raise StoreUnavailable(f"store read failed: {exc.orig}") from exc

    def ping(self) -> None:
        """A trivial query: raises StoreUnavailable when the database does not answer."""
        with self.reading() as conn:
            conn.execute(select(1))

    def close(self) -> None:
        if self._fast is not None:
            self._fast.close()
            self._fast = None
        if self._pipeline is not None:
            self._pipeline.close()
        self._write.dispose()
        if self._read is not self._write:
            self._read.dispose()

    def _insert(self, table: Any) -> Any:
        return sqlite_insert(table) if self.is_sqlite else pg_insert(table)

    # -- audit chain -----------------------------------------------------------------------
    def _commit_chain_head(self) -> None:
        head = self._pending_head
        if head is not None:
            self._chain_seq, self._chain_prev = head
            self._pending_head = None

    def _appender(self, insert_row: Any) -> Any:
        """An ``append(event)`` that chains events onto this process's chain via ``insert_row``.

        Called with the chain lock held; the in-memory chain head only advances once the
        surrounding transaction has committed (``_commit_chain_head``).
        """
        if self._chain_id is None:
            self._chain_id = new_chain_id()
        chain = self._chain_id
        state: dict[str, Any] = {"seq": self._chain_seq, "prev": self._chain_prev}

        def append(evt: AuditEvent) -> None:
            seq = state["seq"] + 1
            at = evt.at or utcnow()
            payload_json = jsoncodec.dumps(evt.payload)
            digest = content_hash(
                chain=chain,
                seq=seq,
                at=at,
                run_id=evt.run_id,
                step_id=evt.step_id,
                kind=evt.kind,
                actor=evt.actor,
                payload_json=payload_json,
                prev_hash=state["prev"],
            )
            insert_row(
                {
                    "chain": chain,
                    "seq": seq,
                    "at": at,
                    "run_id": evt.run_id,
                    "step_id": evt.step_id,
                    "kind": evt.kind,
                    "actor": evt.actor,
                    "payload_json": payload_json,
                    "prev_hash": state["prev"],
                    "hash": digest,
                }
            )
            state["seq"], state["prev"] = seq, digest
            self._pending_head = (seq, digest)

        return append

    @contextmanager
    def _chained(self) -> Iterator[None]:
        """Hold the chain lock around a transaction; the chain head advances once it committed."""
        with self._chain_lock:
            self._pending_head = None
            try:
                yield
            except BaseException:
                self._pending_head = None
                raise
            self._commit_chain_head()

    @contextmanager
    def _tx_with_audit(self) -> Iterator[tuple[Connection, Any]]:
        with self._chained(), self.writing() as conn:
            rows: list[dict[str, Any]] = []
            yield conn, self._appender(rows.append)
            if rows:  # one statement for all of the transaction's events
                conn.execute(self._audit_stmt, rows if len(rows) > 1 else rows[0])

    @contextmanager
    def hot_tx(self) -> Iterator[StoreTx]:
        """A write transaction of a runner's hot path, with its audit events (see ``store.tx``)."""
        if self._fast is not None:
            with self._chained(), self._fast.transaction() as cursor:
                audit_rows: list[dict[str, Any]] = []
                sqlite_tx = SqliteTx(self._sqlite_statements, cursor, self._appender(audit_rows.append))
                yield sqlite_tx
                if audit_rows:
                    sqlite_tx.write_rows(AUDIT_INSERT_SQL, [_sqlite_audit_values(r) for r in audit_rows])
            sqlite_tx.committed()
            return
        if self._pipeline is None:
            with self._tx_with_audit() as (conn, append):
                conn_tx = ConnTx(conn, append)
                yield conn_tx
            conn_tx.committed()
            return
        with self._chained(), self._pipeline.transaction() as tx:
            rows: list[dict[str, Any]] = []
            tx.append = self._appender(rows.append)
            yield tx
            tx.insert_rows(AUDIT, rows)
        tx.committed()

    @contextmanager
    def _fast_tx(self) -> Iterator[tuple[Any, Any]]:
        """SQLite checkpoint transaction on the dedicated DBAPI connection."""
        assert self._fast is not None
        with self._chained(), self._fast.transaction() as cursor:

            def insert_row(row: dict[str, Any]) -> None:
                cursor.execute(AUDIT_INSERT_SQL, _sqlite_audit_values(row))

            yield cursor, self._appender(insert_row)

    @staticmethod
    def _fast_fence(cursor: Any, fence: Fence, now: datetime, lease_until: datetime | None = None) -> None:
        if lease_until is None:
            cursor.execute(FENCE_SQL, (sqlite_datetime(now), fence.run_id, fence.epoch))
        else:
            cursor.execute(
                FENCE_LEASE_SQL,
                (sqlite_datetime(now), sqlite_datetime(lease_until), fence.run_id, fence.epoch),
            )
        if cursor.rowcount != 1:
            raise _lease_lost(fence)

    def _fast_step(self, cursor: Any, step: StepRecord) -> None:
        values = self._step_values(step)
        values["started_at"] = sqlite_datetime(values["started_at"])
        values["finished_at"] = sqlite_datetime(values["finished_at"])
        values["adopted"] = 1 if values["adopted"] else 0
        cursor.execute(STEP_UPSERT_SQL, tuple(values[c] for c in STEP_COLUMNS))

    def append_audit(self, events: Sequence[AuditEvent]) -> None:
        with self._tx_with_audit() as (_conn, append):
            for evt in events:
                append(evt)

    # -- workflow sources ------------------------------------------------------------------
    def save_workflow_source(self, digest: str, name: str, file: str, source: str) -> None:
        if digest in self._saved_sources:
            return
        with self.writing() as conn:
            stmt = self._insert(SOURCES).values(
                digest=digest, name=name, file=file, source=source, created_at=utcnow()
            )
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["digest"]))
        self._saved_sources.add(digest)

    def get_workflow_source(self, digest: str) -> tuple[str, str] | None:
        with self.reading() as conn:
            row = conn.execute(
                select(SOURCES.c.file, SOURCES.c.source).where(SOURCES.c.digest == digest)
            ).first()
        return (row.file, row.source) if row else None

    # -- runs ------------------------------------------------------------------------------
    def create_run(
        self,
        run_id: str,
        workflow: str,
        digest: str,
        inputs: dict[str, Any],
        work_item_id: str | None = None,
        *,
        owner: str | None = None,
        lease_until: datetime | None = None,
        also: Any = None,
    ) -> RunRecord:
        with self.hot_tx() as tx:
            record = self.insert_run(
                tx,
                run_id,
                workflow,
                digest,
                inputs,
                work_item_id,
                owner=owner,
                lease_until=lease_until,
            )
            if also is not None:  # e.g. link the work item to its run, in the same transaction
                also(tx)
        return record

    def insert_run(
        self,
        tx: StoreTx,
        run_id: str,
        workflow: str,
        digest: str,
        inputs: dict[str, Any],
        work_item_id: str | None = None,
        *,
        owner: str | None = None,
        lease_until: datetime | None = None,
    ) -> RunRecord:
        """``create_run`` inside a transaction the caller holds (a runner's claim)."""
        now = utcnow()
        acquired = owner is not None
        status = RunStatus.running if acquired else RunStatus.pending
        tx.write(
            self._run_insert_stmt,
            {
                "id": run_id,
                "workflow": workflow,
                "workflow_digest": digest,
                "status": status.value,
                "inputs_json": jsoncodec.dumps(inputs),
                "work_item_id": work_item_id,
                "owner": owner,
                "lease_until": lease_until,
                "epoch": 1 if acquired else 0,
                "executions": 1 if acquired else 0,
                "started_at": now if acquired else None,
                "created_at": now,
                "updated_at": now,
            },
        )
        tx.append(
            AuditEvent(
                kind="run_created",
                run_id=run_id,
                actor=owner or "engine",
                payload={
                    "workflow": workflow,
                    "digest": digest,
                    "work_item_id": work_item_id,
                    "owner": owner,
                },
                at=now,
            )
        )
        return RunRecord(
            id=run_id,
            workflow=workflow,
            workflow_digest=digest,
            status=status,
            inputs=inputs,
            owner=owner,
            epoch=1 if acquired else 0,
            lease_until=lease_until,
            work_item_id=work_item_id,
            executions=1 if acquired else 0,
            created_at=now,
            started_at=now if acquired else None,
            updated_at=now,
        )

    def park_run_in(self, tx: StoreTx, run_id: str, *, reason: str, reason_code: str, actor: str) -> bool:
        """Send a pending or running run to the manual queue, in the caller's transaction, when
        its item went to a person without the engine parking it (the run could not start, an
        internal error, a poison item): a person retries or rejects it there like any other
        parked run, and ``rpa resume --all`` leaves it alone. False when the run was no longer
        pending or running (nothing written)."""
        now = utcnow()
        rows = tx.rows(
            self._park_stmt, {"p_id": run_id, "p_reason": reason, "p_code": reason_code, "p_now": now}
        )
        if not rows:
            return False
        tx.append(
            AuditEvent(
                kind="run_parked",
                run_id=run_id,
                actor=actor,
                at=now,
                payload={"reason": reason, "code": reason_code},
            )
        )
        return True

    def workflow_name(self, digest: str) -> str | None:
        """The name of the workflow saved under ``digest``, if it was saved."""
        with self.reading() as conn:
            return conn.execute(select(SOURCES.c.name).where(SOURCES.c.digest == digest)).scalar()

    def latest_run_for_item(self, work_item_id: str) -> RunRecord | None:
        """The newest run made for a work item (a runner that died may not have linked it)."""
        with self.reading() as conn:
            row = conn.execute(
                select(RUNS)
                .where(RUNS.c.work_item_id == work_item_id)
                .order_by(RUNS.c.created_at.desc())
                .limit(1)
            ).first()
        return self._run_record(row) if row else None

    @staticmethod
    def _run_record(row: Any) -> RunRecord:
        return RunRecord(
            id=row.id,
            workflow=row.workflow,
            workflow_digest=row.workflow_digest,
            status=RunStatus(row.status),
            inputs=jsoncodec.loads(row.inputs_json) or {},
            outputs=jsoncodec.loads(row.outputs_json),
            overrides=jsoncodec.loads(row.overrides_json) or {},
            reason=row.reason,
            reason_code=row.reason_code,
            parked_step=row.parked_step,
            owner=row.owner,
            epoch=row.epoch,
            lease_until=aware(row.lease_until),
            work_item_id=row.work_item_id,
            executions=row.executions,
            created_at=aware(row.created_at),
            started_at=aware(row.started_at),
            finished_at=aware(row.finished_at),
            updated_at=aware(row.updated_at),
        )

    def get_run(self, run_id: str) -> RunRecord:
        with self.reading() as conn:
            row = conn.execute(select(RUNS).where(RUNS.c.id == run_id)).first()
        if row is None:
            raise RunNotFound(run_id)
        return self._run_record(row)

    def find_runs_by_prefix(self, prefix: str, limit: int = 5) -> list[RunRecord]:
        """Runs whose id starts with ``prefix`` (the CLI accepts unambiguous short ids)."""
        with self.reading() as conn:
            rows = conn.execute(select(RUNS).where(RUNS.c.id.like(f"{prefix}%")).limit(limit)).all()
        return [self._run_record(r) for r in rows]

    def list_runs(
        self, status: RunStatus | None = None, workflow: str | None = None, limit: int = 50
    ) -> list[RunRecord]:
        query = select(RUNS)
        if status is not None:
            query = query.where(RUNS.c.status == status.value)
        if workflow is not None:
            query = query.where(RUNS.c.workflow == workflow)
        query = query.order_by(RUNS.c.created_at.desc(), RUNS.c.id.desc()).limit(limit)
        with self.reading() as conn:
            rows = conn.execute(query).all()
        return [self._run_record(r) for r in rows]

    def acquire_run(self, run_id: str, owner: str, lease_until: datetime, *, force: bool = False) -> Fence:
        now = utcnow()
        with self._tx_with_audit() as (conn, append):
            row = conn.execute(select(RUNS).where(RUNS.c.id == run_id)).first()
            if row is None:
                raise RunNotFound(run_id)
            status = RunStatus(row.status)
            if status.is_terminal:
                raise RpaError(f"run {run_id} is {status.value}; a finished run cannot be resumed")
            held = aware(row.lease_until)
            if not force and row.owner and row.owner != owner and held is not None and held > now:
                raise LeaseLostError(
                    f"run {run_id} is held by {row.owner} until {held.isoformat(timespec='seconds')}"
                )
            epoch = row.epoch + 1
            conn.execute(
                update(RUNS)
                .where(RUNS.c.id == run_id, RUNS.c.epoch == row.epoch)
                .values(
                    owner=owner,
                    epoch=epoch,
                    lease_until=lease_until,
                    status=RunStatus.running.value,
                    started_at=aware(row.started_at) or now,
                    executions=row.executions + 1,
                    updated_at=now,
                    reason=None,
                    reason_code=None,
                    parked_step=None,
                )
            )
            append(
                AuditEvent(
                    kind="run_acquired",
                    run_id=run_id,
                    actor=owner,
                    payload={"epoch": epoch, "previous_owner": row.owner, "previous_status": status.value},
                    at=now,
                )
            )
        return Fence(run_id=run_id, owner=owner, epoch=epoch)

    def extend_lease(self, fence: Fence, lease_until: datetime) -> None:
        if self._fast is not None:
            with self._fast_tx() as (cursor, _append):
                self._fast_fence(cursor, fence, utcnow(), lease_until)
            return
        with self.hot_tx() as tx:
            tx.write_one(
                self._fence_lease_stmt,
                {"f_id": fence.run_id, "f_epoch": fence.epoch, "f_now": utcnow(), "f_lease": lease_until},
                lambda: _lease_lost(fence),
            )

    def release_run(self, fence: Fence) -> None:
        with self.writing() as conn:
            conn.execute(
                update(RUNS)
                .where(RUNS.c.id == fence.run_id, RUNS.c.epoch == fence.epoch)
                .values(owner=None, lease_until=None, updated_at=utcnow())
            )

    def finish_run(
        self,
        fence: Fence,
        status: RunStatus,
        *,
        outputs: dict[str, Any] | None = None,
        reason: str | None = None,
        reason_code: str | None = None,
        parked_step: str | None = None,
        audit: AuditEvent | None = None,
        steps: Sequence[StepRecord] = (),
        also: Any = None,
        step_events: Sequence[AuditEvent] = (),
    ) -> None:
        now = utcnow()
        with self.hot_tx() as tx:
            tx.write_one(
                self._finish_stmt,
                {
                    "f_id": fence.run_id,
                    "f_epoch": fence.epoch,
                    "f_now": now,
                    "r_status": status.value,
                    "r_outputs": jsoncodec.dumps(outputs) if outputs is not None else None,
                    "r_reason": reason,
                    "r_code": reason_code,
                    "r_parked": parked_step,
                    "r_finished": now if status.is_terminal else None,
                },
                lambda: _lease_lost(fence),
            )
            tx.write(self._step_stmt, [self._step_values(step) for step in steps])
            for evt in step_events:
                tx.append(evt)
            if audit is not None:
                tx.append(audit)
            if also is not None:  # e.g. the work item's outcome, in the same transaction
                also(tx)

    def reopen_run(
        self,
        run_id: str,
        *,
        actor: str,
        action: str,
        step_id: str | None,
        overrides: dict[str, dict[str, Any]] | None = None,
        payload: dict[str, Any] | None = None,
        retry_kind: str = "operator",
        also: Callable[[Connection], None] | None = None,
    ) -> None:
        """A person sends a parked run back to work: its parked step will run again.

        The parked step's rows are marked ``retrying`` with kind ``retry_kind``: ``operator``
        (a ``once`` step is retried as the person decided, without a verify) or ``technical``
        (as after a failed attempt: a ``once`` step asks its verify first, or is parked in
        doubt without one). Corrections are stored as overrides of that step's arguments, and
        the run goes back to ``pending`` — all audited with who did what, in one transaction.
        ``also`` writes in that transaction too (the run's work item goes back to the queue):
        if it raises, nothing of it is kept.
        """
        now = utcnow()
        with self._tx_with_audit() as (conn, append):
            row = conn.execute(select(RUNS).where(RUNS.c.id == run_id)).first()
            if row is None:
                raise RunNotFound(run_id)
            if RunStatus(row.status) not in (RunStatus.needs_review, RunStatus.failed):
                raise RpaError(
                    f"run {run_id} is {row.status}; only a run waiting for a person can be sent back"
                )
            values: dict[str, Any] = {
                "status": RunStatus.pending.value,
                "reason": None,
                "reason_code": None,
                "parked_step": None,
                "finished_at": None,
                "owner": None,
                "lease_until": None,
                "updated_at": now,
            }
            if overrides is not None:
                values["overrides_json"] = jsoncodec.dumps(overrides)
            conn.execute(update(RUNS).where(RUNS.c.id == run_id).values(**values))
            if step_id is not None:
                conn.execute(
                    update(STEPS)
                    .where(
                        STEPS.c.run_id == run_id,
                        STEPS.c.step_id == step_id,
                        STEPS.c.status.in_(
                            [StepStatus.needs_review.value, StepStatus.failed.value, StepStatus.started.value]
                        ),
                    )
                    .values(status=StepStatus.retrying.value, error_kind=retry_kind)
                )
            append(
                AuditEvent(
                    kind=f"manual_{action}",
                    run_id=run_id,
                    step_id=step_id,
                    actor=actor,
                    at=now,
                    payload=payload or {},
                )
            )
            if also is not None:
                also(conn)

    def close_run(
        self,
        run_id: str,
        status: RunStatus,
        *,
        actor: str,
        reason: str,
        also: Callable[[Connection], None] | None = None,
    ) -> None:
        """A person ends a parked run (reject), audited; ``also`` as in ``reopen_run``."""
        now = utcnow()
        with self._tx_with_audit() as (conn, append):
            result = conn.execute(
                update(RUNS)
                .where(
                    RUNS.c.id == run_id,
                    RUNS.c.status.in_(
                        [RunStatus.needs_review.value, RunStatus.failed.value, RunStatus.pending.value]
                    ),
                )
                .values(
                    status=status.value,
                    reason=reason,
                    reason_code=status.value,
                    finished_at=now,
                    updated_at=now,
                    owner=None,
                    lease_until=None,
                )
            )
            if result.rowcount != 1:
                raise RpaError(f"run {run_id} is not waiting for a person")
            append(
                AuditEvent(
                    kind=f"manual_{status.value}",
                    run_id=run_id,
                    actor=actor,
                    at=now,
                    payload={"reason": reason},
                )
            )
            if also is not None:
                also(conn)

    def find_interrupted_runs(self, now: datetime) -> list[RunRecord]:
        active = [RunStatus.running.value, RunStatus.pending.value]
        query = (
            select(RUNS)
            .where(RUNS.c.status.in_(active))
            .where((RUNS.c.lease_until.is_(None)) | (RUNS.c.lease_until < now))
            .order_by(RUNS.c.created_at)
        )
        with self.reading() as conn:
            rows = conn.execute(query).all()
        return [self._run_record(r) for r in rows]

    # -- steps -----------------------------------------------------------------------------
    @staticmethod
    def _step_values(step: StepRecord) -> dict[str, Any]:
        return {
            "run_id": step.run_id,
            "step_id": step.step_id,
            "item_index": step.item_index,
            "status": step.status.value,
            "skill": step.skill,
            "effect": step.effect,
            "attempts": step.attempts,
            "idempotency_key": step.idempotency_key,
            "params_json": step.params_text
            if step.params_text is not None
            else (None if step.params is None else jsoncodec.dumps(step.params)),
            "output_json": step.output_text
            if step.output_text is not None
            else (None if step.output is None else jsoncodec.dumps(step.output)),
            "error": step.error,
            "error_kind": step.error_kind,
            "adopted": step.adopted,
            "started_at": step.started_at,
            "finished_at": step.finished_at,
            "duration_ms": step.duration_ms,
        }

    def save_step(self, fence: Fence, step: StepRecord, audit: AuditEvent | None = None) -> None:
        now = utcnow()
        if self._fast is not None:
            with self._fast_tx() as (cursor, append):
                self._fast_fence(cursor, fence, now)
                self._fast_step(cursor, step)
                if audit is not None:
                    append(audit)
            return
        self.save_steps(fence, [step], [audit] if audit is not None else ())

    def save_steps(self, fence: Fence, steps: Sequence[StepRecord], audit: Sequence[AuditEvent] = ()) -> None:
        if self._fast is not None:
            with self._fast_tx() as (cursor, append):
                self._fast_fence(cursor, fence, utcnow())
                for step in steps:
                    self._fast_step(cursor, step)
                for evt in audit:
                    append(evt)
            return
        with self.hot_tx() as tx:
            tx.write_one(
                self._fence_stmt,
                {"f_id": fence.run_id, "f_epoch": fence.epoch, "f_now": utcnow()},
                lambda: _lease_lost(fence),
            )
            tx.write(self._step_stmt, [self._step_values(step) for step in steps])
            for evt in audit:
                tx.append(evt)

    def get_steps(self, run_id: str) -> list[StepRecord]:
        with self.reading() as conn:
            rows = conn.execute(select(STEPS).where(STEPS.c.run_id == run_id).order_by(STEPS.c.id)).all()
        return [
            StepRecord(
                run_id=r.run_id,
                step_id=r.step_id,
                item_index=r.item_index,
                status=StepStatus(r.status),
                skill=r.skill,
                effect=r.effect,
                attempts=r.attempts,
                idempotency_key=r.idempotency_key,
                params=jsoncodec.loads(r.params_json),
                output=jsoncodec.loads(r.output_json),
                error=r.error,
                error_kind=r.error_kind,
                adopted=bool(r.adopted),
                started_at=aware(r.started_at),
                finished_at=aware(r.finished_at),
                duration_ms=r.duration_ms,
            )
            for r in rows
        ]

    def step_status_counts(self, run_id: str) -> dict[StepStatus, int]:
        query = select(STEPS.c.status, func.count()).where(STEPS.c.run_id == run_id).group_by(STEPS.c.status)
        with self.reading() as conn:
            return {StepStatus(status): count for status, count in conn.execute(query).all()}

    # -- audit reads -----------------------------------------------------------------------
    @staticmethod
    def _audit_event(row: Any) -> AuditEvent:
        return AuditEvent(
            kind=row.kind,
            run_id=row.run_id,
            step_id=row.step_id,
            actor=row.actor,
            payload=jsoncodec.loads(row.payload_json) or {},
            at=aware(row.at),
            chain=row.chain,
            seq=row.seq,
            prev_hash=row.prev_hash,
            hash=row.hash,
        )

    def audit_events(
        self, run_id: str | None = None, kind: str | None = None, limit: int = 1000
    ) -> list[AuditEvent]:
        query = select(AUDIT)
        if run_id is not None:
            query = query.where(AUDIT.c.run_id == run_id)
        if kind is not None:
            query = query.where(AUDIT.c.kind == kind)
        query = query.order_by(AUDIT.c.at, AUDIT.c.id).limit(limit)
        with self.reading() as conn:
            return [self._audit_event(r) for r in conn.execute(query).all()]

    def verify_audit(self) -> AuditReport:
        problems: list[AuditProblem] = []
        chains = 0
        events = 0
        current: str | None = None
        batch: list[AuditEvent] = []

        def flush() -> None:
            nonlocal chains
            if batch:
                chains += 1
                problems.extend(verify_chain(batch))

        with self.reading() as conn:
            result = conn.execution_options(yield_per=2000).execute(
                select(AUDIT).order_by(AUDIT.c.chain, AUDIT.c.seq)
            )
            for row in result:
                events += 1
                if row.chain != current:
                    flush()
                    batch = []
                    current = row.chain
                batch.append(self._audit_event(row))
            flush()
        return AuditReport(chains=chains, events=events, problems=problems)


def open_store(url: str, *, synchronous: str = "FULL") -> SQLRunStore:
    """Open (and create if needed) the store at a SQLAlchemy URL."""
    return SQLRunStore(url, synchronous=synchronous)
