"""The cross-border RMB reporting platform, served by uvicorn in a subprocess."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from platforms_harness import page, text_of

from examples.platforms.launch import PlatformHandle


def new_record(**changes: object) -> dict[str, object]:
    record: dict[str, object] = {
        "reference": f"RPT{uuid.uuid4().hex[:12].upper()}",
        "uetr": str(uuid.uuid4()),
        "direction": "inbound",
        "amount": "250000.00",
        "currency": "CNY",
        "value_date": "2026-05-11",
        "payer_name": "HONG KONG TRADING LTD",
        "payer_account": "012345678901",
        "payer_country": "HK",
        "payee_name": "上海某某进出口有限公司",
        "payee_account": "31001234567890123",
        "payee_country": "CN",
        "purpose_code": "GDDS",
        "transaction_code": "121010",
        "bank_txn_no": "TXN-00000042",
    }
    return record | changes


def test_a_report_is_accepted_once_and_kept(reporting_client: httpx.Client) -> None:
    record = new_record()

    response = reporting_client.post("/api/reports", json=record)

    assert response.status_code == 201
    report_id = response.json()["report_id"]
    assert re.fullmatch(r"RPT-\d{8}", report_id)
    kept = reporting_client.get(f"/api/reports/{record['reference']}").json()
    assert kept == {
        **record,
        "report_id": report_id,
        "received_count": 1,
        "first_received_at": kept["first_received_at"],
        "last_received_at": kept["last_received_at"],
    }


def test_an_identical_repeat_answers_200_with_the_same_report_id(reporting_client: httpx.Client) -> None:
    record = new_record()
    first = reporting_client.post("/api/reports", json=record)

    # The same record, with the amount written differently and blanks around a name.
    repeat = reporting_client.post(
        "/api/reports", json=record | {"amount": 250000, "payer_name": " HONG KONG TRADING LTD"}
    )

    assert (first.status_code, repeat.status_code) == (201, 200)
    assert repeat.json() == first.json()
    assert reporting_client.get(f"/api/reports/{record['reference']}").json()["received_count"] == 2


def test_a_conflicting_repeat_is_refused_with_the_differences(reporting_client: httpx.Client) -> None:
    record = new_record()
    reporting_client.post("/api/reports", json=record).raise_for_status()

    conflict = reporting_client.post(
        "/api/reports", json=record | {"amount": "250000.01", "transaction_code": "122990"}
    )

    assert conflict.status_code == 409
    body = conflict.json()
    assert body["conflicts"] == {
        "amount": {"reported": "250000.00", "received": "250000.01"},
        "transaction_code": {"reported": "121010", "received": "122990"},
    }
    kept = reporting_client.get(f"/api/reports/{record['reference']}").json()
    assert (kept["amount"], kept["received_count"], kept["report_id"]) == ("250000.00", 1, body["report_id"])


@pytest.mark.parametrize(
    ("changes", "location", "message"),
    [
        ({"transaction_code": "12101"}, "transaction_code", "String should match pattern"),
        ({"transaction_code": "021010"}, "transaction_code", "String should match pattern"),
        ({"currency": "USD"}, "currency", "Input should be 'CNY'"),
        ({"uetr": "not-a-uetr"}, "uetr", "Input should be a valid UUID"),
        ({"amount": "1.234"}, "amount", "Decimal input should have no more than 2 decimal places"),
        ({"amount": "0"}, "amount", "Input should be greater than 0"),
        ({"value_date": "2026-13-01"}, "value_date", "Input should be a valid date"),
        ({"direction": "sideways"}, "direction", "Input should be 'inbound' or 'outbound'"),
        (
            {"payee_country": "HK"},
            "payee_country",
            "an inbound payment is paid into CN; found payee_country 'HK'",
        ),
        ({"payer_country": "CN"}, "payer_country", "an inbound payment is paid from abroad"),
        ({"payer_country": "hk"}, "payer_country", "String should match pattern"),
        ({"reference": ""}, "reference", "String should have at least 1 character"),
        ({"surprise": 1}, "surprise", "Extra inputs are not permitted"),
    ],
)
def test_an_invalid_record_is_refused_with_the_field_located(
    reporting_client: httpx.Client, changes: dict[str, object], location: str, message: str
) -> None:
    record = new_record(**changes)

    response = reporting_client.post("/api/reports", json=record)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", location]
    assert message in error["msg"]
    assert record["reference"] not in [
        report["reference"] for report in reporting_client.get("/api/reports").json()
    ]


def test_an_outbound_report_is_paid_from_china(reporting_client: httpx.Client) -> None:
    outbound = new_record(direction="outbound", payer_country="CN", payee_country="SG", uetr=None)

    assert reporting_client.post("/api/reports", json=outbound).status_code == 201
    wrong = reporting_client.post("/api/reports", json=new_record(direction="outbound"))
    assert wrong.status_code == 422
    assert [e["loc"][-1] for e in wrong.json()["detail"]] == ["payer_country", "payee_country"]


def test_missing_fields_are_all_reported_at_once(reporting_client: httpx.Client) -> None:
    response = reporting_client.post("/api/reports", json={"reference": "X1"})

    assert response.status_code == 422
    missing = {e["loc"][-1] for e in response.json()["detail"] if e["type"] == "missing"}
    assert missing == set(new_record()) - {"reference", "uetr"}


def test_reports_are_listed_in_json_and_html(reporting_client: httpx.Client) -> None:
    record = new_record(payee_name="深圳测试科技有限公司")
    reporting_client.post("/api/reports", json=record).raise_for_status()

    listed = reporting_client.get("/api/reports").json()
    table = page(reporting_client.get("/"))

    assert record["reference"] in [report["reference"] for report in listed]
    rows = [text_of(row, "./td") for row in table.xpath("//table[@id='reports']/tbody/tr")]
    [row] = [row for row in rows if row[1] == record["reference"]]
    assert row[2:6] == ["inbound", "250000.00", "CNY", "2026-05-11"]
    assert row[7] == "深圳测试科技有限公司 (CN)"


def test_an_unknown_reference_answers_404(reporting_client: httpx.Client) -> None:
    response = reporting_client.get("/api/reports/NOPE-1")

    assert response.status_code == 404
    assert response.json()["detail"] == "No report found for reference 'NOPE-1'"


def test_faults_hit_submissions_but_not_reads(reporting_client: httpx.Client) -> None:
    record = new_record()
    reporting_client.post("/_faults", json={"fail_next": 1}).raise_for_status()

    assert reporting_client.get("/api/reports").status_code == 200
    assert reporting_client.get("/health").status_code == 200
    assert reporting_client.post("/api/reports", json=record).status_code == 500
    assert reporting_client.get(f"/api/reports/{record['reference']}").status_code == 404
    assert reporting_client.post("/api/reports", json=record).status_code == 201


def test_a_retry_after_a_lost_answer_gets_the_same_report_id(reporting_client: httpx.Client) -> None:
    record = new_record()
    reporting_client.post("/_faults", json={"fail_next": 1, "fail_phase": "after"}).raise_for_status()

    lost = reporting_client.post("/api/reports", json=record)
    kept = reporting_client.get(f"/api/reports/{record['reference']}").json()
    retry = reporting_client.post("/api/reports", json=record)

    assert lost.status_code == 500
    assert lost.json() == {"detail": "Internal Server Error (injected fault)"}
    assert retry.status_code == 200
    assert retry.json()["report_id"] == kept["report_id"]


def test_health_names_the_platform(reporting: PlatformHandle) -> None:
    body = httpx.get(f"{reporting.base_url}/health").json()

    assert (body["platform"], body["pid"]) == ("reporting", reporting.process.pid)
