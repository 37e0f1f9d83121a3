"""The four payment skills, run through ``skills.testing.run_skill`` with real files in a temp folder."""

from __future__ import annotations

import hashlib
import shutil
import stat
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import xmlschema
from payments_testdata import local, shared
from pydantic import ValidationError

from orchestrator.registry import SkillRegistry
from skills import BusinessError
from skills.paths import file_roots_service
from skills.testing import run_skill, service_pool
from skills.think.payment_skills import (
    build_pacs002_file,
    build_pacs008_file,
    parse_payment,
    read_reconciliation,
)
from skills.think.payments import MessageFormatError, read_iso
from skills.think.payments.iso.schemas import XSD_DIR

XSD = XSD_DIR
MT103 = "iso20022/ballerina-swiftmt-to-iso20022/mt-fin/finMessage_535_A_B.fin"


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """A work folder holding an MT103, a CNAPS package and a clearing file."""
    shutil.copy(shared(MT103), tmp_path / "in.fin")
    shutil.copy(local("beps121_received.txt"), tmp_path / "beps.txt")
    shutil.copy(local("clearing_result_20250310.csv"), tmp_path / "result.csv")
    return tmp_path


def test_the_skills_are_registered_through_the_entry_point() -> None:
    registry = SkillRegistry.from_entry_points()
    for skill_id in (
        "think.parse_payment",
        "think.build_pacs008",
        "think.build_pacs002",
        "think.read_reconciliation",
    ):
        spec = registry.get(skill_id)
        assert spec is not None, skill_id
        assert all(field.description for field in spec.params_model.model_fields.values()), skill_id
    assert registry.get("think.build_pacs008").effect == "idempotent"  # type: ignore[union-attr]


def test_parse_payment_reads_a_file_or_text(inbox: Path) -> None:
    result = run_skill(parse_payment, {"path": "in.fin"}, work_dir=inbox)
    assert (result.format, result.message_type, result.kind, result.payment_count) == (
        "swift_mt",
        "MT103",
        "credit_transfer",
        1,
    )  # type: ignore[union-attr]
    payment = result.message["payments"][0]  # type: ignore[union-attr]
    assert payment["settlement_amount"] == {"currency": "SGD", "value": "500000.00"}
    assert payment["references"]["uetr"] == "174c245f-2682-4291-ad67-2a41e530cd27"
    again = run_skill(
        parse_payment, {"text": (inbox / "beps.txt").read_text(encoding="utf-8")}, work_dir=inbox
    )
    assert (again.format, again.payment_count) == ("cnaps", 2)  # type: ignore[union-attr]


def test_parse_payment_refuses_bad_input_with_located_reasons(
    inbox: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    (inbox / "bad.fin").write_text((inbox / "in.fin").read_text().replace(":23B:CRED", ":23B:XXXX"))
    with pytest.raises(MessageFormatError) as caught:
        run_skill(parse_payment, {"path": "bad.fin"}, work_dir=inbox)
    assert isinstance(caught.value, BusinessError)
    assert caught.value.code == "malformed_message"
    assert caught.value.details["tag"] == "23B"
    with pytest.raises(MessageFormatError, match="expected a iso20022 message, found swift_mt"):
        run_skill(parse_payment, {"path": "in.fin", "expected_format": "iso20022"}, work_dir=inbox)
    with pytest.raises(ValidationError, match="exactly one of path and text"):
        run_skill(parse_payment, {"path": "in.fin", "text": "x"}, work_dir=inbox)


def test_paths_cannot_escape_the_root(inbox: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("outside") / "secret.fin"
    shutil.copy(inbox / "in.fin", outside)
    (inbox / "link.fin").symlink_to(outside)
    for path in ("../" + outside.parent.name + "/secret.fin", str(outside), "link.fin", "sub/../../x.fin"):
        with pytest.raises(BusinessError) as caught:
            run_skill(parse_payment, {"path": path}, work_dir=inbox)
        assert caught.value.code == "path_outside_root", path
    with pytest.raises(BusinessError) as caught:
        run_skill(parse_payment, {"path": "missing.fin"}, work_dir=inbox)
    assert caught.value.code == "file_not_found"
    with pytest.raises(BusinessError) as caught:
        run_skill(parse_payment, {"path": "in\x00.fin"}, work_dir=inbox)
    assert caught.value.code == "bad_path"
    nested = inbox / "nested"
    nested.mkdir()
    # a root outside the work folder is honoured only when it is a configured file root
    with pytest.raises(BusinessError) as caught:
        run_skill(parse_payment, {"path": "in.fin", "root": str(inbox)}, work_dir=nested)
    assert caught.value.code == "path_outside_root"
    roots = service_pool([file_roots_service], {"file_roots": [str(inbox)]})
    result = run_skill(parse_payment, {"path": "in.fin", "root": str(inbox)}, work_dir=nested, services=roots)
    assert result.payment_count == 1  # type: ignore[union-attr]


def test_build_pacs008_writes_a_valid_file_idempotently(inbox: Path) -> None:
    parsed = run_skill(parse_payment, {"path": "in.fin"}, work_dir=inbox)
    params = {
        "payment": parsed.message["payments"][0],  # type: ignore[union-attr]
        "output_path": "out/pacs008.xml",
        "creation_time": datetime(2025, 3, 10, 9, 0, tzinfo=UTC).isoformat(),
    }
    first = run_skill(build_pacs008_file, params, work_dir=inbox)
    written = Path(first.path)  # type: ignore[union-attr]
    assert written == inbox / "out/pacs008.xml"
    data = written.read_bytes()
    assert first.sha256 == hashlib.sha256(data).hexdigest()  # type: ignore[union-attr]
    xmlschema.XMLSchema(str(XSD / "pacs.008.001.08.xsd")).validate(data)
    second = run_skill(build_pacs008_file, params, work_dir=inbox)
    assert second.sha256 == first.sha256  # type: ignore[union-attr]
    assert read_iso(data).payments[0].settlement_amount.value == Decimal("500000.00")
    assert not list((inbox / "out").glob(".*tmp"))  # the atomic write left no temporary file
    assert stat.S_IMODE(written.stat().st_mode) == 0o644  # readable by the gateway that sends it
    with pytest.raises(BusinessError) as caught:
        run_skill(build_pacs008_file, {**params, "output_path": "../escape.xml"}, work_dir=inbox)
    assert caught.value.code == "path_outside_root"


def test_build_pacs002_answers_an_original_message(inbox: Path) -> None:
    result = run_skill(
        build_pacs002_file,
        {
            "original_path": "in.fin",
            "status": "rejected",
            "reason_codes": ["AC04"],
            "additional_information": ["account closed"],
            "message_id": "STS-001",
            "output_path": "out/pacs002.xml",
        },
        work_dir=inbox,
    )
    assert (result.status, result.original_end_to_end_id) == ("RJCT", "E2E04044506271305")  # type: ignore[union-attr]
    data = Path(result.path).read_bytes()  # type: ignore[union-attr]
    xmlschema.XMLSchema(str(XSD / "pacs.002.001.10.xsd")).validate(data)
    report = read_iso(data)
    assert report.transactions[0].reasons[0].additional_information == ["account closed"]
    accepted = run_skill(
        build_pacs002_file,
        {
            "original": {
                "message_id": "M1",
                "message_type": "pacs.008.001.08",
                "uetr": "174c245f-2682-4291-ad67-2a41e530cd27",
            },
            "status": "accepted",
            "message_id": "STS-002",
            "output_path": "out/ok.xml",
        },
        work_dir=inbox,
    )
    assert accepted.status == "ACSP"  # type: ignore[union-attr]
    with pytest.raises(BusinessError) as caught:
        run_skill(
            build_pacs002_file,
            {
                "original_path": "in.fin",
                "status": "rejected",
                "reason_codes": ["ZZ99"],
                "message_id": "S",
                "output_path": "x.xml",
            },
            work_dir=inbox,
        )
    assert caught.value.code == "cannot_build_message"
    with pytest.raises(BusinessError, match="holds 1 transfer"):
        run_skill(
            build_pacs002_file,
            {
                "original_path": "in.fin",
                "transaction_index": 3,
                "status": "accepted",
                "message_id": "S",
                "output_path": "x.xml",
            },
            work_dir=inbox,
        )


def test_read_reconciliation_counts_outcomes(inbox: Path) -> None:
    result = run_skill(read_reconciliation, {"path": "result.csv"}, work_dir=inbox)
    assert (result.count, result.total) == (4, Decimal("50014445.60"))  # type: ignore[union-attr]
    assert (result.settled_count, result.rejected_count, result.pending_count) == (2, 1, 1)  # type: ignore[union-attr]
    assert result.entries[2].reason_code == "AC04"  # type: ignore[union-attr]
    (inbox / "bad.csv").write_text(
        (inbox / "result.csv").read_text(encoding="utf-8").replace("TOTAL,4", "TOTAL,3"), encoding="utf-8"
    )
    with pytest.raises(MessageFormatError, match="TOTAL says 3 lines but the file has 4"):
        run_skill(read_reconciliation, {"path": "bad.csv"}, work_dir=inbox)
