"""think.check_amount, think.validate_identifiers, think.screen_names, think.route_payment.

Thin wrappers over ``skills.think.checks``: pydantic models at the edge, plain code inside. The
sanctions list is the ``sanctions_list`` service, loaded once per process from the settings key
``sanctions_list_path`` (default: the shared OFAC snapshot beside the repository).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from skills import BusinessError, SkillContext, TechnicalError, service, skill
from skills.paths import confine
from skills.think.checks.amounts import check_amount as check_amount_words
from skills.think.checks.identifiers import check_identifier
from skills.think.checks.routing import IdentifierToCheck, PartyName, PaymentFacts
from skills.think.checks.routing import route_payment as decide_route
from skills.think.checks.routing_rules import RoutingRulesError, load_routing_rules
from skills.think.checks.screening import Screener, WatchlistError

# the OFAC SDN snapshot shipped with the package (NOTICE.md beside it says where it comes from)
DEFAULT_SANCTIONS_LIST = Path(__file__).resolve().parent / "checks" / "data" / "ofac-sdn"
DEFAULT_ROUTING_RULES = Path(__file__).resolve().parents[2] / "config/routing.yaml"


@service("sanctions_list")
def sanctions_list(settings: Mapping[str, Any]) -> Screener:
    """The sanctions list, indexed for screening (about 0.5 s for the 7,379-entry SDN snapshot)."""
    path = settings.get("sanctions_list_path") or DEFAULT_SANCTIONS_LIST
    options = (
        {"threshold": float(settings["sanctions_threshold"])} if "sanctions_threshold" in settings else {}
    )
    try:
        return Screener.from_path(path, **options)
    except WatchlistError as exc:
        raise TechnicalError(f"sanctions list unavailable: {exc}", applied=False) from exc


# --- think.check_amount -----------------------------------------------------------------------


class CheckAmountParams(BaseModel):
    words: str = Field(description="The amount in Chinese capital numerals (大写), e.g. 人民币壹仟元整.")
    figure: Decimal | str = Field(description="The amount in figures (小写), e.g. 1000.00 or ￥1,000.00.")
    raise_on_problem: bool = Field(
        False, description="Raise a business error (manual queue) on mismatch or invalid words."
    )


class CheckAmountResult(BaseModel):
    outcome: Literal["match", "mismatch", "invalid"] = Field(description="match, mismatch or invalid.")
    reason: str = Field(description="Empty on a match, else what is wrong.")
    words_value: Decimal | None = Field(description="The value of the words, read leniently, if readable.")
    figure_value: Decimal | None = Field(description="The figure as an amount, if valid.")


@skill("think.check_amount", effect="none")
def check_amount(ctx: SkillContext, params: CheckAmountParams) -> CheckAmountResult:
    """Check that an amount in Chinese capital numerals (大写) equals its figure."""
    result = check_amount_words(params.words, params.figure)
    if params.raise_on_problem and result.outcome != "match":
        raise BusinessError(result.reason, code=f"amount_words_{result.outcome}")
    return CheckAmountResult(
        outcome=result.outcome,
        reason=result.reason,
        words_value=result.words_value,
        figure_value=result.figure_value,
    )


# --- think.validate_identifiers ---------------------------------------------------------------


class IdentifierItem(BaseModel):
    kind: Literal["bic", "iban", "cnaps", "card", "account", "resident_id", "uscc", "uetr"] = Field(
        description="Which identifier this is."
    )
    value: str = Field(description="The identifier as written.")
    role: str = Field("", description="Whose it is (debtor, creditor_agent...), echoed in the result.")


class IdentifierVerdict(BaseModel):
    kind: str = Field(description="Which identifier was checked.")
    role: str = Field(description="Whose it is, as given.")
    value: str = Field(description="The value as given.")
    valid: bool = Field(description="Whether it passes its check.")
    reason: str = Field(description="Why it is invalid, or what was checked.")
    normalized: str = Field(description="Compact form (upper case, blanks removed).")
    details: dict[str, str] = Field(description="What it encodes: bank, city, country, birth date...")
    warnings: list[str] = Field(description="Doubts that do not make it invalid.")


class ValidateIdentifiersParams(BaseModel):
    identifiers: list[IdentifierItem] = Field(description="The identifiers to check.")


class ValidateIdentifiersResult(BaseModel):
    all_valid: bool = Field(description="True when every identifier is valid.")
    results: list[IdentifierVerdict] = Field(description="One verdict per identifier, in order.")


@skill("think.validate_identifiers", effect="none")
def validate_identifiers(ctx: SkillContext, params: ValidateIdentifiersParams) -> ValidateIdentifiersResult:
    """Check BICs, IBANs, CNAPS bank codes, cards, accounts, resident ids, credit codes, UETRs."""
    verdicts = []
    for item in params.identifiers:
        check = check_identifier(item.kind, item.value)
        verdicts.append(
            IdentifierVerdict(
                kind=check.kind.value,
                role=item.role,
                value=check.value,
                valid=check.valid,
                reason=check.reason,
                normalized=check.normalized,
                details=dict(check.details),
                warnings=list(check.warnings),
            )
        )
    return ValidateIdentifiersResult(all_valid=all(v.valid for v in verdicts), results=verdicts)


# --- think.screen_names -----------------------------------------------------------------------


class ScreenNamesParams(BaseModel):
    names: list[str] = Field(description="Party names to screen (any script).")
    threshold: float | None = Field(
        None, ge=0, le=100, description="Minimum score 0-100; list default if absent."
    )
    limit: int = Field(5, ge=1, le=100, description="At most this many hits per name.")


class SanctionsHit(BaseModel):
    name: str = Field(description="The screened name.")
    uid: str = Field(description="The list entry number.")
    listed_name: str = Field(description="The entry's primary name.")
    matched_name: str = Field(description="The entry name (primary or alias) that matched.")
    matched_kind: str = Field(description="primary, aka, fka or nka.")
    entry_type: str = Field(description="individual, entity, vessel or aircraft.")
    programs: list[str] = Field(description="Sanctions programmes of the entry.")
    score: float = Field(description="Similarity 0-100.")


class ScreenNamesResult(BaseModel):
    hit: bool = Field(description="True when any name hit the list.")
    hits: list[SanctionsHit] = Field(description="Every hit, best first per name.")


@skill("think.screen_names", effect="none")
def screen_names(ctx: SkillContext, params: ScreenNamesParams) -> ScreenNamesResult:
    """Screen party names against the sanctions list (fuzzy, any script)."""
    screener: Screener = ctx.service("sanctions_list")
    hits = [
        SanctionsHit(
            name=name,
            uid=h.entry.uid,
            listed_name=h.entry.name,
            matched_name=h.matched_name,
            matched_kind=h.matched_kind,
            entry_type=h.entry.entry_type,
            programs=list(h.entry.programs),
            score=h.score,
        )
        for name in params.names
        for h in screener.screen(name, threshold=params.threshold, limit=params.limit)
    ]
    return ScreenNamesResult(hit=bool(hits), hits=hits)


# --- think.route_payment ----------------------------------------------------------------------


class PartyNameItem(BaseModel):
    role: str = Field(description="debtor, creditor, debtor_agent...")
    name: str = Field(description="The name as written in the payment.")


class RoutePaymentParams(BaseModel):
    reference: str = Field(description="The payment reference deduplicated on (MsgId, :20:, 业务标识号).")
    amount: Decimal | str = Field(description="The amount in figures.")
    currency: str = Field("CNY", description="ISO 4217 currency.")
    amount_in_words: str | None = Field(
        None, description="The 大写 amount on a voucher, compared with the figure."
    )
    clearing_system: str = Field("", description="HVPS, BEPS, IBPS, CIPS... (selects the cut-off).")
    business_kind: str = Field("", description="CNAPS 业务种类 code, e.g. 02112 for cross-border goods.")
    cross_border: bool = Field(False, description="Set when the payment is known to be cross-border RMB.")
    purpose: str = Field("", description="Purpose text (用途 / remittance purpose).")
    reporting_code: str = Field("", description="BOP 涉外收支交易编码 (6 digits).")
    identifiers: list[IdentifierItem] = Field(default_factory=list, description="Identifiers to check.")
    names: list[PartyNameItem] = Field(default_factory=list, description="Party names to screen.")
    seen_references: list[str] = Field(
        default_factory=list, description="References already processed (the duplicate check)."
    )
    rules_path: str | None = Field(None, description="Routing rules file; default config/routing.yaml.")
    now: datetime | None = Field(
        None, description="Decision time, timezone-aware; default: the current time."
    )


class RoutingReasonItem(BaseModel):
    code: str = Field(description="Stable reason code (four_eyes, screening_hit...).")
    message: str = Field(description="What was expected and what was found.")
    subject: str = Field(description="The field or party concerned.")


class RoutePaymentResult(BaseModel):
    route: Literal["stp", "manual"] = Field(description="stp (straight through) or manual.")
    reasons: list[RoutingReasonItem] = Field(description="Every reason for manual handling.")
    cross_border: bool = Field(description="Whether the payment was treated as cross-border RMB.")


def _rules_file(ctx: SkillContext, given: str | None) -> Path:
    """The rules named by the step (relative to the work folder), else the work folder's
    ``config/routing.yaml``, else the one shipped with the project."""
    if given:
        return confine(ctx, given)
    local = Path(ctx.work_dir) / "config" / "routing.yaml"
    return local if local.is_file() else Path(DEFAULT_ROUTING_RULES)


@skill("think.route_payment", effect="none")
def route_payment(ctx: SkillContext, params: RoutePaymentParams) -> RoutePaymentResult:
    """Decide STP or manual for a payment, listing every reason that applies."""
    try:
        rules = load_routing_rules(_rules_file(ctx, params.rules_path))
    except RoutingRulesError as exc:
        raise BusinessError(str(exc), code="invalid_routing_rules") from exc
    now = params.now or datetime.now(UTC)
    if now.tzinfo is None:
        raise BusinessError(f"'now' must carry a time zone, got {now.isoformat()}", code="naive_time")
    facts = PaymentFacts(
        reference=params.reference,
        amount=params.amount,
        currency=params.currency,
        amount_in_words=params.amount_in_words,
        clearing_system=params.clearing_system,
        business_kind=params.business_kind,
        cross_border=params.cross_border,
        purpose=params.purpose,
        reporting_code=params.reporting_code,
        identifiers=[IdentifierToCheck(i.kind, i.value, i.role) for i in params.identifiers],
        names=[PartyName(n.role, n.name) for n in params.names],
    )
    screener = ctx.service("sanctions_list") if facts.names else None
    seen = set(params.seen_references)
    decision = decide_route(facts, rules, now=now, seen_reference=seen.__contains__, screener=screener)
    return RoutePaymentResult(
        route=decision.route,
        reasons=[
            RoutingReasonItem(code=r.code, message=r.message, subject=r.subject) for r in decision.reasons
        ],
        cross_border=decision.cross_border,
    )
