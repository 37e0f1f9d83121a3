"""The chaos-test ledger, served by uvicorn in a subprocess."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from platforms_harness import wait_until

from examples.platforms.launch import run_platform


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> httpx.Client:
    with (
        run_platform("ledger", data_dir=tmp_path_factory.mktemp("ledger")) as handle,
        httpx.Client(base_url=handle.base_url, timeout=10) as client,
    ):
        yield client


def new_reference() -> str:
    return f"L-{uuid.uuid4().hex[:10]}"


def test_every_post_is_recorded_even_with_the_same_reference(ledger: httpx.Client) -> None:
    reference = new_reference()
    entry = {"reference": reference, "account": "ACC-1", "amount": "10.5"}

    first = ledger.post("/entries", json=entry)
    second = ledger.post("/entries", json=entry)

    assert (first.status_code, second.status_code) == (201, 201)
    ids = [first.json()["entry_id"], second.json()["entry_id"]]
    assert ids[0] != ids[1]
    listed = ledger.get(f"/entries/{reference}").json()
    assert [(e["entry_id"], e["account"], e["amount"]) for e in listed] == [
        (ids[0], "ACC-1", "10.50"),
        (ids[1], "ACC-1", "10.50"),
    ]
    assert {e["entry_id"] for e in ledger.get("/entries").json()} >= set(ids)


def test_an_unknown_reference_answers_404(ledger: httpx.Client) -> None:
    response = ledger.get(f"/entries/{new_reference()}")

    assert response.status_code == 404
    assert response.json()["detail"].startswith("No entry found for reference")


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"reference": "R", "account": "A", "amount": "-1"}, "amount"),
        ({"reference": "R", "account": "A", "amount": "1.001"}, "amount"),
        ({"reference": "", "account": "A", "amount": "1"}, "reference"),
        ({"reference": "R", "amount": "1"}, "account"),
        ({"reference": "R", "account": "A", "amount": "1", "note": "x"}, "note"),
    ],
)
def test_a_bad_entry_is_refused_with_the_field(
    ledger: httpx.Client, entry: dict[str, str], field: str
) -> None:
    response = ledger.post("/entries", json=entry)

    assert response.status_code == 422
    assert [error["loc"][-1] for error in response.json()["detail"]] == [field]


def test_a_slow_ledger_still_records_an_entry_whose_caller_gave_up(tmp_path: Path) -> None:
    reference = new_reference()
    with run_platform("ledger", data_dir=tmp_path, slow_ms=1500) as handle:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(
                f"{handle.base_url}/entries",
                json={"reference": reference, "account": "A", "amount": "1"},
                timeout=httpx.Timeout(5, read=0.3),
            )

        entries = wait_until(
            lambda: (
                (r := httpx.get(f"{handle.base_url}/entries/{reference}")).status_code == 200 and r.json()
            ),
            "the abandoned entry to be recorded",
        )

    assert len(entries) == 1
