"""Webhook notifications: an HTTP POST of JSON, with failures classified for retries.

The step's idempotency key travels in the ``Idempotency-Key`` header, so a receiver can drop a
repeat if a retry follows a lost response.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from skills import BusinessError, TechnicalError

_RETRY_LATER = {408, 425, 429, 503}


@dataclass(frozen=True)
class WebhookResponse:
    """What the receiver answered."""

    status_code: int
    excerpt: str


def post_json(
    url: str,
    payload: Any,
    *,
    idempotency_key: str,
    headers: Mapping[str, str] | None = None,
    timeout_seconds: float = 30.0,
) -> WebhookResponse:
    """POST ``payload`` as JSON to ``url``.

    Raises:
        BusinessError: The URL is not http(s), or the receiver refused the request (4xx other
            than 408/425/429).
        TechnicalError: ``applied=False`` when the request never got through or the receiver
            said to come back later (408/425/429/503); ``applied=None`` when the connection broke
            after sending or the receiver failed (5xx).
    """
    if not url.startswith(("http://", "https://")):
        raise BusinessError(f"expected an http:// or https:// webhook URL, got {url!r}", code="bad_url")
    body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    sent_headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "digital-employee/speak.notify",
        "Idempotency-Key": idempotency_key,
        **dict(headers or {}),
    }
    try:
        response = httpx.post(url, content=body, headers=sent_headers, timeout=timeout_seconds)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise TechnicalError(f"could not reach the webhook {url}: {exc}", applied=False) from exc
    except httpx.InvalidURL as exc:
        raise BusinessError(f"the webhook URL {url!r} is invalid: {exc}", code="bad_url") from exc
    except httpx.TransportError as exc:
        raise TechnicalError(
            f"the webhook {url} did not answer; delivery unknown: {exc}", applied=None
        ) from exc
    excerpt = response.text[:300]
    status = response.status_code
    if 200 <= status < 300:
        return WebhookResponse(status_code=status, excerpt=excerpt)
    if status in _RETRY_LATER:
        raise TechnicalError(f"the webhook {url} answered {status} (try later): {excerpt!r}", applied=False)
    if status >= 500:
        raise TechnicalError(f"the webhook {url} failed with {status}: {excerpt!r}", applied=None)
    raise BusinessError(
        f"the webhook {url} refused the notification with {status}: {excerpt!r}", code="webhook_rejected"
    )
