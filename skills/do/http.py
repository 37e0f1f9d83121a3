"""HTTP skills: GET (reads; usable as a verify) and POST (once, with an Idempotency-Key header)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel, Field

from skills import BusinessError, SkillContext, TechnicalError, skill


class HttpGetParams(BaseModel):
    url: str = Field(description="Absolute URL, or a path joined to the platform's base_url.")
    params: dict[str, str] = Field(default_factory=dict, description="Query parameters.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra request headers.")
    timeout_s: float = Field(30.0, gt=0, le=600, description="Network timeout in seconds.")


class HttpResult(BaseModel):
    status: int = Field(description="HTTP status code.")
    found: bool = Field(description="True for a 2xx answer (so a GET can serve as a verify).")
    json_body: Any = Field(None, description="The body parsed as JSON, when it is JSON.")
    text: str = Field("", description="The body as text (first 100,000 characters).")


def _url(ctx: SkillContext, url: str) -> str:
    if url.startswith(("http://", "https://")):
        return url
    base = (ctx.platform.config.get("base_url") if ctx.platform else None) or ""
    if not base:
        raise BusinessError(f"relative URL {url!r} needs a platform with a base_url", code="bad_url")
    return base.rstrip("/") + "/" + url.lstrip("/")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _result(response: httpx.Response) -> HttpResult:
    body: Any = None
    if "json" in response.headers.get("content-type", ""):
        try:
            body = response.json()
        except ValueError:
            body = None
    return HttpResult(
        status=response.status_code,
        found=200 <= response.status_code < 300,
        json_body=body,
        text=response.text[:100_000],
    )


@skill("do.http_get", effect="none")
def http_get(ctx: SkillContext, params: HttpGetParams) -> HttpResult:
    """GET a URL; 404 is an answer (found=false), 5xx and network errors are retried."""
    try:
        response = httpx.get(
            _url(ctx, params.url), params=params.params, headers=params.headers, timeout=params.timeout_s
        )
    except httpx.HTTPError as exc:
        raise TechnicalError(f"GET {params.url} failed: {exc}") from exc
    if response.status_code >= 500:
        raise TechnicalError(f"GET {params.url} answered HTTP {response.status_code}")
    return _result(response)


class HttpPostParams(BaseModel):
    url: str = Field(description="Absolute URL, or a path joined to the platform's base_url.")
    json_body: Any = Field(None, description="JSON body to send.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra request headers.")
    timeout_s: float = Field(30.0, gt=0, le=600, description="Network timeout in seconds.")
    accept_statuses: list[int] = Field(
        default_factory=list,
        description="Non-2xx statuses that still count as success (e.g. 409 for 'exists').",
    )


@skill("do.http_post", effect="once")
def http_post(ctx: SkillContext, params: HttpPostParams) -> HttpResult:
    """POST JSON with an Idempotency-Key header; 4xx is a business error, 5xx/timeouts are in doubt."""
    headers = {"Idempotency-Key": ctx.idempotency_key, **params.headers}
    url = _url(ctx, params.url)
    try:
        # amounts travel as exact decimal strings, never as binary floats
        body = json.dumps(_jsonable(params.json_body), ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise BusinessError(f"the body for {params.url} is not JSON: {exc}", code="bad_body") from None
    headers.setdefault("Content-Type", "application/json")
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=params.timeout_s)
    except httpx.ConnectError as exc:
        raise TechnicalError(f"POST {params.url}: cannot connect: {exc}", applied=False) from exc
    except httpx.HTTPError as exc:
        raise TechnicalError(f"POST {params.url} failed: {exc}") from exc
    if response.status_code in params.accept_statuses or 200 <= response.status_code < 300:
        return _result(response)
    if response.status_code >= 500:
        raise TechnicalError(f"POST {params.url} answered HTTP {response.status_code}")
    raise BusinessError(
        f"POST {params.url} was refused with HTTP {response.status_code}: {response.text[:300]}",
        code=f"http_{response.status_code}",
    )
