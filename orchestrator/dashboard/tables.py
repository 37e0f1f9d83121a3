"""Tables of the dashboard: users, machine tokens, sessions, failed sign-ins and signing keys.

They live in the store's database beside the run and queue tables, so several ``rpa serve``
processes on one PostgreSQL share users, sessions and lockouts. ``ensure_schema`` creates them
(and any index of the run and queue tables an older store file does not have yet).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlalchemy.exc import OperationalError
from sqlmodel import Field, SQLModel

from orchestrator.errors import StoreUnavailable
from orchestrator.store.sql import SQLRunStore
from orchestrator.store.tables import timestamp_column


class UserRow(SQLModel, table=True):
    """A person who signs in to the dashboard (name stored lower-case)."""

    __tablename__ = "dashboard_users"

    name: str = Field(primary_key=True, max_length=64)
    password_hash: str = Field(sa_column=Column(Text, nullable=False))
    role: str = Field(max_length=20)
    must_change_password: bool = False
    failed_logins: int = 0
    first_failed_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    locked_until: datetime | None = Field(default=None, sa_column=timestamp_column())
    last_login_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    created_at: datetime = Field(sa_column=timestamp_column(nullable=False))
    updated_at: datetime = Field(sa_column=timestamp_column(nullable=False))


class ApiTokenRow(SQLModel, table=True):
    """A machine client's token: only its SHA-256 is kept (the token is shown once)."""

    __tablename__ = "dashboard_tokens"

    name: str = Field(primary_key=True, max_length=64)
    sha256: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=20)
    scopes: str = Field(sa_column=Column(Text, nullable=False))  # space separated
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=timestamp_column(nullable=False))
    last_used_at: datetime | None = Field(default=None, sa_column=timestamp_column())


class SessionRow(SQLModel, table=True):
    """A signed-in browser: the cookie carries the signed id, the row only its SHA-256."""

    __tablename__ = "dashboard_sessions"
    __table_args__ = (Index("ix_dashboard_sessions_user", "user"),)

    id_sha256: str = Field(primary_key=True, max_length=64)
    user: str = Field(max_length=64)
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=timestamp_column(nullable=False))
    seen_at: datetime = Field(sa_column=timestamp_column(nullable=False))
    expires_at: datetime = Field(sa_column=timestamp_column(nullable=False))
    ip: str = Field(default="", max_length=64)


class FailedLoginRow(SQLModel, table=True):
    """A refused sign-in, for the per-address rate limit (the audit trail has them too)."""

    __tablename__ = "dashboard_failed_logins"
    __table_args__ = (Index("ix_dashboard_failed_logins_ip_at", "ip", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    ip: str = Field(max_length=64)
    user: str = Field(max_length=200)
    at: datetime = Field(sa_column=timestamp_column(nullable=False))


class SigningKeyRow(SQLModel, table=True):
    """Random keys generated once per store (cookie signing), shared by every server."""

    __tablename__ = "dashboard_keys"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=timestamp_column(nullable=False))


DASHBOARD_TABLES = [
    UserRow.__table__,  # type: ignore[attr-defined]
    ApiTokenRow.__table__,  # type: ignore[attr-defined]
    SessionRow.__table__,  # type: ignore[attr-defined]
    FailedLoginRow.__table__,  # type: ignore[attr-defined]
    SigningKeyRow.__table__,  # type: ignore[attr-defined]
]


def ensure_schema(store: SQLRunStore) -> None:
    """Create the dashboard's tables, and the indexes of the run and queue tables it reads.

    ``create_all`` only creates the indexes of tables it creates; a store made before an index
    was declared gets it here (``upgrade_indexes``), so the dashboard's queries stay
    index-backed. (Opening a store already does this for ``work_items``.)
    """
    import orchestrator.store.tables as store_tables

    try:
        SQLModel.metadata.create_all(store.engine, tables=DASHBOARD_TABLES)
        for row in (store_tables.RunRow, store_tables.StepRow, store_tables.AuditRow):
            store.upgrade_indexes(row.__table__)  # type: ignore[attr-defined]
    except OperationalError as exc:
        raise StoreUnavailable(f"cannot create the dashboard tables in {store.safe_url}: {exc.orig}") from exc
