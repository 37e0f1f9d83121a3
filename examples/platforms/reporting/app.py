"""The reporting platform's web app: ``/api/reports``, an HTML list, health and faults."""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates

from examples.platforms.common.faults import FaultInjector, FaultMiddleware, fault_router
from examples.platforms.common.web import health, require_loopback
from examples.platforms.reporting import STORE_FILENAME
from examples.platforms.reporting.models import ReportCreated, ReportRecord
from examples.platforms.reporting.settings import ReportingSettings
from examples.platforms.reporting.store import Outcome, ReportStore

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def is_faultable(method: str, path: str) -> bool:
    """Faults hit report submissions and the HTML list, never the reads tests check outcomes with."""
    return path == "/" or (method == "POST" and path == "/api/reports")


def create_app(settings: ReportingSettings, data_dir: Path) -> FastAPI:
    """Build the reporting platform over the store in ``data_dir``."""
    store = ReportStore(data_dir / STORE_FILENAME)
    injector = FaultInjector(settings.fault_options())
    app = FastAPI(title="Cross-border RMB reporting platform (example)", docs_url=None, redoc_url=None)
    app.add_middleware(FaultMiddleware, injector=injector, faultable=is_faultable)
    app.include_router(fault_router(injector))

    @app.get("/health")
    def get_health() -> dict[str, object]:
        return health("reporting", store.path)

    @app.post(
        "/api/reports",
        status_code=201,
        response_model=ReportCreated,
        responses={
            200: {"description": "Identical repeat"},
            409: {"description": "Reference reported with other data"},
        },
    )
    def post_report(record: ReportRecord) -> JSONResponse:
        """Accept a reporting record; idempotent by reference."""
        submission = store.submit(record.model_dump(mode="json"))
        if submission.outcome is Outcome.conflict:
            return JSONResponse(
                status_code=409,
                content={
                    "detail": f"reference {record.reference!r} was already reported with different data",
                    "report_id": submission.report.report_id,
                    "conflicts": submission.conflicts,
                },
            )
        status = 201 if submission.outcome is Outcome.created else 200
        return JSONResponse(status_code=status, content={"report_id": submission.report.report_id})

    @app.get("/api/reports", dependencies=[Depends(require_loopback)])
    def list_reports() -> list[dict[str, object]]:
        """Every report kept, in the order received."""
        return [report.to_json() for report in store.all()]

    @app.get("/api/reports/{reference:path}", dependencies=[Depends(require_loopback)])
    def get_report(reference: str) -> dict[str, object]:
        """The report kept for one reference (404 when there is none)."""
        report = store.get(reference)
        if report is None:
            raise HTTPException(status_code=404, detail=f"No report found for reference {reference!r}")
        return report.to_json()

    @app.get("/", response_class=HTMLResponse)
    def report_table(request: Request) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(
            request, "reports.html", {"reports": [r.to_json() for r in store.all()]}
        )

    return app
