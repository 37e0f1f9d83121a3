"""ISO 20022 external code sets bundled in ``skills/think/payments/codes`` (see its NOTICE.md)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

CODES_DIR = Path(__file__).resolve().parent.parent / "codes"


@lru_cache(maxsize=8)
def _load(name: str) -> dict[str, str]:
    with (CODES_DIR / f"{name}.json").open(encoding="utf-8") as handle:
        return dict(json.load(handle)["codes"])


def status_reason_codes() -> dict[str, str]:
    """ExternalStatusReason1Code: code -> definition (AC01, AM04, RR04, FF01, NARR...)."""
    return _load("external_status_reason_code")


def transaction_status_codes() -> dict[str, str]:
    """ExternalPaymentTransactionStatus1Code: code -> definition (ACSP, ACCC, PDNG, RJCT...)."""
    return _load("external_payment_transaction_status_code")
