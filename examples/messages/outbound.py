"""Outbound cross-border RMB customer instructions, as the outbound bot receives them (JSON inputs).

An instruction is what a corporate customer asks the bank to pay abroad in CNY: who pays (an
account at our bank), who is paid (name, account, bank BIC or CNAPS code, country), how much,
why (ISO purpose code and SAFE BOP code) and which clerk keyed it (the *maker*). Some are above
the four-eyes threshold (a second person must approve them), some carry one defect, and for the
ones that will be sent, ``cips_answer`` says how CIPS will answer (accepted, or rejected with an
ISO status reason code) — the CIPS responder (``examples/cips``) plays that part.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from examples.messages import parties
from examples.messages.inbound import CLEAN_RANGE, LARGE_RANGE, batch_code, clear_parties
from examples.messages.sanctioned import DEFAULT_SDN_FOLDER, ListProximity, listed_names

OUTBOUND_DEFECTS = ("screening_hit", "invalid_bank_code", "invalid_account", "missing_purpose_code")
EXPECTED_CODE = {
    "screening_hit": "screening_hit",
    "invalid_bank_code": "invalid_identifier",
    "invalid_account": "invalid_identifier",
    "missing_purpose_code": "missing_purpose",
    "above_four_eyes": "awaiting_approval",
}
# ISO 20022 status reason codes CIPS may reject with (external_status_reason_code.json).
REJECT_CODES = ("AC01", "AC04", "BE01", "RR04", "AG01")
MAKERS = ("li.na", "wang.fang", "zhang.wei", "chen.jing")


@dataclass
class OutboundInstruction:
    """One customer instruction, the inputs of the outbound workflow, and the expected outcome."""

    reference: str
    inputs: dict[str, Any]
    defect: str | None
    expected_reason_code: str | None
    amount: Decimal
    cips_answer: str | None = None  # None: not sent; "ACSC" accepted; else the rejection reason code
    detail: str = ""

    @property
    def will_be_sent(self) -> bool:
        """A pacs.008 goes out: no defect (four-eyes items once approved)."""
        return self.defect in (None, "above_four_eyes")

    def truth(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "inputs": self.inputs,
            "defect": self.defect,
            "expected_reason_code": self.expected_reason_code,
            "amount": str(self.amount),
            "cips_answer": self.cips_answer,
            "detail": self.detail,
        }


def generate_outbound(
    count: int,
    seed: int,
    *,
    four_eyes: int | None = None,
    defect_counts: Mapping[str, int] | None = None,
    rejections: int | None = None,
    value_date: date | None = None,
    sdn_folder: Path = DEFAULT_SDN_FOLDER,
) -> list[OutboundInstruction]:
    """``count`` instructions: about 15 % above four-eyes, 15 % with a defect, the rest clean.

    Of those that will be sent, about one in five is rejected by CIPS (``rejections`` to choose).
    """
    rng = random.Random(f"outbound-{seed}")  # reproducible sample data, not secrets  # nosec B311
    batch = batch_code(seed)
    large = max(1, round(count * 0.15)) if four_eyes is None else four_eyes
    if defect_counts is None:
        total = max(1, round(count * 0.15)) if count >= 4 else 0
        plan: list[str | None] = [OUTBOUND_DEFECTS[i % len(OUTBOUND_DEFECTS)] for i in range(total)]
    else:
        unknown = set(defect_counts) - set(OUTBOUND_DEFECTS)
        if unknown:
            raise ValueError(f"unknown outbound defect(s) {sorted(unknown)}")
        plan = [d for d in OUTBOUND_DEFECTS for _ in range(defect_counts.get(d, 0))]
    plan += ["above_four_eyes"] * large
    if len(plan) > count:
        raise ValueError(f"{len(plan)} special instructions do not fit in {count}")
    plan += [None] * (count - len(plan))
    rng.shuffle(plan)
    hits = (
        iter(listed_names(plan.count("screening_hit"), rng, sdn_folder)) if "screening_hit" in plan else None
    )
    proximity = ListProximity.of(sdn_folder)
    instructions = [
        _instruction(rng, f"RO{batch}{number:05d}", defect, value_date, hits, proximity)
        for number, defect in enumerate(plan, start=1)
    ]
    sent = [i for i in instructions if i.will_be_sent]
    refused = max(1, round(len(sent) * 0.2)) if rejections is None and sent else (rejections or 0)
    for index, instruction in enumerate(rng.sample(sent, min(refused, len(sent)))):
        instruction.cips_answer = REJECT_CODES[index % len(REJECT_CODES)]
    for instruction in sent:
        instruction.cips_answer = instruction.cips_answer or "ACSC"
    return instructions


def _instruction(
    rng: random.Random,
    reference: str,
    defect: str | None,
    value_date: date | None,
    hits: object,
    proximity: ListProximity,
) -> OutboundInstruction:
    creditor, debtor = clear_parties(rng, proximity)
    low, high = LARGE_RANGE if defect == "above_four_eyes" else CLEAN_RANGE
    amount = parties.amount_between(rng, low, high)
    purpose_code, bop_code, purpose_text = rng.choice(_OUTBOUND_PURPOSES)
    inputs: dict[str, Any] = {
        "reference": reference,
        "debtor_name": debtor.name_latin,
        "debtor_account": debtor.account,
        "creditor_name": creditor.name,
        "creditor_account": creditor.account,
        "creditor_country": creditor.country,
        "creditor_agent_bic": creditor.bank_bic,
        "creditor_agent_cnaps": "",
        "amount": str(amount),
        "purpose": purpose_code,
        "reporting_code": bop_code,
        "remittance": f"{purpose_text} /INV/{rng.randrange(10**5, 10**6)}",
        "maker": rng.choice(MAKERS),
        "uetr": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    }
    if value_date is not None:
        inputs["value_date"] = value_date.isoformat()
    detail = ""
    if defect == "screening_hit":
        listed = next(hits)  # type: ignore[call-overload]
        inputs["creditor_name"] = listed.written
        detail = f"creditor is SDN entry {listed.uid} ({listed.listed_name})"
    elif defect == "invalid_bank_code":
        bic = inputs["creditor_agent_bic"]
        inputs["creditor_agent_bic"] = bic[:4] + "QQ" + bic[6:]
        detail = "creditor agent BIC with country QQ"
    elif defect == "invalid_account":
        inputs["debtor_account"] = inputs["debtor_account"][:6]
        detail = "debtor account of 6 digits"
    elif defect == "missing_purpose_code":
        inputs["purpose"] = ""
        detail = "no purpose given"
    return OutboundInstruction(
        reference=reference,
        inputs=inputs,
        defect=defect,
        expected_reason_code=EXPECTED_CODE.get(defect) if defect else None,
        amount=amount,
        detail=detail,
    )


# Purposes of cross-border RMB payments abroad, with their SAFE BOP transaction code.
_OUTBOUND_PURPOSES = [
    ("GDDS", "121010", "IMPORT OF GOODS"),
    ("SCVE", "222011", "SEA FREIGHT"),
    ("SUPP", "121990", "SUPPLIER PAYMENT"),
    ("TRAD", "122990", "GOODS OUTSIDE CUSTOMS"),
]
