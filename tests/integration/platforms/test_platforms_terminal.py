"""The clearing terminal on a private Xvfb, driven with xdotool and read back with the clipboard."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from platforms_harness import TerminalDriver

from examples.platforms.launch import PlatformHandle, run_platform
from examples.platforms.terminal import layout
from examples.platforms.terminal.store import TerminalStore

pytestmark = pytest.mark.e2e

PAYMENT = {
    "reference": "HV20260511-001",
    "payer_account": "6222020200112233",
    "payer_name": "北京测试贸易有限公司",
    "payee_account": "6217000010001234",
    "payee_name": "张三",
    "payee_bank_code": "102100099996",
    "amount": "1234.5",
    "purpose": "货款",
}


@pytest.fixture
def terminal(xvfb_display: str, tmp_path: Path) -> Iterator[tuple[PlatformHandle, TerminalDriver]]:
    with run_platform("terminal", data_dir=tmp_path, display=xvfb_display) as handle:
        assert handle.window_id is not None
        yield handle, TerminalDriver(xvfb_display, handle.window_id)


def signed_in(driver: TerminalDriver) -> None:
    driver.sign_in("clerk", "clerk-pass")
    driver.wait_for_line(layout.STATUS, lambda text: text == "登录成功 操作员 clerk", "the entry screen")


def test_the_window_is_found_by_its_exact_title_at_a_fixed_place(
    terminal: tuple[PlatformHandle, TerminalDriver],
) -> None:
    handle, driver = terminal

    found = driver.xdotool("search", "--name", "^清算终端 Clearing Terminal$")
    geometry = driver.xdotool("getwindowgeometry", "--shell", str(handle.window_id))

    assert found.split() == [str(handle.window_id)]
    assert {"X=0", "Y=0", "WIDTH=900", "HEIGHT=650"} <= set(geometry.split())


def test_a_wrong_password_is_refused_then_the_clerk_signs_in(
    terminal: tuple[PlatformHandle, TerminalDriver],
) -> None:
    _, driver = terminal

    driver.sign_in("clerk", "not-the-password")
    refused = driver.wait_for_line(layout.STATUS, lambda text: text.startswith("错误:"), "a login error")
    signed_in(driver)

    assert refused == "错误: 用户名或密码不正确"


def test_a_payment_typed_with_the_keyboard_is_recorded_every_time(
    terminal: tuple[PlatformHandle, TerminalDriver],
) -> None:
    handle, driver = terminal
    signed_in(driver)
    store = TerminalStore(handle.store_path)

    serials = []
    for expected in ("提交成功 流水号 CT00000001", "提交成功 流水号 CT00000002"):
        driver.fill_payment(PAYMENT)  # Tab between fields, Chinese typed by xdotool
        driver.key("Return")  # Return in the last field submits
        serials.append(driver.wait_for_line(layout.STATUS, lambda text, e=expected: text == e, expected))

    payments = store.find(PAYMENT["reference"])
    assert [payment.serial_no for payment in payments] == ["CT00000001", "CT00000002"]
    for payment in payments:  # the form was cleared in between: nothing was typed twice into a field
        assert payment.to_json() | {"submitted_at": "-"} == {
            **PAYMENT,
            "amount": "1234.50",
            "serial_no": payment.serial_no,
            "currency": "CNY",
            "operator": "clerk",
            "submitted_at": "-",
        }
        assert payment.amount == Decimal("1234.50")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"payee_bank_code": "102100099997"}, "错误: 收款行行号校验位不正确：102100099997 的最后一位应为 6"),
        ({"payee_bank_code": "10210009999"}, "错误: 收款行行号必须是12位数字，实际为 '10210009999'"),
        (
            {"payee_name": "", "amount": "12.345"},
            "错误: 收款人名称不能为空（另有1处错误）",
        ),
    ],
    ids=["bad-check-digit", "eleven-digits", "two-problems"],
)
def test_an_invalid_entry_is_refused_in_the_status_line_and_not_recorded(
    terminal: tuple[PlatformHandle, TerminalDriver], changes: dict[str, str], message: str
) -> None:
    handle, driver = terminal
    signed_in(driver)

    driver.fill_payment(PAYMENT | changes)
    driver.key("Return")
    status = driver.wait_for_line(layout.STATUS, lambda text: text.startswith("错误:"), "a validation error")

    assert status == message
    assert TerminalStore(handle.store_path).all() == []


def test_lookup_shows_the_recorded_payment_or_no_record(
    terminal: tuple[PlatformHandle, TerminalDriver],
) -> None:
    _, driver = terminal
    signed_in(driver)
    driver.fill_payment(PAYMENT)
    driver.key("Return")
    driver.wait_for_line(layout.STATUS, lambda text: text.startswith("提交成功"), "the submission")

    driver.click(layout.ENTRY_FIELDS["reference"])
    driver.type(PAYMENT["reference"])
    driver.click(layout.LOOKUP_BUTTON)
    found = driver.wait_for_line(layout.LOOKUP_RESULT, lambda text: text.startswith("查询结果:"), "a lookup")

    driver.click(layout.ENTRY_FIELDS["reference"])
    driver.key("ctrl+a")
    driver.type("NO-SUCH-REF")
    driver.click(layout.LOOKUP_BUTTON)
    missing = driver.wait_for_line(layout.LOOKUP_RESULT, lambda text: "无记录" in text, "an empty lookup")

    assert found == "查询结果: 流水号 CT00000001 金额 1234.50 收款人 张三"
    assert missing == "查询结果: 无记录"
