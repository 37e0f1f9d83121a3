"""speak.notify: send an e-mail (SMTP) or a webhook (HTTP POST JSON), at most once per step.

Effect ``once``: after the server accepts the notification, it is recorded in a sent-log under
the step's idempotency key; the ``verify`` companion looks the key up after a crash and returns
the earlier result instead of sending again. A crash between the server's acceptance and the
log write can still repeat a notification; the repeat carries the same ``Message-ID`` (derived
from the key) or ``Idempotency-Key`` header, so mail clients and receivers can drop it.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from skills import BusinessError, ResourceUnavailable, SkillContext, skill
from skills.hear.paths import confined_path
from skills.paths import confine
from skills.speak.mail import SmtpSettings, send_email
from skills.speak.sentlog import SentLog
from skills.speak.webhook import post_json

DEFAULT_SENT_LOG = "notifications/sent.jsonl"


class SmtpOverrides(BaseModel):
    """Per-step SMTP settings; each one replaces the ``smtp`` service's setting when given."""

    host: str | None = Field(None, description="Mail server host.")
    port: int | None = Field(None, ge=1, le=65535, description="Mail server port.")
    sender: str | None = Field(None, description="From address.")
    tls: Literal["none", "starttls", "ssl"] | None = Field(None, description="Transport security.")
    username: str | None = Field(None, description="Login name, if the server wants one.")
    password_secret: str | None = Field(None, description="Name of the secret that holds the password.")
    ca_file: str | None = Field(None, description="Extra CA certificate file to trust.")
    timeout_seconds: float | None = Field(None, gt=0, description="Network timeout.")


class NotifyParams(BaseModel):
    """What to send, to whom, over which channel."""

    channel: Literal["email", "webhook"] = Field(description="'email' (SMTP) or 'webhook' (HTTP POST JSON).")
    to: list[str] = Field(default_factory=list, description="E-mail recipients.")
    cc: list[str] = Field(default_factory=list, description="E-mail copy recipients.")
    subject: str | None = Field(None, description="E-mail subject.")
    body: str | None = Field(None, description="E-mail plain-text body.")
    html: str | None = Field(None, description="E-mail HTML body (sent as an alternative to the text).")
    attachments: list[str] = Field(
        default_factory=list, description="Files to attach, relative to the work folder."
    )
    smtp: SmtpOverrides | None = Field(
        None, description="SMTP settings for this step (else the smtp service's)."
    )
    url: str | None = Field(None, description="Webhook URL (http or https).")
    payload: dict[str, Any] | None = Field(None, description="Webhook JSON body.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra webhook HTTP headers.")
    timeout_seconds: float = Field(30.0, gt=0, le=600, description="Network timeout for the webhook.")
    sent_log: str | None = Field(
        None, description=f"Sent-log file; default <work folder>/{DEFAULT_SENT_LOG}."
    )

    @model_validator(mode="after")
    def _channel_fields(self) -> NotifyParams:
        if self.channel == "email":
            missing = [n for n, v in (("to", self.to), ("subject", self.subject)) if not v]
            if self.body is None and self.html is None:
                missing.append("body or html")
        else:
            missing = [n for n, v in (("url", self.url), ("payload", self.payload)) if v is None]
        if missing:
            raise ValueError(f"a {self.channel} notification needs {', '.join(missing)}")
        return self


class NotifyResult(BaseModel):
    channel: Literal["email", "webhook"] = Field(description="The channel used.")
    idempotency_key: str = Field(description="The step's idempotency key the notification was sent under.")
    message_id: str | None = Field(description="E-mail Message-ID (derived from the idempotency key).")
    recipients: list[str] = Field(description="E-mail recipients the server accepted, or the webhook URL.")
    refused: list[str] = Field(description="E-mail recipients the server refused (the others got it).")
    status_code: int | None = Field(description="Webhook HTTP status.")
    sent_at: datetime = Field(description="When the server accepted it (UTC).")


def _sent_log(ctx: SkillContext, params: NotifyParams) -> SentLog:
    path = confine(ctx, params.sent_log) if params.sent_log else ctx.work_dir / DEFAULT_SENT_LOG
    return SentLog(path if path.is_absolute() else ctx.work_dir / path)


def message_id_for(idempotency_key: str, sender: str) -> str:
    """A Message-ID that is the same for every attempt of one step."""
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}.rpa@{domain}>"


def _smtp_settings(ctx: SkillContext, params: NotifyParams) -> tuple[SmtpSettings, str | None]:
    base = SmtpSettings()
    if ctx.services is not None:
        with contextlib.suppress(ResourceUnavailable):  # no smtp service: the step's settings must do
            base = ctx.service("smtp").settings
    settings = base.merged(params.smtp.model_dump() if params.smtp else {})
    password = settings.password
    if settings.password_secret:
        if settings.password_secret not in ctx.secrets:
            raise BusinessError(
                f"the SMTP password secret {settings.password_secret!r} is not set", code="no_secret"
            )
        password = ctx.secrets[settings.password_secret]
    return settings, password


def _email(ctx: SkillContext, params: NotifyParams, settings: SmtpSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender or ""
    message["To"] = ", ".join(params.to)
    if params.cc:
        message["Cc"] = ", ".join(params.cc)
    message["Subject"] = params.subject or ""
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id_for(ctx.idempotency_key, settings.sender or "")
    message.set_content(params.body if params.body is not None else "")
    if params.html is not None:
        message.add_alternative(params.html, subtype="html")
    for relative in params.attachments:
        path = confined_path(ctx.work_dir, relative, what="attachment")
        if not path.is_file():
            raise BusinessError(
                f"expected the attachment {relative} in {ctx.work_dir}, found none", code="no_attachment"
            )
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        main, sub = kind.split("/", 1)
        message.add_attachment(path.read_bytes(), maintype=main, subtype=sub, filename=path.name)
    return message


def verify_notify(ctx: SkillContext, params: NotifyParams) -> NotifyResult | None:
    """Return the earlier result when this step's notification is in the sent-log, else ``None``."""
    entry = _sent_log(ctx, params).find(ctx.idempotency_key)
    if entry is None or entry.get("channel") != params.channel:
        return None
    return NotifyResult.model_validate(entry["result"])


@skill("speak.notify", effect="once", verify=verify_notify, timeout="60s")
def notify(ctx: SkillContext, params: NotifyParams) -> NotifyResult:
    """Send an e-mail through SMTP or POST a JSON webhook, once per step.

    Sent notifications are recorded under the step's idempotency key, which ``verify`` looks up
    so a resumed run never sends twice what the server already accepted.
    """
    log = _sent_log(ctx, params)
    if params.channel == "email":
        settings, password = _smtp_settings(ctx, params)
        message = _email(ctx, params, settings)
        refused = send_email(settings, message, [*params.to, *params.cc], password)
        accepted = [r for r in [*params.to, *params.cc] if r not in refused]
        result = NotifyResult(
            channel="email",
            idempotency_key=ctx.idempotency_key,
            message_id=message["Message-ID"],
            recipients=accepted,
            refused=refused,
            status_code=None,
            sent_at=datetime.now(UTC),
        )
    else:
        response = post_json(
            params.url or "",
            params.payload,
            idempotency_key=ctx.idempotency_key,
            headers=params.headers,
            timeout_seconds=params.timeout_seconds,
        )
        result = NotifyResult(
            channel="webhook",
            idempotency_key=ctx.idempotency_key,
            message_id=None,
            recipients=[params.url or ""],
            refused=[],
            status_code=response.status_code,
            sent_at=datetime.now(UTC),
        )
    try:
        log.record(ctx.idempotency_key, {"channel": params.channel, "result": result.model_dump(mode="json")})
    except OSError as exc:  # it was sent: failing the step now would only make a retry send it again
        ctx.log("notification sent but not recorded in the sent-log", error=str(exc), path=str(log.path))
    return result
