"""The ledger's web app: ``POST /entries``, reads by reference, health."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from examples.platforms.common.web import health
from examples.platforms.ledger import STORE_FILENAME
from examples.platforms.ledger.settings import LedgerSettings
from examples.platforms.ledger.store import LedgerStore


class NewEntry(BaseModel):
    """Body of ``POST /entries``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reference: str = Field(min_length=1, max_length=64, description="Business reference of the entry.")
    account: str = Field(min_length=1, max_length=64, description="Account the entry is booked to.")
    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=2, description="Amount, at most 2 decimals.")


class EntryCreated(BaseModel):
    """Answer of ``POST /entries``."""

    entry_id: int = Field(description="Number of the new entry.")


def create_app(settings: LedgerSettings, data_dir: Path) -> FastAPI:
    """Build the ledger over the store in ``data_dir``."""
    store = LedgerStore(data_dir / STORE_FILENAME)
    app = FastAPI(title="Ledger (example)", docs_url=None, redoc_url=None)

    @app.get("/health")
    def get_health() -> dict[str, object]:
        return health("ledger", store.path)

    @app.post("/entries", status_code=201, response_model=EntryCreated)
    async def post_entry(entry: NewEntry) -> EntryCreated:
        """Record an entry. With ``slow_ms`` the request is held first; like a real back end, the
        ledger still records it when the caller has given up (or died) meanwhile."""
        if settings.slow_ms:
            await asyncio.sleep(settings.slow_ms / 1000)
        created = await run_in_threadpool(store.add, entry.reference, entry.account, entry.amount)
        return EntryCreated(entry_id=created.entry_id)

    @app.get("/entries")
    def list_entries() -> list[dict[str, object]]:
        return [entry.to_json() for entry in store.all()]

    @app.get("/entries/{reference:path}")
    def entries_for(reference: str) -> list[dict[str, object]]:
        entries = store.find(reference)
        if not entries:
            raise HTTPException(status_code=404, detail=f"No entry found for reference {reference!r}")
        return [entry.to_json() for entry in entries]

    return app
