"""speak.notify against a real local SMTP server (aiosmtpd) and a local webhook receiver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from skills import BusinessError, TechnicalError
from skills.speak.mail import smtp_mailer
from skills.speak.notify import NotifyParams, NotifyResult, notify, verify_notify
from skills.testing import make_context, run_skill, service_pool

EMAIL = {
    "channel": "email",
    "to": ["ops@bank.example"],
    "subject": "Payment P-2024-0001 needs a call-back",
    "body": "The customer asked to be called later.\n",
}


def _send(params: dict[str, Any], work_dir: Path, key: str = "run-1:notify", **context: Any) -> NotifyResult:
    result = run_skill(notify, params, work_dir=work_dir, idempotency_key=key, **context)
    assert isinstance(result, NotifyResult)
    return result


def _smtp(server: Any, **more: Any) -> dict[str, Any]:
    return {"host": server.host, "port": server.port, "sender": "rpa@bank.example", **more}


def test_email_through_the_smtp_service(smtp_server: Any, tmp_path: Path) -> None:
    (tmp_path / "notice.txt").write_text("付款通知", encoding="utf-8")
    pool = service_pool([smtp_mailer], {"smtp": _smtp(smtp_server)})
    result = _send(
        {**EMAIL, "cc": ["audit@bank.example"], "attachments": ["notice.txt"]}, tmp_path, services=pool
    )
    [(mail_from, rcpt_tos, message)] = smtp_server.handler.messages
    assert mail_from == "rpa@bank.example"
    assert rcpt_tos == ["ops@bank.example", "audit@bank.example"]
    assert message["Subject"] == EMAIL["subject"]
    assert message["Message-ID"] == result.message_id
    assert result.message_id.endswith(".rpa@bank.example>")
    assert result.recipients == ["ops@bank.example", "audit@bank.example"]
    parts = list(message.walk())
    assert parts[1].get_payload(decode=True).decode().replace("\r\n", "\n") == EMAIL["body"]
    assert parts[2].get_filename() == "notice.txt"
    assert parts[2].get_payload(decode=True).decode("utf-8") == "付款通知"


def test_verify_returns_the_earlier_result_and_none_before(smtp_server: Any, tmp_path: Path) -> None:
    params = {**EMAIL, "smtp": _smtp(smtp_server)}
    ctx = make_context(notify, work_dir=tmp_path, idempotency_key="run-7:notify")
    model = NotifyParams.model_validate(params)
    assert verify_notify(ctx, model) is None
    sent = _send(params, tmp_path, key="run-7:notify")
    assert verify_notify(ctx, model) == sent
    other_step = make_context(notify, work_dir=tmp_path, idempotency_key="run-8:notify")
    assert verify_notify(other_step, model) is None
    assert len(smtp_server.handler.messages) == 1


def test_message_id_is_stable_per_idempotency_key(smtp_server: Any, tmp_path: Path) -> None:
    params = {**EMAIL, "smtp": _smtp(smtp_server)}
    first = _send(params, tmp_path, key="run-1:a")
    again = _send(params, tmp_path / "elsewhere", key="run-1:a")
    other = _send(params, tmp_path, key="run-2:a")
    assert first.message_id == again.message_id != other.message_id


def test_starttls_with_the_operators_ca(starttls_server: Any, tmp_path: Path) -> None:
    params = {**EMAIL, "smtp": _smtp(starttls_server, tls="starttls", ca_file=starttls_server.ca_file)}
    _send(params, tmp_path)
    assert len(starttls_server.handler.messages) == 1


def test_starttls_refuses_an_untrusted_certificate(starttls_server: Any, tmp_path: Path) -> None:
    with pytest.raises(TechnicalError, match="failed before sending") as caught:
        _send({**EMAIL, "smtp": _smtp(starttls_server, tls="starttls")}, tmp_path)
    assert caught.value.applied is False
    assert starttls_server.handler.messages == []


def test_password_comes_from_a_named_secret(smtp_server: Any, tmp_path: Path) -> None:
    params = {**EMAIL, "smtp": _smtp(smtp_server, username="rpa", password_secret="smtp_password")}
    with pytest.raises(BusinessError, match="'smtp_password' is not set"):
        _send(params, tmp_path)


def test_unreachable_server_is_a_retryable_error_with_nothing_sent(closed_port: int, tmp_path: Path) -> None:
    params = {**EMAIL, "smtp": {"host": "127.0.0.1", "port": closed_port, "sender": "rpa@bank.example"}}
    with pytest.raises(TechnicalError, match="could not connect") as caught:
        _send(params, tmp_path)
    assert caught.value.applied is False
    assert verify_notify(make_context(notify, work_dir=tmp_path), NotifyParams.model_validate(params)) is None


def test_refused_recipients(smtp_server: Any, tmp_path: Path) -> None:
    smtp = _smtp(smtp_server)
    partly = _send({**EMAIL, "to": ["ops@bank.example", "refuse@bank.example"], "smtp": smtp}, tmp_path)
    assert partly.recipients == ["ops@bank.example"]
    assert partly.refused == ["refuse@bank.example"]
    with pytest.raises(BusinessError, match="refused every recipient") as refused:
        _send({**EMAIL, "to": ["refuse@bank.example"], "smtp": smtp}, tmp_path, key="k2")
    assert refused.value.code == "recipients_refused"
    with pytest.raises(TechnicalError, match="deferred every recipient") as deferred:
        _send({**EMAIL, "to": ["later@bank.example"], "smtp": smtp}, tmp_path, key="k3")
    assert deferred.value.applied is False
    assert len(smtp_server.handler.messages) == 1  # only the partly refused message got through


def test_missing_sender_and_bad_settings(smtp_server: Any, tmp_path: Path) -> None:
    with pytest.raises(BusinessError, match="no sender address") as no_sender:
        _send({**EMAIL, "smtp": {"host": smtp_server.host, "port": smtp_server.port}}, tmp_path)
    assert no_sender.value.code == "no_sender"
    pool = service_pool([smtp_mailer], {"smtp": {"hostname": "x"}})
    with pytest.raises(BusinessError, match="unknown SMTP settings hostname") as bad:
        _send(EMAIL, tmp_path, services=pool)
    assert bad.value.code == "bad_smtp_settings"


def test_email_needs_recipients_subject_and_body() -> None:
    with pytest.raises(ValidationError, match="needs to, subject, body or html"):
        NotifyParams.model_validate({"channel": "email"})
    with pytest.raises(ValidationError, match="needs url, payload"):
        NotifyParams.model_validate({"channel": "webhook"})


def test_webhook_posts_json_with_the_idempotency_key(webhook_receiver: Any, tmp_path: Path) -> None:
    payload = {"payment": "P-1", "amount": "12000.00", "intent": "confirm", "customer": "上海贸易"}
    result = _send(
        {
            "channel": "webhook",
            "url": f"{webhook_receiver.url}/ok",
            "payload": payload,
            "headers": {"X-Bot": "calls"},
        },
        tmp_path,
        key="run-3:hook",
    )
    [request] = webhook_receiver.requests
    assert request["json"] == payload
    assert request["headers"]["Idempotency-Key"] == "run-3:hook"
    assert request["headers"]["X-Bot"] == "calls"
    assert result.status_code == 200
    ctx = make_context(notify, work_dir=tmp_path, idempotency_key="run-3:hook")
    params = NotifyParams.model_validate(
        {"channel": "webhook", "url": webhook_receiver.url, "payload": payload}
    )
    assert verify_notify(ctx, params) == result


@pytest.mark.parametrize(
    ("status", "error", "applied"),
    [
        (503, TechnicalError, False),
        (429, TechnicalError, False),
        (500, TechnicalError, None),
        (400, BusinessError, None),
    ],
)
def test_webhook_failures_are_classified(
    webhook_receiver: Any, tmp_path: Path, status: int, error: type[Exception], applied: bool | None
) -> None:
    params = {"channel": "webhook", "url": f"{webhook_receiver.url}/status/{status}", "payload": {"a": 1}}
    with pytest.raises(error, match=str(status)) as caught:
        _send(params, tmp_path)
    assert getattr(caught.value, "applied", None) is applied
    ctx = make_context(notify, work_dir=tmp_path)
    assert verify_notify(ctx, NotifyParams.model_validate(params)) is None


def test_webhook_unreachable_and_bad_urls(closed_port: int, tmp_path: Path) -> None:
    with pytest.raises(TechnicalError, match="could not reach") as caught:
        _send({"channel": "webhook", "url": f"http://127.0.0.1:{closed_port}/x", "payload": {}}, tmp_path)
    assert caught.value.applied is False
    with pytest.raises(BusinessError, match="http:// or https://"):
        _send({"channel": "webhook", "url": "file:///etc/passwd", "payload": {}}, tmp_path)
