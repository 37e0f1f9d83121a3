"""MT <-> MX agreement over the ballerina translator's ground truth (``_pairs.json``).

For every MT103/pacs.008 and MT202/pacs.009 pair, both files are read into the normalized model
and the *whole* model is compared, field by field, except the fields listed in
``LEGITIMATE_DIFFERENCES`` - each with the reason the ground truth differs there. So amount,
currency, value date, parties (names, addresses, countries, towns), accounts, every BIC and the
references must agree exactly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from payments_testdata import BALLERINA, mt_type_of, or_skip, shared, shared_available

from skills.think.payments import MessageFormatError, read_iso, read_mt

LEGITIMATE_DIFFERENCES = {
    "format": "the format family differs by construction",
    "message_type": "MT103 vs pacs.008.001.08 by construction",
    "source": "positions are line/tag on one side and XPath on the other",
    "network": "the FIN envelope (priority, validation flag) has no pacs element",
    "creation_time": "MT has no creation time; the translator stamps GrpHdr/CreDtTm",
    "references.message_id": "MT has no message id; the translator copies field 20 (checked separately below)",
    "references.related_reference": "MT202 field 21 is kept as such; its pacs.009 counterpart EndToEndId is compared",
    "settlement_method": "SttlmMtd (INDA/COVE) is derived by the translator from the settlement chain, no MT field",
    "bank_operation_code": "23B has no CBPR+ pacs.008 element (the translator drops it)",
    "sender_to_receiver_information": "72 code words are moved to other elements (/INS/ -> PrvsInstgAgt1, "
    "/BNF/ -> RmtInf, /UDLC/ -> UltmtCdtr) which the model does not merge back",
    "identifiers": "the translator adds an Id 'NOTPROVIDED' when 59F has no account line",
}
MT202_ONLY = {"remittance_information": "MT202 72 /BNF/ becomes RmtInf/Ustrd in pacs.009"}
EXCLUDED_PAIRS = {
    "mt-fin/finMessage_pacs008_test_pmtTpInf.fin": "both sides are invalid inputs: the MT has a stray '}' after block 4 "
    "and 71A BEN without 71F; the MX has the placeholder CreDt 'CURRENT_TIME'",
}


def _pairs() -> list[dict[str, str]]:
    if not shared_available():
        return []
    pairs = json.loads((BALLERINA / "_pairs.json").read_text(encoding="utf-8"))
    selected = []
    for pair in pairs:
        kind = mt_type_of(BALLERINA / pair["mt"])
        document = (BALLERINA / pair["mx"]).read_text(encoding="utf-8")
        if (kind == "103" and "pacs.008.001" in document) or (kind == "202" and "pacs.009.001" in document):
            selected.append(pair)
    return selected


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flat(item, f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out.update(_flat(item, f"{prefix}[{index}]"))
        return out if value else {prefix: []}
    return {prefix: value}


def _excluded(key: str, kind: str) -> bool:
    reasons = LEGITIMATE_DIFFERENCES | (MT202_ONLY if kind == "202" else {})
    parts = key.replace("[", ".").split(".")
    return any(key == name or key.startswith((f"{name}.", f"{name}[")) or name in parts for name in reasons)


def test_the_pairs_cover_both_message_families() -> None:
    shared("iso20022/ballerina-swiftmt-to-iso20022/_pairs.json")
    kinds = [mt_type_of(BALLERINA / pair["mt"]) for pair in _pairs()]
    assert kinds.count("103") >= 7
    assert kinds.count("202") >= 8


@pytest.mark.parametrize(
    "pair", or_skip([p for p in _pairs() if p["mt"] not in EXCLUDED_PAIRS]), ids=lambda p: Path(p["mt"]).name
)
def test_mt_and_mx_of_a_pair_read_to_the_same_payment(pair: dict[str, str]) -> None:
    mt_text = (BALLERINA / pair["mt"]).read_text(encoding="utf-8")
    kind = mt_type_of(BALLERINA / pair["mt"])
    mt = read_mt(mt_text).payments[0]
    mx_message = read_iso((BALLERINA / pair["mx"]).read_bytes())
    assert mx_message.kind == "credit_transfer"
    assert mx_message.schema_validated
    mx = mx_message.payments[0]
    left = {k: v for k, v in _flat(mt.business_content()).items() if not _excluded(k, kind)}
    right = {k: v for k, v in _flat(mx.business_content()).items() if not _excluded(k, kind)}
    differing = {
        k: (left.get(k), right.get(k)) for k in left.keys() | right.keys() if left.get(k) != right.get(k)
    }
    assert not differing, f"MT and MX disagree on {differing}"
    # the fields the task names, asserted explicitly as well
    assert mt.settlement_amount == mx.settlement_amount
    assert mt.value_date == mx.value_date
    assert mt.references.uetr == mx.references.uetr
    assert mt.references.end_to_end_id == mx.references.end_to_end_id
    assert mt.references.instruction_id == mx.references.instruction_id == mx.references.message_id
    assert mt.instructing_agent == mx.instructing_agent
    assert mt.instructed_agent == mx.instructed_agent
    if kind == "103":
        assert mt.debtor is not None
        assert mx.debtor is not None
        assert mt.creditor is not None
        assert mx.creditor is not None
        assert (mt.debtor.name, mt.debtor.account) == (mx.debtor.name, mx.debtor.account)
        assert (mt.creditor.name, mt.creditor.account) == (mx.creditor.name, mx.creditor.account)
        assert mt.debtor_agent == mx.debtor_agent
        assert mt.creditor_agent == mx.creditor_agent
    else:
        assert mt.debtor_institution == mx.debtor_institution
        assert mt.creditor_institution == mx.creditor_institution


@pytest.mark.parametrize(
    "pair", or_skip([p for p in _pairs() if p["mt"] in EXCLUDED_PAIRS]), ids=lambda p: Path(p["mt"]).name
)
def test_an_excluded_pair_is_rejected_on_both_sides(pair: dict[str, str]) -> None:
    """The one pair left out of the comparison is invalid on both sides, for the reason given."""
    with pytest.raises(MessageFormatError):
        read_mt((BALLERINA / pair["mt"]).read_text(encoding="utf-8"))
    with pytest.raises(MessageFormatError, match="CURRENT_TIME"):
        read_iso((BALLERINA / pair["mx"]).read_bytes())
