"""E-mail through SMTP: the ``smtp`` service (settings) and a sender that classifies failures.

Settings, from the ``smtp`` entry of the services section (each can be overridden per step)::

    services:
      smtp:
        host: mail.bank.example      # default localhost
        port: 587                    # default 25, or 465 with tls: ssl
        sender: rpa@bank.example     # the From address
        tls: starttls                # none | starttls | ssl
        username: rpa                # optional; the password comes from the secret named
        password_secret: smtp_password   # by password_secret (ctx.secrets)
        ca_file: /etc/ssl/bank-ca.pem    # optional extra CA to trust
        timeout_seconds: 30

Failure classes: nothing reached the server (refused connection, TLS or login failure before
sending, 4xx answers) → ``TechnicalError(applied=False)``, safe to retry; the server refused the
message for good (5xx for sender, every recipient or the data) → ``BusinessError``; the
connection broke while the message was being sent → ``TechnicalError(applied=None)``, unknown.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Literal

from skills import BusinessError, TechnicalError, service

TlsMode = Literal["none", "starttls", "ssl"]


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the mail server."""

    host: str = "localhost"
    port: int | None = None
    sender: str | None = None
    tls: TlsMode = "none"
    username: str | None = None
    password: str | None = None
    password_secret: str | None = None
    ca_file: str | None = None
    timeout_seconds: float = 30.0

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SmtpSettings:
        """Build from a settings mapping; unknown keys are refused with their names."""
        known = set(cls.__dataclass_fields__)
        aliases = {"from": "sender", "timeout": "timeout_seconds"}
        cleaned = {aliases.get(k, k): v for k, v in values.items() if v is not None}
        unknown = sorted(set(cleaned) - known)
        if unknown:
            raise BusinessError(
                f"unknown SMTP settings {', '.join(unknown)}; known: {', '.join(sorted(known))}",
                code="bad_smtp_settings",
            )
        if cleaned.get("tls", "none") not in ("none", "starttls", "ssl"):
            raise BusinessError(
                f"SMTP tls must be none, starttls or ssl, got {cleaned['tls']!r}", code="bad_smtp_settings"
            )
        return cls(**cleaned)

    def merged(self, overrides: Mapping[str, Any]) -> SmtpSettings:
        """These settings with the non-empty ``overrides`` applied."""
        base = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return SmtpSettings.from_mapping({**base, **{k: v for k, v in overrides.items() if v is not None}})

    @property
    def effective_port(self) -> int:
        return self.port or (465 if self.tls == "ssl" else 25)


class SmtpMailer:
    """The ``smtp`` service: holds the configured settings; one connection per message."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def close(self) -> None:
        """Nothing stays open between messages."""


@service("smtp")
def smtp_mailer(settings: Mapping[str, Any]) -> SmtpMailer:
    """Build the mailer from ``settings["smtp"]`` (all keys optional)."""
    return SmtpMailer(SmtpSettings.from_mapping(settings.get("smtp") or {}))


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.ca_file:
        context.load_verify_locations(cafile=settings.ca_file)
    return context


def _status(exc: smtplib.SMTPResponseException) -> str:
    text = (
        exc.smtp_error.decode("utf-8", "replace")
        if isinstance(exc.smtp_error, bytes)
        else str(exc.smtp_error)
    )
    return f"{exc.smtp_code} {text}".strip()


def _connect(settings: SmtpSettings, password: str | None) -> smtplib.SMTP:
    where = f"{settings.host}:{settings.effective_port}"
    try:
        if settings.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host,
                settings.effective_port,
                timeout=settings.timeout_seconds,
                context=_tls_context(settings),
            )
        else:
            client = smtplib.SMTP(settings.host, settings.effective_port, timeout=settings.timeout_seconds)
    except (OSError, smtplib.SMTPException) as exc:
        raise TechnicalError(f"could not connect to the mail server {where}: {exc}", applied=False) from exc
    try:
        client.ehlo()
        if settings.tls == "starttls":
            client.starttls(context=_tls_context(settings))
            client.ehlo()
        if settings.username:
            client.login(settings.username, password or "")
    except smtplib.SMTPAuthenticationError as exc:
        client.close()
        raise BusinessError(
            f"the mail server {where} refused the login of {settings.username!r}: {_status(exc)}",
            code="smtp_login_refused",
        ) from exc
    except (OSError, smtplib.SMTPException) as exc:
        client.close()
        raise TechnicalError(f"the mail server {where} failed before sending: {exc}", applied=False) from exc
    return client


def send_email(
    settings: SmtpSettings, message: EmailMessage, recipients: Sequence[str], password: str | None = None
) -> list[str]:
    """Send ``message`` to ``recipients``; returns the recipients the server refused (others got it).

    Raises:
        BusinessError: The server refused the message for good (5xx).
        TechnicalError: ``applied=False`` when nothing was sent, ``None`` when it is unknown.
    """
    if not settings.sender:
        raise BusinessError(
            "no sender address: set services.smtp.sender or the step's smtp.sender", code="no_sender"
        )
    client = _connect(settings, password)
    try:
        refused = client.send_message(message, from_addr=settings.sender, to_addrs=list(recipients))
    except smtplib.SMTPRecipientsRefused as exc:
        details = "; ".join(f"{who}: {code} {text!r}" for who, (code, text) in exc.recipients.items())
        if all(400 <= code < 500 for code, _ in exc.recipients.values()):
            raise TechnicalError(
                f"the mail server deferred every recipient ({details})", applied=False
            ) from exc
        raise BusinessError(
            f"the mail server refused every recipient ({details})", code="recipients_refused"
        ) from exc
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        if 400 <= exc.smtp_code < 500:
            raise TechnicalError(
                f"the mail server deferred the message: {_status(exc)}", applied=False
            ) from exc
        raise BusinessError(
            f"the mail server rejected the message: {_status(exc)}", code="message_rejected"
        ) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise TechnicalError(
            f"the connection broke while sending; delivery unknown: {exc}", applied=None
        ) from exc
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    return sorted(refused)
