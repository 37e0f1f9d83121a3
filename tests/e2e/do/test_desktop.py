"""Desktop skills against the example clearing terminal (Tk) on a private Xvfb."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy
import pytest
from do_e2e_harness import EvidenceDir
from PIL import Image

from orchestrator.services import ServicePool
from skills import BusinessError, TechnicalError
from skills.do.desktop import (
    desktop_click_image,
    desktop_focus_window,
    desktop_press,
    desktop_read_field,
    desktop_type_text,
)
from skills.do.desktop.terminal import terminal_submit_payment, verify_terminal_payment
from skills.testing import make_context, run_skill

pytestmark = pytest.mark.e2e

TITLE = "清算终端 Clearing Terminal"
SECRETS = {"terminal_password": "clerk-pass"}
# Window-relative centres of widgets, from the terminal's fixed layout (docs/platforms.md).
PAYER_NAME_FIELD = (555, 192)
LOOKUP_BUTTON_BOX = (420, 484, 150, 44)
STATUS_LINE = (450, 562)
STATUS_BOX = (40, 540, 820, 44)


@pytest.fixture
def terminal(tmp_path: Path, xvfb_display: str) -> Iterator[Any]:
    """A fresh terminal (login screen) for each test, so no test depends on another's screen."""
    from examples.platforms.launch import run_platform

    with run_platform("terminal", data_dir=tmp_path / "terminal", display=xvfb_display) as handle:
        yield handle


def payment(reference: str, **changes: str) -> dict[str, Any]:
    return {
        "reference": reference,
        "payer_account": "6222020200112233",
        "payer_name": "张三",
        "payee_account": "6217000010001234",
        "payee_name": "李四贸易有限公司",
        "payee_bank_code": "102100099996",
        "amount": "1250.50",
        "purpose": "货款 invoice 7",
        **changes,
    }


def new_reference() -> str:
    return f"T{uuid.uuid4().hex[:10].upper()}"


def stored(terminal: Any, reference: str) -> list[Any]:
    from examples.platforms.terminal.store import TerminalStore

    return TerminalStore(terminal.store_path).find(reference)


def submit(pool: ServicePool, params: dict[str, Any], **context: Any) -> Any:
    return run_skill(terminal_submit_payment, params, services=pool, secrets=SECRETS, **context)


def verify(pool: ServicePool, params: dict[str, Any]) -> Any:
    ctx = make_context(terminal_submit_payment, services=pool, secrets=SECRETS)
    model = terminal_submit_payment.__rpa_skill__.params_model.model_validate(params)
    return verify_terminal_payment(ctx, model)


def test_focus_window_finds_the_terminal_by_its_chinese_title(
    terminal: Any, desktop_pool: ServicePool
) -> None:
    found = run_skill(desktop_focus_window, {"title": "清算终端"}, services=desktop_pool)
    assert found.title == TITLE
    assert (found.width, found.height) == (900, 650)
    assert int(found.window_id) == terminal.window_id


def test_keys_a_payment_with_chinese_names_and_reads_the_serial_back(
    terminal: Any, desktop_pool: ServicePool
) -> None:
    reference = new_reference()
    result = submit(desktop_pool, payment(reference))
    assert re.fullmatch(r"CT\d{8}", result.serial_no)
    [record] = stored(terminal, reference)
    assert record.serial_no == result.serial_no
    assert (record.payer_name, record.payee_name, record.purpose) == (
        "张三",
        "李四贸易有限公司",
        "货款 invoice 7",
    )
    assert record.amount == Decimal("1250.50")
    # A second payment on the signed-in screen gets its own serial number.
    second = submit(desktop_pool, payment(new_reference(), amount="8.00"))
    assert second.serial_no != result.serial_no


def test_terminal_validation_is_a_business_error(terminal: Any, desktop_pool: ServicePool) -> None:
    reference = new_reference()
    with pytest.raises(BusinessError) as failure:
        submit(desktop_pool, payment(reference, payee_bank_code="102100099990"))
    assert failure.value.code == "terminal_validation"
    assert "收款行行号" in failure.value.message
    assert stored(terminal, reference) == []


def test_wrong_password_is_refused(terminal: Any, desktop_pool: ServicePool, tmp_path: Path) -> None:
    with pytest.raises(BusinessError) as failure:
        run_skill(
            terminal_submit_payment, payment(new_reference()), services=desktop_pool,
            secrets={"terminal_password": "wrong"},
        )  # fmt: skip
    assert failure.value.code == "login_refused"
    assert "用户名或密码不正确" in failure.value.message


def test_verify_looks_the_reference_up_on_screen(terminal: Any, desktop_pool: ServicePool) -> None:
    reference = new_reference()
    assert verify(desktop_pool, payment(reference)) is None
    posted = submit(desktop_pool, payment(reference))
    found = verify(desktop_pool, payment(reference))
    assert found is not None
    assert found.found_by_lookup is True
    assert found.serial_no == posted.serial_no
    with pytest.raises(BusinessError) as conflict:
        verify(desktop_pool, payment(reference, amount="99.99"))
    assert conflict.value.code == "reference_conflict"
    assert len(stored(terminal, reference)) == 1


def test_type_text_and_read_field_round_trip_chinese(terminal: Any, desktop_pool: ServicePool) -> None:
    submit(desktop_pool, payment(new_reference()))  # signs in; the entry screen is shown afterwards
    typed = {"window": "清算终端", "at": PAYER_NAME_FIELD, "text": "王五 Wang Wu", "clear_first": True}
    run_skill(desktop_type_text, typed, services=desktop_pool)
    read = run_skill(
        desktop_read_field, {"window": "清算终端", "at": PAYER_NAME_FIELD}, services=desktop_pool
    )
    assert read.text == "王五 Wang Wu"
    by_selection = run_skill(
        desktop_read_field,
        {"window": "清算终端", "method": "selection", "at": PAYER_NAME_FIELD},
        services=desktop_pool,
    )
    assert by_selection.text == "王五 Wang Wu"
    run_skill(desktop_press, {"keys": ["ctrl+a", "backspace"]}, services=desktop_pool)
    with pytest.raises(TechnicalError, match="nothing reached the clipboard"):
        run_skill(desktop_read_field, {"window": "清算终端", "at": PAYER_NAME_FIELD}, services=desktop_pool)


def test_click_image_clicks_the_lookup_button(
    terminal: Any, desktop_pool: ServicePool, tmp_path: Path, evidence: EvidenceDir
) -> None:
    submit(desktop_pool, payment(new_reference()))  # the entry screen, with its 查询 button
    desktop = desktop_pool.get("desktop")
    window = desktop.wait_for_window("清算终端", 5)
    desktop.rest_pointer(window)
    x, y, width, height = LOOKUP_BUTTON_BOX
    template = tmp_path / "lookup-button.png"
    desktop.screenshot((window.x + x, window.y + y, width, height)).save(template)

    clicked = run_skill(
        desktop_click_image, {"image": str(template), "window": "清算终端"}, services=desktop_pool
    )
    assert x <= clicked.x - window.x <= x + width
    assert y <= clicked.y - window.y <= y + height
    assert clicked.score >= 0.9
    # The reference field is empty after a submit, so the lookup complains on the status line.
    status = run_skill(desktop_read_field, {"window": "清算终端", "at": STATUS_LINE}, services=desktop_pool)
    assert status.text == "错误: 查询需要先填写业务参考号"

    noise = tmp_path / "noise.png"
    rng = numpy.random.default_rng(7)
    Image.fromarray(rng.integers(0, 255, (40, 120, 3), dtype=numpy.uint8)).save(noise)
    ctx = make_context(desktop_click_image, services=desktop_pool)
    ctx.evidence = evidence
    with pytest.raises(TechnicalError, match=r"noise.png not found .* best match 0\.\d\d") as failure:
        desktop_click_image(
            ctx, desktop_click_image.__rpa_skill__.params_model.model_validate(
                {"image": str(noise), "window": "清算终端", "timeout_seconds": 0.5}
            ),
        )  # fmt: skip
    assert Path(failure.value.details["evidence"]).is_file()


def test_missing_window_is_technical_and_names_what_is_visible(
    terminal: Any, desktop_pool: ServicePool, evidence: EvidenceDir
) -> None:
    ctx = make_context(desktop_focus_window, services=desktop_pool)
    ctx.evidence = evidence
    params = desktop_focus_window.__rpa_skill__.params_model.model_validate(
        {"title": "No Such Window", "timeout_seconds": 0.3}
    )
    with pytest.raises(TechnicalError, match="清算终端 Clearing Terminal"):
        desktop_focus_window(ctx, params)
    assert len(evidence.saved) == 1


def test_read_field_by_ocr_reads_the_status_line(terminal: Any, desktop_pool: ServicePool) -> None:
    try:
        from skills.see.ocr_engine import OcrEngine
    except ImportError as exc:
        pytest.skip(f"skipped because the ocr service (skills.see.ocr_engine) is not importable: {exc}")
    submit(desktop_pool, payment(new_reference()))
    desktop_pool.provide("ocr", OcrEngine(threads=2))
    read = run_skill(
        desktop_read_field,
        {"window": "清算终端", "method": "ocr", "region": STATUS_BOX},
        services=desktop_pool,
    )
    assert re.fullmatch(r"提交成功\s*流水号\s*CT\d{8}", read.text)
