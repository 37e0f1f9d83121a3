"""Strict amount parsing for the example platforms.

The platforms are the *systems under test* for the bots, so they parse amounts on their own
(never with the bots' code) and strictly: a figure with a thousands separator, a comma as the
decimal mark or three decimals is refused, exactly as a core banking system would refuse it.
"""

from __future__ import annotations

import re
from decimal import Decimal

CENT = Decimal("0.01")
_AMOUNT = re.compile(r"\d{1,15}(\.\d{1,2})?")


class AmountError(ValueError):
    """The text is not a positive amount with at most two decimal places."""


def parse_amount(text: str, *, label: str = "Amount") -> Decimal:
    """Parse ``text`` as a positive amount with at most two decimal places.

    Args:
        text: what the user typed; surrounding blanks are ignored.
        label: the field name used in the error message.

    Returns:
        The amount, quantized to cents.

    Raises:
        AmountError: with a message saying what was expected and what was found.
    """
    stripped = text.strip()
    if not stripped:
        raise AmountError(f"{label} is required.")
    if not _AMOUNT.fullmatch(stripped):
        raise AmountError(
            f"{label} must be a positive number with at most 2 decimal places, like 1234.56; "
            f"found {stripped!r}."
        )
    amount = Decimal(stripped)
    if amount <= 0:
        raise AmountError(f"{label} must be greater than zero; found {stripped!r}.")
    return amount.quantize(CENT)


def format_amount(amount: Decimal) -> str:
    """Return ``amount`` with exactly two decimal places and no separators (``1234.50``)."""
    return str(amount.quantize(CENT))
