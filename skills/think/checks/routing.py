"""Decide whether a payment goes straight through (STP) or to a person, with every reason.

``route_payment`` runs all the checks, never stops at the first problem, and returns each reason
that applies, so the operator who picks the payment up sees the whole picture at once:

==========================  ===============================================================
code                        when
==========================  ===============================================================
``invalid_amount``          the amount is not a positive CNY-style amount (2 decimals)
``currency_not_processed``  the currency is not in the rules' ``currencies``
``amount_words_mismatch``   the amount in words reads as another value than the figure
``amount_words_invalid``    the amount in words breaks the PBOC rules (or the figure is bad)
``invalid_identifier``      a BIC, IBAN, CNAPS code, account, id... fails its check
``screening_hit``           a party name is close to a sanctions list entry
``screening_unavailable``   names were given but no sanctions list was loaded
``four_eyes``               the amount is above ``four_eyes_threshold``
``missing_purpose``         cross-border RMB without a purpose text
``missing_reporting_code``  cross-border RMB without a BOP 涉外收支交易编码
``invalid_reporting_code``  a reporting code of the wrong shape or not in the bank's table
``cutoff_passed``           after the clearing system's cut-off time (rules' time zone)
``duplicate_reference``     the caller has seen this reference before
``missing_reference``       no reference to deduplicate on
==========================  ===============================================================
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from skills.think.checks.amounts import AmountCheck, AmountFigureError, check_amount, to_amount
from skills.think.checks.identifiers import IdentifierCheck, check_identifier
from skills.think.checks.routing_rules import RoutingRules
from skills.think.checks.screening import Screener, ScreeningHit


@dataclass(frozen=True)
class IdentifierToCheck:
    """An identifier on the payment: ``kind`` as in ``IdentifierKind``, ``role`` says whose it is."""

    kind: str
    value: str
    role: str = ""


@dataclass(frozen=True)
class PartyName:
    """A name to screen, with its role (debtor, creditor, debtor_agent...)."""

    role: str
    name: str


@dataclass(frozen=True)
class PaymentFacts:
    """What the routing decision looks at; everything but reference and amount is optional."""

    reference: str
    amount: Decimal | str
    currency: str = "CNY"
    amount_in_words: str | None = None
    clearing_system: str = ""
    business_kind: str = ""
    cross_border: bool = False
    purpose: str = ""
    reporting_code: str = ""
    identifiers: Sequence[IdentifierToCheck] = ()
    names: Sequence[PartyName] = ()


@dataclass(frozen=True)
class RoutingReason:
    """One reason a payment goes to a person: a stable ``code``, a readable ``message`` and the
    field or party it is about (``subject``)."""

    code: str
    message: str
    subject: str = ""


@dataclass(frozen=True)
class RoutingDecision:
    """The decision and the evidence behind it."""

    route: Literal["stp", "manual"]
    reasons: tuple[RoutingReason, ...]
    amount_check: AmountCheck | None = None
    identifier_checks: tuple[tuple[str, IdentifierCheck], ...] = ()
    screening_hits: tuple[tuple[str, ScreeningHit], ...] = ()
    cross_border: bool = False
    local_time: datetime | None = None
    codes: tuple[str, ...] = field(default=(), init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "codes", tuple(dict.fromkeys(r.code for r in self.reasons)))


def _amount_reasons(
    facts: PaymentFacts, rules: RoutingRules
) -> tuple[list[RoutingReason], AmountCheck | None]:
    reasons = []
    try:
        amount: Decimal | None = to_amount(facts.amount)
    except AmountFigureError as exc:
        amount = None
        reasons.append(RoutingReason("invalid_amount", f"amount {facts.amount!r}: {exc.reason}", "amount"))
    if amount is not None and amount <= 0:
        reasons.append(
            RoutingReason("invalid_amount", f"amount must be above zero, found {amount}", "amount")
        )
    if facts.currency.upper() not in {c.upper() for c in rules.currencies}:
        allowed = ", ".join(rules.currencies)
        reasons.append(
            RoutingReason(
                "currency_not_processed", f"currency {facts.currency} is not one of {allowed}", "currency"
            )
        )
    if amount is not None and amount > rules.four_eyes_threshold:
        reasons.append(
            RoutingReason(
                "four_eyes",
                f"amount {amount} is above the four-eyes threshold {rules.four_eyes_threshold}",
                "amount",
            )
        )
    check = None
    if facts.amount_in_words is not None:
        check = check_amount(facts.amount_in_words, facts.amount)
        if check.outcome == "mismatch":
            reasons.append(RoutingReason("amount_words_mismatch", check.reason, "amount_in_words"))
        elif check.outcome == "invalid":
            reasons.append(RoutingReason("amount_words_invalid", check.reason, "amount_in_words"))
    return reasons, check


def _cross_border_reasons(facts: PaymentFacts, rules: RoutingRules) -> list[RoutingReason]:
    wanted = rules.cross_border
    reasons = []
    if wanted.require_purpose and not facts.purpose.strip():
        reasons.append(
            RoutingReason("missing_purpose", "cross-border RMB payment without a purpose", "purpose")
        )
    code = facts.reporting_code.strip()
    if not code:
        if wanted.require_reporting_code:
            reasons.append(
                RoutingReason(
                    "missing_reporting_code",
                    "cross-border RMB payment without a BOP reporting code (涉外收支交易编码)",
                    "reporting_code",
                )
            )
    elif not re.fullmatch(wanted.reporting_code_pattern, code):
        reasons.append(
            RoutingReason(
                "invalid_reporting_code",
                f"reporting code {code!r} does not match {wanted.reporting_code_pattern}",
                "reporting_code",
            )
        )
    elif wanted.reporting_codes is not None and code not in wanted.reporting_codes:
        reasons.append(
            RoutingReason(
                "invalid_reporting_code",
                f"reporting code {code} is not in the bank's code table",
                "reporting_code",
            )
        )
    return reasons


def route_payment(
    facts: PaymentFacts,
    rules: RoutingRules,
    *,
    now: datetime,
    seen_reference: Callable[[str], bool] | None = None,
    screener: Screener | None = None,
) -> RoutingDecision:
    """Route one payment: STP when no reason applies, otherwise manual with every reason.

    Args:
        facts: the payment as read from the message or voucher.
        rules: the routing rules (``load_routing_rules``).
        now: the current time, timezone-aware (compared with the cut-offs in ``rules.timezone``).
        seen_reference: the caller's duplicate check: true when the reference was seen before.
        screener: the loaded sanctions list; required when ``facts.names`` is not empty.

    Raises:
        ValueError: ``now`` has no time zone (a naive time cannot be compared with a cut-off).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("route_payment needs a timezone-aware 'now', e.g. datetime.now(timezone.utc)")
    reasons, amount_check = _amount_reasons(facts, rules)

    identifier_checks = []
    for item in facts.identifiers:
        subject = f"{item.role} {item.kind}".strip()
        try:
            check = check_identifier(item.kind, item.value)
        except ValueError as exc:
            reasons.append(RoutingReason("invalid_identifier", f"{subject}: {exc}", subject))
            continue
        identifier_checks.append((item.role, check))
        if not check.valid:
            reasons.append(
                RoutingReason("invalid_identifier", f"{subject} {item.value!r}: {check.reason}", subject)
            )

    hits: list[tuple[str, ScreeningHit]] = []
    names = [p for p in facts.names if p.name.strip()]
    if names and screener is None:
        reasons.append(
            RoutingReason("screening_unavailable", "party names were not screened: no sanctions list")
        )
    elif screener is not None:
        for party in names:
            for hit in screener.screen(
                party.name, threshold=rules.screening.threshold, entry_types=rules.screening.entry_types
            ):
                hits.append((party.role, hit))
                programs = ", ".join(hit.entry.programs) or "no programme"
                reasons.append(
                    RoutingReason(
                        "screening_hit",
                        f"{party.role} {party.name!r} is close to {hit.matched_name!r} "
                        f"(entry {hit.entry.uid}, {hit.entry.entry_type}, {programs}), score {hit.score:g}",
                        party.role,
                    )
                )

    cross_border = (
        facts.cross_border
        or facts.clearing_system.upper() in {s.upper() for s in rules.cross_border.clearing_systems}
        or facts.business_kind in rules.cross_border.cnaps_business_kinds
    )
    if cross_border:
        reasons.extend(_cross_border_reasons(facts, rules))

    local = now.astimezone(rules.zone)
    cutoff = rules.cutoffs.get(facts.clearing_system.upper()) if facts.clearing_system else None
    if cutoff is not None and local.time().replace(tzinfo=None) > cutoff:
        reasons.append(
            RoutingReason(
                "cutoff_passed",
                f"{facts.clearing_system} cut-off {cutoff:%H:%M} ({rules.timezone}) has passed: it is {local:%H:%M}",
                "clearing_system",
            )
        )

    if not facts.reference.strip():
        reasons.append(RoutingReason("missing_reference", "the payment has no reference", "reference"))
    elif seen_reference is not None and seen_reference(facts.reference):
        reasons.append(
            RoutingReason(
                "duplicate_reference", f"reference {facts.reference!r} was already processed", "reference"
            )
        )

    return RoutingDecision(
        route="manual" if reasons else "stp",
        reasons=tuple(reasons),
        amount_check=amount_check,
        identifier_checks=tuple(identifier_checks),
        screening_hits=tuple(hits),
        cross_border=cross_border,
        local_time=local,
    )
