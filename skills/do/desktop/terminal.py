"""``do.terminal.submit_payment``: key a domestic transfer into the clearing terminal, once."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, ConfigDict, Field, field_validator

from skills import BusinessError, SkillContext, TechnicalError, skill
from skills.do.desktop.common import DESKTOP, desktop_of, evidence_on_failure
from skills.do.desktop.terminal_screen import (
    ERROR,
    SUBMITTED,
    LookupLine,
    TerminalScreen,
    terminal_config,
)


class TerminalPaymentParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: str = Field(min_length=1, max_length=35, description="业务参考号, the business reference.")
    payer_account: str = Field(description="付款人账号, payer account number.")
    payer_name: str = Field(description="付款人名称, payer name (Chinese is fine).")
    payee_account: str = Field(description="收款人账号, payee account number.")
    payee_name: str = Field(description="收款人名称, payee name (Chinese is fine).")
    payee_bank_code: str = Field(description="收款行行号, the payee bank's 12-digit CNAPS code.")
    amount: Decimal = Field(gt=0, description="金额, the amount in yuan (at most 2 decimals).")
    purpose: str = Field("", description="用途, purpose of the payment.")
    check_fields: bool = Field(True, description="Read every field back before submitting.")

    @field_validator("amount", mode="before")
    @classmethod
    def _no_float(cls, value: object) -> object:
        if isinstance(value, float):
            raise ValueError("write the amount as a string or decimal, never a floating-point number")
        return value

    def field_texts(self) -> dict[str, str]:
        return {
            "reference": self.reference,
            "payer_account": self.payer_account,
            "payer_name": self.payer_name,
            "payee_account": self.payee_account,
            "payee_name": self.payee_name,
            "payee_bank_code": self.payee_bank_code,
            "amount": f"{self.amount:f}",
            "purpose": self.purpose,
        }


class TerminalPaymentResult(BaseModel):
    serial_no: str = Field(description="The terminal's serial number (流水号), CT + 8 digits.")
    status: str = Field(description="The status or lookup line the serial number was read from.")
    found_by_lookup: bool = Field(False, description="True when verify found an earlier submission.")


def _same_amount(shown: str, expected: Decimal) -> bool:
    try:
        return Decimal(shown.replace(",", "")) == expected
    except InvalidOperation:
        return False


def _adopt(found: LookupLine, params: TerminalPaymentParams) -> TerminalPaymentResult:
    if not _same_amount(found.amount, params.amount):
        raise BusinessError(
            f"reference {params.reference!r} is already on the terminal as {found.serial_no} for amount "
            f"{found.amount}, not {params.amount:f}",
            code="reference_conflict",
        )
    return TerminalPaymentResult(serial_no=found.serial_no, status=found.text, found_by_lookup=True)


def verify_terminal_payment(ctx: SkillContext, params: TerminalPaymentParams) -> TerminalPaymentResult | None:
    """Look the reference up on the terminal (查询): the earlier result when it is there, else None."""
    desktop = desktop_of(ctx)
    with evidence_on_failure(ctx, desktop, "looking the payment up on the terminal"):
        screen = TerminalScreen.open(desktop, terminal_config(ctx.platform))
        screen.sign_in_if_needed(ctx)
        found = screen.look_up(params.reference)
        return None if found is None else _adopt(found, params)


@skill(
    "do.terminal.submit_payment",
    effect="once",
    verify=verify_terminal_payment,
    resources=DESKTOP,
    timeout="120s",
)
def terminal_submit_payment(ctx: SkillContext, params: TerminalPaymentParams) -> TerminalPaymentResult:
    """Key a payment into the clearing terminal, submit it once and read its serial number back.

    Signs in when the login screen shows, types each field in Tab order (Chinese through
    xdotool) and reads it back, submits with Enter in the last field and reads the status
    line. ``错误: ...`` on the status line is a business error; anything unexpected is technical
    (``applied`` unknown, so the engine verifies by looking the reference up before a retry).
    """
    desktop = desktop_of(ctx)
    with evidence_on_failure(ctx, desktop, "keying the payment into the terminal"):
        screen = TerminalScreen.open(desktop, terminal_config(ctx.platform))
        screen.sign_in_if_needed(ctx)
        layout = screen.config.layout
        before = screen.read_line(layout.status_line)
        screen.key_fields(params.field_texts(), check=params.check_fields)
        screen.submit()
        status = screen.read_line(layout.status_line)
        if (submitted := SUBMITTED.search(status)) is not None and status != before:
            ctx.log(f"terminal took {params.reference} as {submitted['serial']}")
            return TerminalPaymentResult(serial_no=submitted["serial"], status=status)
        if (refused := ERROR.match(status)) is not None:
            raise BusinessError(
                f"the terminal refused payment {params.reference!r}: {refused['message']}",
                code="terminal_validation",
                details={"status": status},
            )
        raise TechnicalError(
            f"after submitting {params.reference!r} the terminal's status line reads {status!r} "
            f"(before: {before!r}); expected '提交成功 流水号 CT…' or '错误: …'",
            applied=None,
        )
