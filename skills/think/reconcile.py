"""think.reconcile: compare our records of what we did with the other side's, by reference.

A bank reconciles its submissions journal against the clearing result file, its postings
against a statement, its reports against the regulator's acknowledgements. Each is the same
comparison: pair the records by a business reference, then, for each reference,

* ``missing_theirs``: we have it, they do not (a submission the clearing never saw);
* ``missing_ours``: they have it, we do not (keyed outside the bot, or never journalled);
* ``duplicate_ours`` / ``duplicate_theirs``: a reference more than once on one side (a double
  keying shows up here);
* ``field``: a compared field differs (amount, account, bank code...);
* ``status``: their status is not one of the accepted ones (rejected, still pending).

The comparison (``reconcile_records``) is plain Python over mappings; the skill is a thin
pydantic wrapper. Records are read with dotted paths (``amount.value``), so the clearing file's
entries and our journal lines can be compared without reshaping either.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from skills import BusinessError, SkillContext, skill

CompareKind = Literal["amount", "text", "digits"]
MismatchKind = Literal[
    "missing_theirs", "missing_ours", "duplicate_ours", "duplicate_theirs", "field", "status"
]
MAX_LISTED = 20
"""Mismatches spelt out in the summary (and a raised error); the rest are counted."""
_MISSING = object()


class ReconcileInputError(ValueError):
    """A record cannot be reconciled at all (no reference, bad JSON line): says which and why."""


@dataclass(frozen=True)
class FieldComparison:
    """One compared field: its name in the report and where it is in each side's records."""

    name: str
    ours: str
    theirs: str
    compare: CompareKind = "text"


@dataclass(frozen=True)
class Difference:
    """One problem found for one reference."""

    reference: str
    kind: MismatchKind
    message: str
    field: str | None = None
    ours: str | None = None
    theirs: str | None = None


@dataclass
class Reconciliation:
    """The outcome: every reference with its problems, and the counts and totals of both sides."""

    references: list[str]
    differences: list[Difference]
    ours_count: int
    theirs_count: int
    ours_total: Decimal | None = None
    theirs_total: Decimal | None = None
    problems_by_reference: dict[str, list[Difference]] = field(default_factory=dict)

    @property
    def matched(self) -> list[str]:
        """References found once on each side with nothing different."""
        return [ref for ref in self.references if ref not in self.problems_by_reference]

    def summary(self) -> str:
        """One readable paragraph: the counts, then every mismatch (the first ``MAX_LISTED``)."""
        head = (
            f"{len(self.matched)} of {len(self.references)} reference(s) matched "
            f"(ours {self.ours_count} record(s), theirs {self.theirs_count})"
        )
        if not self.differences:
            return head
        listed = "; ".join(d.message for d in self.differences[:MAX_LISTED])
        more = len(self.differences) - MAX_LISTED
        tail = f"; and {more} more" if more > 0 else ""
        return f"{head}; {len(self.differences)} mismatch(es): {listed}{tail}"


def value_at(record: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of ``record`` (``amount.value``), or ``_MISSING``."""
    current: Any = record
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, Sequence) and not isinstance(current, str) and part.isdigit():
            index = int(part)
            if index >= len(current):
                return _MISSING
            current = current[index]
        else:
            return _MISSING
    return current


def _as_amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None or value is _MISSING:
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _normalised(value: Any, compare: CompareKind) -> str | Decimal | None:
    """The form two values are compared in; ``None`` when absent or (for amounts) unreadable."""
    if value is None or value is _MISSING:
        return None
    if compare == "amount":
        return _as_amount(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if compare == "digits":
        return re.sub(r"[\s\-]", "", text)
    return re.sub(r"\s+", " ", text)


def _shown(value: Any) -> str | None:
    if value is None or value is _MISSING:
        return None
    return str(value)


def _keyed(records: Sequence[Mapping[str, Any]], path: str, side: str) -> dict[str, list[Mapping[str, Any]]]:
    by_reference: dict[str, list[Mapping[str, Any]]] = {}
    for position, record in enumerate(records, start=1):
        if not isinstance(record, Mapping):
            raise ReconcileInputError(f"{side} record {position} is not a mapping: {str(record)[:60]!r}")
        reference = value_at(record, path)
        if reference is _MISSING or reference is None or str(reference).strip() == "":
            raise ReconcileInputError(
                f"{side} record {position} has no reference at {path!r} "
                f"(keys: {', '.join(sorted(map(str, record)))[:120]})"
            )
        by_reference.setdefault(str(reference).strip(), []).append(record)
    return by_reference


def _total(records: Sequence[Mapping[str, Any]], path: str) -> Decimal | None:
    amounts = [_as_amount(value_at(record, path)) for record in records]
    if any(amount is None for amount in amounts):
        return None
    return sum((a for a in amounts if a is not None), Decimal(0))


def _compare_fields(
    reference: str, ours: Mapping[str, Any], theirs: Mapping[str, Any], fields: Sequence[FieldComparison]
) -> list[Difference]:
    found = []
    for rule in fields:
        our_raw, their_raw = value_at(ours, rule.ours), value_at(theirs, rule.theirs)
        our_value, their_value = _normalised(our_raw, rule.compare), _normalised(their_raw, rule.compare)
        if our_value is not None and our_value == their_value:
            continue
        shown_ours, shown_theirs = _shown(our_raw), _shown(their_raw)
        if our_value is None or their_value is None:
            side = "ours" if our_value is None else "theirs"
            what = "an amount" if rule.compare == "amount" else "a value"
            message = (
                f"{reference}: {rule.name} is not {what} in {side} "
                f"(ours {shown_ours!r}, theirs {shown_theirs!r})"
            )
        else:
            message = f"{reference}: {rule.name} differs (ours {shown_ours}, theirs {shown_theirs})"
        found.append(Difference(reference, "field", message, rule.name, shown_ours, shown_theirs))
    return found


def reconcile_records(
    ours: Sequence[Mapping[str, Any]],
    theirs: Sequence[Mapping[str, Any]],
    *,
    ours_key: str = "reference",
    theirs_key: str = "reference",
    fields: Sequence[FieldComparison] = (),
    theirs_status: str | None = None,
    accepted_statuses: Sequence[str] = (),
) -> Reconciliation:
    """Pair ``ours`` and ``theirs`` by reference and list every difference.

    Args:
        ours: Our records (a journal's lines).
        theirs: The other side's records (a clearing file's entries).
        ours_key: Dotted path of the reference in our records.
        theirs_key: Dotted path of the reference in theirs.
        fields: Fields compared for each reference found once on each side.
        theirs_status: Dotted path of their status, checked against ``accepted_statuses``.
        accepted_statuses: Statuses that count as done; any other is a ``status`` mismatch.

    Returns:
        The reconciliation, references in sorted order, differences grouped per reference.

    Raises:
        ReconcileInputError: a record is not a mapping or has no reference.
    """
    our_records, their_records = _keyed(ours, ours_key, "our"), _keyed(theirs, theirs_key, "their")
    references = sorted(set(our_records) | set(their_records))
    differences: list[Difference] = []
    for reference in references:
        mine, yours = our_records.get(reference, []), their_records.get(reference, [])
        if not yours:
            differences.append(
                Difference(reference, "missing_theirs", f"{reference}: in ours, missing in theirs")
            )
        if not mine:
            differences.append(
                Difference(reference, "missing_ours", f"{reference}: in theirs, missing in ours")
            )
        if len(mine) > 1:
            differences.append(
                Difference(reference, "duplicate_ours", f"{reference}: {len(mine)} records in ours")
            )
        if len(yours) > 1:
            differences.append(
                Difference(reference, "duplicate_theirs", f"{reference}: {len(yours)} records in theirs")
            )
        if len(mine) == 1 and len(yours) == 1:
            differences.extend(_compare_fields(reference, mine[0], yours[0], fields))
        if theirs_status and accepted_statuses:
            for record in yours:
                status = value_at(record, theirs_status)
                if str(status) not in accepted_statuses:
                    differences.append(
                        Difference(
                            reference,
                            "status",
                            f"{reference}: status {_shown(status)!r} in theirs, "
                            f"expected {' or '.join(accepted_statuses)}",
                            theirs_status,
                            None,
                            _shown(status),
                        )
                    )
    grouped: dict[str, list[Difference]] = {}
    for difference in differences:
        grouped.setdefault(difference.reference, []).append(difference)
    amount_rule = next((rule for rule in fields if rule.compare == "amount"), None)
    return Reconciliation(
        references=references,
        differences=differences,
        ours_count=len(ours),
        theirs_count=len(theirs),
        ours_total=_total(ours, amount_rule.ours) if amount_rule else None,
        theirs_total=_total(theirs, amount_rule.theirs) if amount_rule else None,
        problems_by_reference=grouped,
    )


def parse_json_lines(text: str) -> list[dict[str, Any]]:
    """The records of a JSON-lines text (blank lines skipped).

    Raises:
        ReconcileInputError: a line is not a JSON object (its number is given).
    """
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReconcileInputError(f"line {number} of our records is not JSON: {exc.msg}") from None
        if not isinstance(record, dict):
            raise ReconcileInputError(f"line {number} of our records is not a JSON object")
        records.append(record)
    return records


# --- the skill ---------------------------------------------------------------------------------


class FieldRule(BaseModel):
    """A field compared for every reference present once on both sides."""

    name: str = Field(description="Name of the field in the report, e.g. amount.")
    ours: str = Field(description="Dotted path of the value in our records, e.g. amount.")
    theirs: str = Field(description="Dotted path of the value in theirs, e.g. amount.value.")
    compare: CompareKind = Field(
        "text",
        description="amount (as exact decimals: 10.5 equals 10.50), digits (blanks and hyphens "
        "ignored: accounts, bank codes) or text (blanks trimmed).",
    )


class ReconcileParams(BaseModel):
    ours: list[dict[str, Any]] | None = Field(
        None, description="Our records (e.g. a journal's lines); or give ours_jsonl."
    )
    ours_jsonl: str | None = Field(
        None, description="Our records as JSON-lines text, e.g. the content read by do.read_file."
    )
    theirs: list[dict[str, Any]] = Field(
        description="The other side's records, e.g. steps.<read_reconciliation>.entries."
    )
    ours_key: str = Field("reference", description="Dotted path of the reference in our records.")
    theirs_key: str = Field("reference", description="Dotted path of the reference in theirs.")
    fields: list[FieldRule] = Field(default_factory=list, description="Fields compared per reference.")
    theirs_status: str | None = Field(
        None, description="Dotted path of their status (e.g. outcome), checked against accepted_statuses."
    )
    accepted_statuses: list[str] = Field(
        default_factory=list,
        description="Statuses that count as done (e.g. [settled]); others are mismatches.",
    )
    raise_on_mismatch: bool = Field(
        False, description="Raise a business error (code recon_mismatch) listing every mismatch."
    )

    @model_validator(mode="after")
    def _one_source_of_ours(self) -> ReconcileParams:
        if (self.ours is None) == (self.ours_jsonl is None):
            raise ValueError("give exactly one of ours (a list of records) and ours_jsonl (JSON-lines text)")
        return self


class MismatchModel(BaseModel):
    reference: str = Field(description="The reference concerned.")
    kind: MismatchKind = Field(
        description="missing_theirs, missing_ours, duplicate_ours, duplicate_theirs, field or status."
    )
    message: str = Field(description="What is different, readable.")
    field: str | None = Field(None, description="The field that differs (field, status).")
    ours: str | None = Field(None, description="Our value, as recorded.")
    theirs: str | None = Field(None, description="Their value, as recorded.")


class ReferenceRow(BaseModel):
    reference: str = Field(description="A reference seen on either side.")
    outcome: Literal["matched", "mismatch"] = Field(description="matched, or mismatch with its problems.")
    problems: list[str] = Field(description="The kinds of mismatch of this reference (empty when matched).")
    detail: str = Field(description="The mismatch messages joined, or empty.")


class ReconcileResult(BaseModel):
    ok: bool = Field(description="True when every reference matched.")
    matched_count: int = Field(description="References matched.")
    mismatch_count: int = Field(description="References with at least one mismatch.")
    ours_count: int = Field(description="Our records.")
    theirs_count: int = Field(description="Their records.")
    ours_total: Decimal | None = Field(
        description="Sum of our amounts (first amount field), if all readable."
    )
    theirs_total: Decimal | None = Field(description="Sum of their amounts, if all readable.")
    mismatches: list[MismatchModel] = Field(description="Every mismatch, by reference.")
    rows: list[ReferenceRow] = Field(description="One row per reference, sorted (for a report).")
    summary: str = Field(description="Counts and every mismatch in one paragraph.")


@skill(
    "think.reconcile",
    effect="none",
    timeout="60s",
    example="""with:
  ours_jsonl: ${{ steps.journal.content }}
  theirs: ${{ steps.results.entries }}
  theirs_key: end_to_end_id
  fields:
    - {name: amount, ours: amount, theirs: amount.value, compare: amount}
    - {name: payee_account, ours: payee_account, theirs: creditor_account, compare: digits}
  theirs_status: outcome
  accepted_statuses: [settled]""",
)
def reconcile(ctx: SkillContext, params: ReconcileParams) -> ReconcileResult:
    """Compare our records with the other side's by reference: matched, missing, duplicated, different."""
    try:
        ours = params.ours if params.ours is not None else parse_json_lines(params.ours_jsonl or "")
        outcome = reconcile_records(
            ours,
            params.theirs,
            ours_key=params.ours_key,
            theirs_key=params.theirs_key,
            fields=[FieldComparison(r.name, r.ours, r.theirs, r.compare) for r in params.fields],
            theirs_status=params.theirs_status,
            accepted_statuses=params.accepted_statuses,
        )
    except ReconcileInputError as exc:
        raise BusinessError(str(exc), code="recon_bad_record") from None
    mismatches = [
        MismatchModel(
            reference=d.reference, kind=d.kind, message=d.message, field=d.field, ours=d.ours, theirs=d.theirs
        )
        for d in outcome.differences
    ]
    if params.raise_on_mismatch and mismatches:
        raise BusinessError(
            outcome.summary(),
            code="recon_mismatch",
            details={"mismatches": [m.model_dump() for m in mismatches]},
        )
    rows = []
    for reference in outcome.references:
        problems = outcome.problems_by_reference.get(reference, [])
        rows.append(
            ReferenceRow(
                reference=reference,
                outcome="mismatch" if problems else "matched",
                problems=list(dict.fromkeys(p.kind for p in problems)),
                detail="; ".join(p.message for p in problems),
            )
        )
    kinds = Counter(m.kind for m in mismatches)
    ctx.log("reconciled", matched=len(outcome.matched), mismatches=dict(kinds))
    return ReconcileResult(
        ok=not mismatches,
        matched_count=len(outcome.matched),
        mismatch_count=len(outcome.problems_by_reference),
        ours_count=outcome.ours_count,
        theirs_count=outcome.theirs_count,
        ours_total=outcome.ours_total,
        theirs_total=outcome.theirs_total,
        mismatches=mismatches,
        rows=rows,
        summary=outcome.summary(),
    )
