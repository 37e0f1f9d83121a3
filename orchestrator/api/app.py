"""The JSON API of ``rpa serve`` (OpenAPI at /docs and /openapi.json)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response, status
from pydantic import AwareDatetime, BaseModel, Field

from orchestrator import jsoncodec
from orchestrator.api.security import Principal, Role, require
from orchestrator.api.store_down import STORE_RETRY_AFTER, store_unavailable_detail
from orchestrator.bootstrap import Runtime
from orchestrator.enums import RunStatus
from orchestrator.errors import ConfigError, RpaError, RunNotFound, StoreUnavailable
from orchestrator.queue.manual import ManualActionError, ManualEntry, ManualQueue
from orchestrator.queue.models import ItemStatus, Offer, WorkItem
from orchestrator.queue.store import SQLWorkQueue
from orchestrator.queue.triggers import cutoff_passed


@dataclass
class ServiceContext:
    """What the API (and the dashboard) work with."""

    runtime: Runtime
    queue: SQLWorkQueue
    manual: ManualQueue
    is_scheduler: Any = None  # callable -> bool


class EnqueueRequest(BaseModel):
    reference: str = Field(min_length=1, max_length=400, description="Business reference, unique per bot.")
    inputs: dict[str, Any] = Field(default_factory=dict, description="Inputs of the item's run.")
    priority: int | None = Field(None, ge=-100, le=100, description="Higher first; default: the bot's.")
    deadline: AwareDatetime | None = Field(
        None,
        description="When the item must be done, with its UTC offset. Items with a deadline are "
        "claimed first (by priority, then the earliest deadline); it is also the item's SLA due "
        "time when sooner than the bot's sla.",
    )
    not_before: AwareDatetime | None = Field(
        None, description="Postpone the item until then (with its UTC offset)."
    )


class EnqueueBatch(BaseModel):
    items: list[EnqueueRequest] = Field(
        min_length=1, max_length=1000, description="Up to 1,000 items, enqueued in one transaction."
    )


class ManualAction(BaseModel):
    note: str = Field("", max_length=2000, description="Why (kept in the audit trail).")
    corrections: dict[str, Any] = Field(default_factory=dict, description="resume: corrected step arguments.")
    reason: str = Field("", max_length=2000, description="reject: the reason.")
    not_before: AwareDatetime | None = Field(
        None,
        description="retry, resume, approve: no runner takes the item before then (with its UTC offset).",
    )


class RetryFailed(BaseModel):
    bot: str | None = Field(None, description="Only this bot's items.")
    reason_code: str | None = Field(None, description="Only runs that failed with this reason code.")
    note: str = Field("", max_length=2000, description="Why (kept in the audit trail of each retry).")
    limit: int = Field(500, ge=1, le=10000, description="At most this many, newest first.")
    not_before: AwareDatetime | None = Field(
        None, description="No runner takes the items before then (with its UTC offset)."
    )


def item_json(item: WorkItem) -> dict[str, Any]:
    data = jsoncodec.to_jsonable(item.__dict__)
    data["status"] = item.status.value
    return data


def run_json(runtime: Runtime, run_id: str, with_steps: bool = False) -> dict[str, Any]:
    run = runtime.store.get_run(run_id)
    data = jsoncodec.to_jsonable({k: v for k, v in run.__dict__.items() if k not in {"owner", "epoch"}})
    data["status"] = run.status.value
    if with_steps:
        data["steps"] = [
            jsoncodec.to_jsonable(
                {k: v for k, v in s.__dict__.items() if k not in {"params_text", "output_text"}}
            )
            for s in runtime.store.get_steps(run_id)
        ]
    return data


def build_api(context: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api")
    viewer = Depends(require(Role.viewer))
    operator = require(Role.operator)

    @api.get("/health", tags=["health"])
    def health() -> dict[str, Any]:
        """Anonymous liveness and readiness: the store answers. (No business figures here.)"""
        try:
            context.runtime.store.ping()
        except RpaError as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"store unavailable: {exc}") from None
        return {
            "status": "ok",
            "store": context.runtime.store.safe_url.split("://")[0].split("+")[0],
            "scheduler": bool(context.is_scheduler()) if context.is_scheduler else False,
        }

    @api.get("/bots", tags=["bots"], dependencies=[viewer])
    def bots() -> list[dict[str, Any]]:
        return [
            {
                "name": b.name,
                "enabled": b.enabled,
                "workflow_digest": b.workflow_digest,
                "file": b.source_file,
                "spec": b.spec,
            }
            for b in context.queue.list_bots()
        ]

    def accepting_bot(bot: str) -> None:
        """404 for an unknown bot, 409 past its cut-off."""
        try:
            spec = context.queue.get_bot(bot).spec
        except ConfigError:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no bot named {bot!r}") from None
        if cutoff_passed(spec):
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"bot {bot} is past its cut-off ({spec.get('cutoff')})"
            )

    def offer(body: EnqueueRequest, who: Principal) -> Offer:
        return Offer(
            reference=body.reference,
            inputs=body.inputs,
            priority=body.priority,
            deadline=body.deadline,
            not_before=body.not_before,
            source="api",
            created_by=who.user,
        )

    @api.post("/bots/{bot}/items", tags=["items"], status_code=status.HTTP_201_CREATED)
    def enqueue(
        bot: str, body: EnqueueRequest, response: Response, who: Principal = Depends(operator)
    ) -> dict[str, Any]:
        """Enqueue a work item (idempotent by reference: a repeat returns the existing item, 200)."""
        accepting_bot(bot)
        (result,) = context.queue.enqueue_many(bot, [offer(body, who)])
        if not result.created:
            response.status_code = status.HTTP_200_OK
        return {"created": result.created, "item": item_json(result.item)}

    @api.post("/bots/{bot}/items/batch", tags=["items"], status_code=status.HTTP_201_CREATED)
    def enqueue_batch(
        bot: str, body: EnqueueBatch, response: Response, who: Principal = Depends(operator)
    ) -> dict[str, Any]:
        """Enqueue several work items in one transaction, each as the single enqueue would:
        one result per item, in order (201 when any was created, else 200)."""
        accepting_bot(bot)
        results = context.queue.enqueue_many(bot, [offer(item, who) for item in body.items])
        created = sum(1 for r in results if r.created)
        if not created:
            response.status_code = status.HTTP_200_OK
        return {
            "created": created,
            "items": [{"created": r.created, "item": item_json(r.item)} for r in results],
        }

    @api.get("/items", tags=["items"], dependencies=[viewer])
    def items(
        bot: str | None = None,
        status_: ItemStatus | None = Query(None, alias="status"),
        reference: str | None = None,
        since: datetime | None = None,
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0),
    ) -> list[dict[str, Any]]:
        found = context.queue.list_items(
            bot=bot, status=status_, reference=reference, since=since, limit=limit, offset=offset
        )
        return [item_json(i) for i in found]

    @api.get("/items/{item_id}", tags=["items"], dependencies=[viewer])
    def item(item_id: str) -> dict[str, Any]:
        try:
            return item_json(context.queue.get_item(item_id))
        except RpaError:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no item {item_id}") from None

    @api.get("/duplicates", tags=["items"], dependencies=[viewer])
    def duplicates(bot: str | None = None, limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
        return [jsoncodec.to_jsonable(d.__dict__) for d in context.queue.duplicates(bot, limit)]

    @api.get("/runs", tags=["runs"], dependencies=[viewer])
    def runs(
        status_: RunStatus | None = Query(None, alias="status"),
        workflow: str | None = None,
        limit: int = Query(50, ge=1, le=1000),
    ) -> list[dict[str, Any]]:
        return [
            run_json(context.runtime, r.id) for r in context.runtime.store.list_runs(status_, workflow, limit)
        ]

    @api.get("/runs/{run_id}", tags=["runs"], dependencies=[viewer])
    def run(run_id: str) -> dict[str, Any]:
        try:
            return run_json(context.runtime, run_id, with_steps=True)
        except RunNotFound:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no run {run_id}") from None

    @api.get("/manual", tags=["manual"], dependencies=[viewer])
    def manual() -> list[dict[str, Any]]:
        out = []
        for entry in context.manual.entries():
            out.append(
                {
                    "run_id": entry.run.id,
                    "workflow": entry.run.workflow,
                    "reason": entry.run.reason,
                    "reason_code": entry.run.reason_code,
                    "step": entry.run.parked_step,
                    "skill": entry.step.skill if entry.step else None,
                    "arguments": jsoncodec.to_jsonable(entry.step.params) if entry.step else None,
                    "item": item_json(entry.item) if entry.item else None,
                    "waiting_since": jsoncodec.to_jsonable(entry.waiting_since),
                }
            )
        return out

    @api.post("/manual/retry-failed", tags=["manual"])
    def manual_retry_failed(body: RetryFailed, who: Principal = Depends(operator)) -> dict[str, Any]:
        """Retry every failed item (of a bot, failed with a reason code), newest first."""
        skipped: list[tuple[ManualEntry, str]] = []
        entries = context.manual.retry_failed(
            who.user,
            bot=body.bot,
            reason_code=body.reason_code,
            note=body.note,
            not_before=body.not_before,
            limit=body.limit,
            skipped=skipped,
        )

        def brief(entry: ManualEntry) -> dict[str, Any]:
            return {
                "run_id": entry.run.id,
                "item": entry.item.id if entry.item else None,
                "reference": entry.item.reference if entry.item else None,
            }

        return {
            "retried": [brief(e) for e in entries],
            "skipped": [{**brief(e), "why": why} for e, why in skipped],
        }

    @api.post("/manual/{run_id}/{action}", tags=["manual"])
    def manual_action(
        run_id: str, action: str, body: ManualAction, who: Principal = Depends(operator)
    ) -> dict[str, Any]:
        """retry | resume (with corrections) | approve (four-eyes) | reject (with a reason)."""
        try:
            when = body.not_before
            if action == "retry":
                context.manual.retry(run_id, who.user, body.note, not_before=when)
                return {"run_id": run_id, "action": action}
            if action == "resume":
                change = context.manual.resume(run_id, who.user, body.corrections, body.note, not_before=when)
                return {"run_id": run_id, "action": action, "change": change}
            if action == "approve":
                context.manual.approve(run_id, who.user, body.note, not_before=when)
                return {"run_id": run_id, "action": action}
            if action == "reject" and when is not None:
                raise HTTPException(
                    status.HTTP_422_UNPROCESSABLE_CONTENT,
                    "not_before is for retry, resume and approve, not reject",
                )
            if action == "reject":
                context.manual.reject(run_id, who.user, body.reason or body.note)
                return {"run_id": run_id, "action": action}
        except ManualActionError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        except RunNotFound:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no run {run_id}") from None
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"unknown action {action!r}: retry, resume, approve, reject"
        )

    @api.get("/runners", tags=["health"], dependencies=[viewer])
    def runners() -> list[dict[str, Any]]:
        return jsoncodec.to_jsonable(context.queue.runners())  # type: ignore[no-any-return]

    return api


def create_app(context: ServiceContext) -> FastAPI:
    app = FastAPI(
        title="Digital Employee",
        version="0.1.0",
        description="Work queue, runs and the manual queue of the digital employees.",
    )
    app.state.settings = context.runtime.settings
    app.state.context = context
    app.include_router(build_api(context))

    @app.exception_handler(RpaError)
    async def _rpa_error(_request: Request, exc: RpaError) -> Response:
        from fastapi.responses import JSONResponse

        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_409_CONFLICT)

    @app.exception_handler(StoreUnavailable)
    async def _store_unavailable(_request: Request, exc: StoreUnavailable) -> Response:
        from fastapi.responses import JSONResponse

        return JSONResponse(
            {"detail": store_unavailable_detail(exc)},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": STORE_RETRY_AFTER},
        )

    try:
        from orchestrator.dashboard.app import install_dashboard
    except ModuleNotFoundError as exc:
        if exc.name != "orchestrator.dashboard" and exc.name != "orchestrator.dashboard.app":
            raise
    else:
        install_dashboard(app, context)
    return app
