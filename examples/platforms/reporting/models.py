"""The reporting record of one cross-border RMB payment, as ``POST /api/reports`` accepts it.

Rules follow the cross-border RMB reporting digest (payments-spec.md, section 7): the 6-digit
transaction code (交易编码) of the SAFE classification, CNY only, and a payer and payee on
either side of the border (an inbound payment pays a payee in CN from abroad, an outbound one
the reverse).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import UUID4, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

CENT = Decimal("0.01")
_COUNTRY = r"^[A-Z]{2}$"
_ACCOUNT = r"^[A-Za-z0-9]{1,34}$"


class ReportRecord(BaseModel):
    """One payment's reporting record."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reference: str = Field(min_length=1, max_length=35, description="Payment reference (MT103 :20:).")
    uetr: UUID4 | None = Field(None, description="SWIFT UETR (UUID version 4), when the payment has one.")
    direction: Literal["inbound", "outbound"] = Field(description="inbound: paid into China.")
    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=2, description="Amount, at most 2 decimals.")
    currency: Literal["CNY"] = Field(description="Always CNY: this platform takes RMB payments only.")
    value_date: date = Field(description="Value date, ISO 8601 (YYYY-MM-DD).")
    payer_name: str = Field(min_length=1, max_length=140, description="Payer (ordering customer) name.")
    payer_account: str = Field(pattern=_ACCOUNT, description="Payer account, 1-34 letters or digits.")
    payer_country: str = Field(pattern=_COUNTRY, description="Payer country, ISO 3166 alpha-2.")
    payee_name: str = Field(min_length=1, max_length=140, description="Payee (beneficiary) name.")
    payee_account: str = Field(pattern=_ACCOUNT, description="Payee account, 1-34 letters or digits.")
    payee_country: str = Field(pattern=_COUNTRY, description="Payee country, ISO 3166 alpha-2.")
    purpose_code: str = Field(min_length=1, max_length=35, description="Purpose (ISO purpose code or text).")
    transaction_code: str = Field(
        pattern=r"^[1-9][0-9]{5}$",
        description="交易编码: the 6-digit SAFE BOP transaction code, e.g. 121010.",
    )
    bank_txn_no: str = Field(min_length=1, max_length=35, description="The bank's transaction number.")

    @field_validator("amount")
    @classmethod
    def _cents(cls, amount: Decimal) -> Decimal:
        # 100, 100.0 and 100.00 are one amount: store it one way so that repeats compare equal.
        return amount.quantize(CENT)

    @field_validator("payer_country")
    @classmethod
    def _payer_side(cls, country: str, info: ValidationInfo) -> str:
        direction = info.data.get("direction")
        if direction == "outbound" and country != "CN":
            raise ValueError(f"an outbound payment is paid from CN; found payer_country {country!r}")
        if direction == "inbound" and country == "CN":
            raise ValueError("an inbound payment is paid from abroad; found payer_country 'CN'")
        return country

    @field_validator("payee_country")
    @classmethod
    def _payee_side(cls, country: str, info: ValidationInfo) -> str:
        direction = info.data.get("direction")
        if direction == "inbound" and country != "CN":
            raise ValueError(f"an inbound payment is paid into CN; found payee_country {country!r}")
        if direction == "outbound" and country == "CN":
            raise ValueError("an outbound payment is paid abroad; found payee_country 'CN'")
        return country


class ReportCreated(BaseModel):
    """Answer to an accepted report (201) or to an identical repeat (200)."""

    report_id: str = Field(description="RPT- and 8 digits; the same for every repeat of one reference.")
