"""Inbound cross-border RMB messages (MT103 and CIPS pacs.008 in CNY), clean or with one defect.

Each message is built as a ``Payment`` of the normalized model and written with the project's
own writers (``write_mt``, ``build_pacs008``), so every clean file is a valid message; defects
are then put in on purpose, one per message, and each message remembers what the bot should do
with it (``expected_reason_code``: the reason code the manual queue must show, ``None`` for a
straight-through credit). Malformed files are corrupted after writing so that the reader must
refuse them with a located reason.

How the cross-border reporting travels (documented in docs/scenarios/rmb.md): a pacs.008 carries
the ISO purpose in ``Purp/Cd`` and the SAFE BOP code in ``RgltryRptg/Dtls/Cd`` (country CN, the
purpose text in ``Inf``); an MT103 carries both in 77B as ``/<BOP code>/CN//<purpose> <text>``.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from examples.messages import parties
from examples.messages.sanctioned import DEFAULT_SDN_FOLDER, ListedName, ListProximity, listed_names
from skills.think.payments import build_pacs008, write_mt
from skills.think.payments.model import (
    Account,
    Agent,
    Amount,
    Charges,
    Party,
    Payment,
    Purpose,
    References,
    RegulatoryReport,
)

FOUR_EYES_THRESHOLD = Decimal("1000000.00")  # config/routing.yaml four_eyes_threshold
CLEAN_RANGE = (Decimal("1000.00"), Decimal("950000.00"))
LARGE_RANGE = (Decimal("1000000.01"), Decimal("30000000.00"))

DEFECTS = (
    "malformed",
    "invalid_account",
    "invalid_bank_code",
    "screening_hit",
    "missing_purpose_code",
    "above_four_eyes",
)
EXPECTED_CODE = {
    "malformed": "malformed_message",
    "invalid_account": "invalid_identifier",
    "invalid_bank_code": "invalid_identifier",
    "screening_hit": "screening_hit",
    "above_four_eyes": "four_eyes",
    # missing_purpose_code: missing_purpose (pacs.008 without Purp) or missing_reporting_code (MT103)
}
MALFORMATIONS = ("mt_amount_dot", "mt_bad_date", "mt_no_beneficiary", "xml_truncated", "xml_bad_amount")


@dataclass
class InboundMessage:
    """One generated file and what the bot is expected to make of it."""

    file_name: str
    content: bytes
    format: str
    reference: str
    defect: str | None
    expected_reason_code: str | None
    amount: Decimal
    value_date: date
    creditor_name: str
    creditor_account: str
    debtor_name: str
    debtor_country: str
    debtor_account: str
    purpose: str
    reporting_code: str
    uetr: str | None
    detail: str = ""
    duplicate_of: str | None = None
    listed: ListedName | None = field(default=None, repr=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def clean(self) -> bool:
        return self.defect is None

    def truth(self) -> dict[str, object]:
        """JSON-ready facts for the scenario's ground truth file."""
        return {
            "file_name": self.file_name,
            "sha256": self.sha256,
            "format": self.format,
            "reference": self.reference,
            "defect": self.defect,
            "expected_reason_code": self.expected_reason_code,
            "amount": str(self.amount),
            "value_date": self.value_date.isoformat(),
            "creditor_name": self.creditor_name,
            "creditor_account": self.creditor_account,
            "debtor_name": self.debtor_name,
            "debtor_country": self.debtor_country,
            "debtor_account": self.debtor_account,
            "purpose": self.purpose,
            "reporting_code": self.reporting_code,
            "uetr": self.uetr,
            "detail": self.detail,
            "duplicate_of": self.duplicate_of,
        }


def batch_code(seed: int) -> str:
    """Four characters naming a batch in its references (the same seed gives the same code)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    rng = random.Random(f"batch-{seed}")  # reproducible sample data, not secrets  # nosec B311
    return "".join(rng.choice(alphabet) for _ in range(4))


def defect_plan(count: int, defect_rate: float, counts: Mapping[str, int] | None = None) -> list[str | None]:
    """Which message gets which defect: ``counts`` when given, else ``defect_rate`` spread evenly."""
    if counts is not None:
        unknown = set(counts) - set(DEFECTS)
        if unknown:
            raise ValueError(f"unknown defect(s) {sorted(unknown)}; expected some of {', '.join(DEFECTS)}")
        plan: list[str | None] = [d for d in DEFECTS for _ in range(counts.get(d, 0))]
    else:
        total = round(count * defect_rate)
        plan = [DEFECTS[i % len(DEFECTS)] for i in range(total)]
    if len(plan) > count:
        raise ValueError(f"{len(plan)} defects do not fit in {count} messages")
    return plan + [None] * (count - len(plan))


def generate_inbound(
    count: int,
    seed: int,
    *,
    defect_rate: float = 0.2,
    defect_counts: Mapping[str, int] | None = None,
    duplicates: int | None = None,
    value_date: date | None = None,
    sdn_folder: Path = DEFAULT_SDN_FOLDER,
) -> list[InboundMessage]:
    """``count`` distinct inbound messages (half MT103, half pacs.008) plus duplicate copies.

    Args:
        count: distinct messages, i.e. work items.
        seed: everything is drawn from ``random.Random(seed)``.
        defect_rate: share of messages with one defect, spread evenly over ``DEFECTS``.
        defect_counts: exact number of messages per defect instead of ``defect_rate``.
        duplicates: clean messages dropped a second time under another name (default 2 %, at
            least one); the copies come after the original in the list.
        value_date: value date of every message (default: today in Shanghai).
        sdn_folder: the OFAC SDN snapshot the screening hits are drawn from.
    """
    rng = random.Random(seed)  # reproducible sample data, not secrets  # nosec B311
    batch = batch_code(seed)
    when = value_date or datetime.now(UTC).astimezone(_shanghai()).date()
    plan = defect_plan(count, defect_rate, defect_counts)
    rng.shuffle(plan)
    hits = (
        iter(listed_names(plan.count("screening_hit"), rng, sdn_folder)) if "screening_hit" in plan else None
    )
    proximity = ListProximity.of(sdn_folder)
    messages = []
    for number, defect in enumerate(plan, start=1):
        fmt = "swift_mt" if number % 2 else "iso20022"
        reference = f"RI{batch}{number:05d}"
        messages.append(_message(rng, fmt, reference, defect, when, hits, proximity))
    copies = max(1, round(count * 0.02)) if duplicates is None else duplicates
    clean = [m for m in messages if m.clean]
    for original in rng.sample(clean, min(copies, len(clean))):
        stem, dot, suffix = original.file_name.rpartition(".")
        copy = replace(original, file_name=f"{stem}-resent{dot}{suffix}", duplicate_of=original.file_name)
        copy.defect, copy.expected_reason_code = "duplicate", None
        messages.append(copy)
    return messages


def _shanghai() -> ZoneInfo:
    return ZoneInfo("Asia/Shanghai")


def _message(
    rng: random.Random,
    fmt: str,
    reference: str,
    defect: str | None,
    when: date,
    hits: object,
    proximity: ListProximity,
) -> InboundMessage:
    debtor, creditor = clear_parties(rng, proximity)
    low, high = LARGE_RANGE if defect == "above_four_eyes" else CLEAN_RANGE
    amount = parties.amount_between(rng, low, high)
    purpose_code, bop_code, purpose_text = rng.choice(parties.PURPOSES)
    uetr = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    creditor_name = creditor.name if fmt == "iso20022" and rng.random() < 0.5 else creditor.name_latin
    creditor_account = creditor.account
    debtor_name = debtor.name
    cnaps = creditor.branch_cnaps
    creditor_bic = creditor.branch_bic
    detail = ""
    listed = None
    if defect == "invalid_account":
        creditor_account, detail = _broken_account(rng, creditor_account)
    elif defect == "invalid_bank_code":
        if rng.random() < 0.5:
            cnaps, detail = parties.break_check_digit(cnaps), "CNAPS code with a wrong check digit"
        else:
            creditor_bic = creditor_bic[:4] + "QQ" + creditor_bic[6:]
            detail = "creditor agent BIC with country QQ (not an ISO 3166 country)"
    elif defect == "screening_hit":
        listed = next(hits)  # type: ignore[call-overload]
        if rng.random() < 0.7:
            debtor_name, detail = listed.written, f"debtor is SDN entry {listed.uid} ({listed.listed_name})"
        else:
            creditor_name = listed.written
            detail = f"creditor is SDN entry {listed.uid} ({listed.listed_name})"
    payment = Payment(
        format=fmt,
        message_type="MT103" if fmt == "swift_mt" else "pacs.008.001.08",
        references=References(
            message_id=None if fmt == "swift_mt" else f"CIPS{when:%y%m%d}{reference}",
            instruction_id=reference,
            end_to_end_id=f"INV{rng.randrange(10**7, 10**8)}" if fmt == "iso20022" else None,
            uetr=uetr,
        ),
        creation_time=datetime.combine(when, time(rng.randrange(0, 9), rng.randrange(60)), tzinfo=UTC),
        value_date=when,
        settlement_amount=Amount(currency="CNY", value=amount),
        bank_operation_code="CRED" if fmt == "swift_mt" else None,
        debtor=Party(
            name=debtor_name,
            town=debtor.town,
            country=debtor.country,
            account=Account(id=debtor.account, scheme="iban" if debtor.account[:2].isalpha() else "other"),
        ),
        debtor_agent=Agent(bic=debtor.bank_bic),
        creditor_agent=Agent(bic=creditor_bic, clearing_system="CNAPS", member_id=cnaps),
        creditor=Party(
            name=creditor_name, address_lines=[creditor.town], account=Account(id=creditor_account)
        ),
        instructing_agent=Agent(bic=debtor.bank_bic),
        instructed_agent=Agent(bic=parties.OUR_BIC),
        charges=Charges(bearer="SHAR"),
        purpose=Purpose(code=purpose_code) if fmt == "iso20022" else None,
        remittance_information=[f"/INV/{rng.randrange(10**5, 10**6)}"],
        regulatory_reporting=[
            RegulatoryReport(code=bop_code, country="CN", information=[f"{purpose_code} {purpose_text}"])
        ],
    )
    purpose_seen = purpose_code if fmt == "iso20022" else f"{purpose_code} {purpose_text}"
    expected = EXPECTED_CODE.get(defect) if defect else None
    if defect == "missing_purpose_code":
        if fmt == "iso20022":  # no Purp and no narrative: nothing tells the purpose
            payment.purpose = None
            payment.regulatory_reporting = [RegulatoryReport(code=bop_code, country="CN")]
            purpose_seen, expected, detail = "", "missing_purpose", "pacs.008 without Purp"
        else:  # 77B narrative only: the BOP code is missing
            payment.regulatory_reporting = [RegulatoryReport(information=[f"{purpose_code} {purpose_text}"])]
            bop_code, expected, detail = "", "missing_reporting_code", "MT103 77B without a BOP code"
    if fmt == "swift_mt":
        text = write_mt(payment)
        name = f"{reference}.fin"
    else:
        text = build_pacs008(payment, cips=True)
        name = f"{payment.references.message_id}.xml"
    if defect == "malformed":
        kinds = [k for k in MALFORMATIONS if k.startswith("mt_" if fmt == "swift_mt" else "xml_")]
        kind = rng.choice(kinds)
        text, detail = _malform(text, kind), kind
    return InboundMessage(
        file_name=name,
        content=text.encode("utf-8"),
        format=fmt,
        reference=reference,
        defect=defect,
        expected_reason_code=expected,
        amount=amount,
        value_date=when,
        creditor_name=creditor_name,
        creditor_account=creditor_account,
        debtor_name=debtor_name,
        debtor_country=debtor.country,
        debtor_account=debtor.account,
        purpose=purpose_seen,
        reporting_code=bop_code,
        uetr=uetr,
        detail=detail,
        listed=listed,
    )


def clear_parties(
    rng: random.Random, proximity: ListProximity
) -> tuple[parties.ForeignParty, parties.DomesticParty]:
    """A payer abroad and a beneficiary in China whose names are clearly not listed ones."""
    while True:
        debtor = parties.foreign_party(rng)
        creditor = parties.domestic_party(rng)
        if not proximity.too_close(debtor.name, creditor.name_latin):
            return debtor, creditor


def _broken_account(rng: random.Random, account: str) -> tuple[str, str]:
    if rng.random() < 0.5:
        position = rng.randrange(4, len(account) - 1)
        letter = {"0": "O", "1": "I", "5": "S", "8": "B"}.get(account[position], "O")
        return account[:position] + letter + account[position + 1 :], f"letter {letter} in the account"
    return account[:7], "account of 7 digits"


def _malform(text: str, kind: str) -> str:
    """Break a written message so that a reader must refuse it."""
    if kind == "mt_amount_dot":  # 32A amounts use a decimal comma
        head, _, rest = text.partition(":32A:")
        line, _, tail = rest.partition("\r\n")
        return f"{head}:32A:{line.replace(',', '.')}\r\n{tail}"
    if kind == "mt_bad_date":  # month 13
        head, _, rest = text.partition(":32A:")
        return f"{head}:32A:{rest[:2]}13{rest[4:]}"
    if kind == "mt_no_beneficiary":  # field 59 is mandatory
        lines = text.split("\r\n")
        start = next(i for i, line in enumerate(lines) if line.startswith(":59"))
        end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith((":", "-}")))
        return "\r\n".join(lines[:start] + lines[end:])
    if kind == "xml_truncated":  # a transfer cut off in the middle
        return text[: int(len(text) * 0.6)]
    if kind == "xml_bad_amount":  # a letter O keyed for a zero
        head, marker, rest = text.partition('<IntrBkSttlmAmt Ccy="CNY">')
        return head + marker + "1O" + rest
    raise ValueError(f"unknown malformation {kind!r}")
