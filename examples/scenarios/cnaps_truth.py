"""Ground truth of the CNAPS scenario, and how an outcome is judged against it.

``VoucherTruth`` is what the generator knows about one voucher file; ``judge_voucher`` compares
it with the work item and the payments the terminal recorded for its reference, and
``judge_recon`` checks the reconciliation run and its report against the injected mismatches.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from examples.scenarios.base import GroundTruth

# defect as generated -> (defect name in the scenario contract, reason code the manual queue shows)
DEFECT_REASONS: dict[str, tuple[str, str]] = {
    "amount_mismatch": ("amount_words_mismatch", "amount_words_mismatch"),
    "bad_account": ("invalid_account", "invalid_account"),
    "bad_bank_code": ("invalid_bank_code", "invalid_bank_code"),
    "unreadable": ("unreadable_scan", "voucher_unreadable"),
    "refuse": ("refused_on_call", "refused_on_call"),
    "call_later": ("call_back_later", "call_back_later"),
    "malformed": ("malformed", "image_unreadable"),
}
REFERENCE_PREFIX = "VCH-"  # as workflows/cnaps_vouchers.yaml builds the terminal reference


@dataclass
class VoucherTruth:
    """One voucher file as generated: what it says, what is wrong with it, how it was answered."""

    file: str
    voucher_no: str
    amount: Decimal
    payer_name: str
    payer_account: str
    payer_bank_code: str
    payee_name: str
    payee_account: str
    payee_bank_code: str
    defect: str | None = None
    call: str | None = None
    sha256: str = ""
    resent_as: str | None = None

    @classmethod
    def of(cls, voucher: Any, *, defect: str | None, call: str | None) -> VoucherTruth:
        """From an ``examples.vouchers`` ``GeneratedVoucher``."""
        facts = voucher.facts
        return cls(
            file=voucher.image.name,
            voucher_no=facts.voucher_no,
            amount=facts.amount,
            payer_name=facts.payer.name,
            payer_account=facts.payer.account,
            payer_bank_code=facts.payer.bank.code,
            payee_name=facts.payee.name,
            payee_account=facts.payee.account,
            payee_bank_code=facts.payee.bank.code,
            defect=defect,
            call=call,
        )

    @property
    def reference(self) -> str:
        """The business reference (业务参考号) the bot keys it under."""
        return REFERENCE_PREFIX + self.voucher_no

    @property
    def expected_reason(self) -> str | None:
        return DEFECT_REASONS[self.defect][1] if self.defect else None

    def ground_truth(self, bot: str) -> GroundTruth:
        return GroundTruth(
            reference=self.sha256,
            bot=bot,
            clean=self.defect is None,
            defect=DEFECT_REASONS[self.defect][0] if self.defect else None,
            expected_reason_code=self.expected_reason,
            amount=self.amount,
            account=self.payee_account,
        )


def save_truth(folder: Path, meta: dict[str, Any], truths: list[VoucherTruth]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "truth.json"
    data = {**meta, "vouchers": [{**asdict(t), "amount": f"{t.amount:.2f}"} for t in truths]}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def load_truth(folder: Path) -> tuple[dict[str, Any], list[VoucherTruth]]:
    data = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    truths = [VoucherTruth(**{**v, "amount": Decimal(v["amount"])}) for v in data.pop("vouchers")]
    return data, truths


@dataclass
class VoucherVerdict:
    straight_through: bool = False
    caught: bool = False
    wrong_postings: int = 0
    notes: list[str] = field(default_factory=list)
    truth: VoucherTruth | None = None

    def duplicate_caught(self, inbox: Path) -> bool:
        """The second copy was refused as a duplicate (moved to failed/ saying so), never keyed twice.

        Files leave an inbox for ``processed/`` and ``failed/`` beside it (``skills.hear.inbox``).
        """
        assert self.truth is not None
        names = {self.truth.file, self.truth.resent_as}
        for reason in (inbox.parent / "failed").glob("*.reason.txt"):
            stem = reason.name.removesuffix(".reason.txt")
            if any(stem.startswith(Path(n).stem) for n in names if n) and "duplicate of work item" in (
                reason.read_text(encoding="utf-8")
            ):
                return self.wrong_postings == 0
        self.notes.append(f"{self.truth.resent_as}: the second copy of {self.truth.file} was not refused")
        return False


def _posting_problems(truth: VoucherTruth, payment: Any) -> list[str]:
    expected = {
        "amount": f"{truth.amount:.2f}",
        "payer_account": truth.payer_account,
        "payer_name": truth.payer_name,
        "payee_account": truth.payee_account,
        "payee_name": truth.payee_name,
        "payee_bank_code": truth.payee_bank_code,
    }
    found = {
        "amount": f"{Decimal(payment.amount):.2f}",
        "payer_account": payment.payer_account,
        "payer_name": payment.payer_name,
        "payee_account": payment.payee_account,
        "payee_name": payment.payee_name,
        "payee_bank_code": payment.payee_bank_code,
    }
    return [f"{k} {found[k]!r} instead of {v!r}" for k, v in expected.items() if found[k] != v]


def judge_voucher(truth: VoucherTruth, item: Any, postings: list[Any]) -> VoucherVerdict:
    """Compare one voucher's item and its payments on the terminal with its ground truth."""
    verdict = VoucherVerdict(truth=truth)
    label = f"{truth.file} ({truth.reference})"
    if item is None:
        verdict.notes.append(f"{label}: no work item was created")
        verdict.wrong_postings = len(postings)
        return verdict
    status = item.status.value
    if truth.defect is None:
        if len(postings) > 1:
            verdict.wrong_postings += len(postings) - 1
            verdict.notes.append(f"{label}: keyed {len(postings)} times")
        problems = _posting_problems(truth, postings[0]) if postings else []
        if problems:
            verdict.wrong_postings += 1
            verdict.notes.append(f"{label}: keyed wrongly: {'; '.join(problems)}")
        verdict.straight_through = bool(
            status == "done" and item.straight_through and len(postings) == 1 and not problems
        )
        if status != "done":
            verdict.notes.append(
                f"{label}: clean but {status} ({item.reason_code}: {(item.reason or '')[:160]})"
            )
        elif not postings:
            verdict.notes.append(f"{label}: done but not on the terminal")
        return verdict
    if postings:
        verdict.wrong_postings += len(postings)
        verdict.notes.append(f"{label}: defect {truth.defect} but keyed {len(postings)} time(s)")
    verdict.caught = status in ("needs_review", "failed", "rejected") and not postings
    if not verdict.caught:
        verdict.notes.append(f"{label}: defect {truth.defect} not caught ({status})")
    elif item.reason_code != truth.expected_reason:
        verdict.notes.append(
            f"{label}: defect {truth.defect} caught as {item.reason_code}, expected {truth.expected_reason}"
        )
    return verdict


@dataclass
class ReconVerdict:
    caught: bool = False
    notes: list[str] = field(default_factory=list)


def report_rows(report: Path) -> list[dict[str, str]]:
    with report.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def judge_recon(recon: dict[str, Any], item: Any, report_dir: Path) -> ReconVerdict:
    """The reconciliation run must list exactly the injected mismatches, in the queue and the report."""
    verdict = ReconVerdict()
    injected = set(recon["altered"]) | set(recon["dropped"])
    if item is None:
        verdict.notes.append(f"reconciliation: no work item for {recon['file']}")
        return verdict
    report = report_dir / f"cnaps-reconciliation-{Path(recon['file']).stem}.csv"
    if not report.exists():
        verdict.notes.append(
            f"reconciliation: no report at {report} ({item.status.value}: {item.reason_code})"
        )
        return verdict
    rows = report_rows(report)
    found = {row["reference"] for row in rows if row["outcome"] == "mismatch"}
    matched = sum(1 for row in rows if row["outcome"] == "matched")
    expected_status = "needs_review" if injected else "done"
    right = found == injected and item.status.value == expected_status
    if injected:
        right = right and item.reason_code == "recon_mismatch"
    verdict.caught = right
    verdict.notes.append(
        f"reconciliation of {recon['file']}: {item.status.value} ({item.reason_code}), report {report.name}: "
        f"{matched} matched, mismatches {sorted(found)}, injected {sorted(injected)}"
        + ("" if right else " - NOT what was expected")
    )
    return verdict
