"""Server-side validation of the "Post inbound credit" form.

Messages name the field by its label and say what was expected and what was found, so a bot
(or a person) reading the ``role="alert"`` next to a field knows what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from examples.platforms.common.money import AmountError, parse_amount
from examples.platforms.portal.store import CreditInput

CURRENCIES = ("CNY", "USD", "EUR", "HKD", "GBP", "JPY")
FIELD_LABELS = {
    "account_number": "Account number",
    "beneficiary_name": "Beneficiary name",
    "amount": "Amount",
    "currency": "Currency",
    "reference": "Reference",
    "purpose_code": "Purpose code",
}
MAX_REFERENCE = 35
MAX_NAME = 140
MAX_PURPOSE_CODE = 35
_ACCOUNT = re.compile(r"\d{8,32}")


def validate_credit_form(form: Mapping[str, str]) -> tuple[CreditInput | None, dict[str, str]]:
    """Check a submitted form.

    Args:
        form: field name to submitted text (missing fields count as empty).

    Returns:
        ``(credit, {})`` when every field is valid, else ``(None, {field: message})``.
    """
    values = {name: form.get(name, "").strip() for name in FIELD_LABELS}
    errors: dict[str, str] = {}

    account = values["account_number"]
    if not account:
        errors["account_number"] = "Account number is required."
    elif not _ACCOUNT.fullmatch(account):
        errors["account_number"] = f"Account number must be 8 to 32 digits; found {account!r}."

    name = values["beneficiary_name"]
    if not name:
        errors["beneficiary_name"] = "Beneficiary name is required."
    elif len(name) > MAX_NAME:
        errors["beneficiary_name"] = (
            f"Beneficiary name must be at most {MAX_NAME} characters; found {len(name)}."
        )

    try:
        amount = parse_amount(values["amount"], label="Amount")
    except AmountError as exc:
        errors["amount"] = str(exc)

    currency = values["currency"]
    if currency not in CURRENCIES:
        errors["currency"] = f"Currency must be one of {', '.join(CURRENCIES)}; found {currency!r}."

    reference = values["reference"]
    if not reference:
        errors["reference"] = "Reference is required."
    elif len(reference) > MAX_REFERENCE:
        errors["reference"] = f"Reference must be at most {MAX_REFERENCE} characters; found {len(reference)}."

    purpose = values["purpose_code"]
    if len(purpose) > MAX_PURPOSE_CODE:
        errors["purpose_code"] = (
            f"Purpose code must be at most {MAX_PURPOSE_CODE} characters; found {len(purpose)}."
        )

    if errors:
        return None, errors
    return CreditInput(
        account_number=account,
        beneficiary_name=name,
        amount=amount,
        currency=currency,
        reference=reference,
        purpose_code=purpose,
    ), {}
