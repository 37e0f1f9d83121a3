"""The core banking portal, served by uvicorn in a subprocess and driven over HTTP."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from platforms_harness import (
    GOOD_CREDIT,
    free_port,
    module_process,
    new_reference,
    page,
    post_credit,
    text_of,
    wait_until,
)

from examples.platforms.launch import PlatformHandle, run_platform

# -- sign-in -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/credits/new", "/credits/lookup?reference=X"])
def test_signed_out_pages_redirect_to_login_with_the_way_back(portal: PlatformHandle, path: str) -> None:
    response = httpx.get(f"{portal.base_url}{path}")

    assert response.status_code == 303
    location = httpx.URL(response.headers["location"])
    assert location.path == "/login"
    assert location.params["next"] == path


def test_a_signed_out_post_is_not_recorded(portal: PlatformHandle) -> None:
    reference = new_reference()

    response = httpx.post(f"{portal.base_url}/credits", data={**GOOD_CREDIT, "reference": reference})

    assert response.status_code == 303
    assert httpx.URL(response.headers["location"]).params["next"] == "/credits/new"
    assert httpx.get(f"{portal.base_url}/api/credits/{reference}").status_code == 404


def test_login_page_has_the_contract_labels_and_button(portal: PlatformHandle) -> None:
    tree = page(httpx.get(f"{portal.base_url}/login"))

    labels = {label.text_content().strip(): label.get("for") for label in tree.xpath("//form//label")}
    assert labels == {"Username": "username", "Password": "password"}
    assert tree.xpath("//input[@id='password']/@type") == ["password"]
    assert text_of(tree, "//form//button[@type='submit']") == ["Sign in"]


def test_wrong_password_is_refused_with_an_alert(portal: PlatformHandle) -> None:
    response = httpx.post(f"{portal.base_url}/login", data={"username": "bot", "password": "nope"})

    assert response.status_code == 401
    assert text_of(page(response), "//*[@role='alert']") == ["Invalid username or password."]
    assert "portal_session" not in response.cookies


def test_signed_in_pages_name_the_user_and_offer_sign_out(portal: PlatformHandle) -> None:
    with httpx.Client(base_url=portal.base_url, follow_redirects=True) as client:
        home = client.post("/login", data={"username": "operator", "password": "operator-password"})
        assert home.url.path == "/"
        for path in ["/", "/credits/new", "/credits/lookup"]:
            tree = page(client.get(path))
            assert text_of(tree, "//*[@id='signed-in-as']") == ["Signed in as operator"], path
            assert tree.xpath("//a[normalize-space()='Sign out']/@href") == ["/logout"], path

        signed_out = client.get("/logout")
        assert signed_out.url.path == "/login"
        assert client.get("/credits/new").url.path == "/login"


def test_after_sign_in_the_user_lands_where_they_were_going(portal: PlatformHandle) -> None:
    with httpx.Client(base_url=portal.base_url) as client:
        response = client.post(
            "/login", data={"username": "bot", "password": "bot-password", "next": "/credits/lookup"}
        )
        assert response.headers["location"] == "/credits/lookup"
        outside = client.post(
            "/login", data={"username": "bot", "password": "bot-password", "next": "//evil.example/x"}
        )
        assert outside.headers["location"] == "/"


# -- posting credits ---------------------------------------------------------------------


def test_credit_form_has_the_contract_labels_options_and_button(portal_client: httpx.Client) -> None:
    tree = page(portal_client.get("/credits/new"))

    assert text_of(tree, "//h1") == ["Post inbound credit"]
    labels = [(label.text_content().strip(), label.get("for")) for label in tree.xpath("//form//label")]
    assert labels == [
        ("Account number", "account_number"),
        ("Beneficiary name", "beneficiary_name"),
        ("Amount", "amount"),
        ("Currency", "currency"),
        ("Reference", "reference"),
        ("Purpose code", "purpose_code"),
    ]
    for _, field_id in labels:
        assert len(tree.xpath(f"//form//*[@id='{field_id}' and @name='{field_id}']")) == 1
    assert tree.xpath("//select[@id='currency']/option/@value") == ["CNY", "USD", "EUR", "HKD", "GBP", "JPY"]
    assert text_of(tree, "//form//button[@type='submit']") == ["Post credit"]


def test_posting_a_credit_confirms_it_and_records_it(portal_client: httpx.Client) -> None:
    reference = new_reference()

    response = post_credit(portal_client, reference=reference, currency="HKD")

    assert response.status_code == 200
    tree = page(response)
    assert text_of(tree, "//h1") == ["Credit posted"]
    [txn_no] = text_of(tree, "//*[@id='txn-no']")
    assert re.fullmatch(r"TXN-\d{8}", txn_no)
    details = dict(zip(text_of(tree, "//dl/dt"), text_of(tree, "//dl/dd"), strict=True))
    assert details | {"Posted at": "?"} == {
        "Account number": "6222020200112233",
        "Beneficiary name": "张三 ZHANG SAN",
        "Amount": "1234.50",
        "Currency": "HKD",
        "Reference": reference,
        "Purpose code": "GDDS",
        "Posted at": "?",
    }
    [record] = portal_client.get(f"/api/credits/{reference}").json()
    assert record["txn_no"] == txn_no
    assert record["amount"] == "1234.50"
    assert (record["beneficiary_name"], record["currency"], record["posted_by"]) == (
        "张三 ZHANG SAN",
        "HKD",
        "bot",
    )
    assert record["posted_at"] == details["Posted at"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("account_number", "1234567", "Account number must be 8 to 32 digits; found '1234567'."),
        (
            "account_number",
            "6222 0202 0011",
            "Account number must be 8 to 32 digits; found '6222 0202 0011'.",
        ),
        ("account_number", "", "Account number is required."),
        ("beneficiary_name", "  ", "Beneficiary name is required."),
        (
            "amount",
            "12.345",
            "Amount must be a positive number with at most 2 decimal places, like 1234.56; found '12.345'.",
        ),
        (
            "amount",
            "1,234.00",
            "Amount must be a positive number with at most 2 decimal places, like 1234.56; found '1,234.00'.",
        ),
        (
            "amount",
            "-5",
            "Amount must be a positive number with at most 2 decimal places, like 1234.56; found '-5'.",
        ),
        ("amount", "0.00", "Amount must be greater than zero; found '0.00'."),
        ("currency", "RMB", "Currency must be one of CNY, USD, EUR, HKD, GBP, JPY; found 'RMB'."),
        ("reference", "", "Reference is required."),
        ("reference", "R" * 36, "Reference must be at most 35 characters; found 36."),
    ],
)
def test_an_invalid_field_is_reported_next_to_it_and_nothing_is_recorded(
    portal_client: httpx.Client, field: str, value: str, message: str
) -> None:
    reference = new_reference()
    fields = {"reference": reference, field: value}

    response = post_credit(portal_client, **fields)

    assert response.status_code == 422
    tree = page(response)
    assert text_of(tree, f"//*[@id='{field}-error' and @role='alert']") == [message]
    assert tree.xpath(f"//*[@id='{field}']/@aria-invalid") == ["true"]
    assert tree.xpath(f"//*[@id='{field}']/@aria-describedby") == [f"{field}-error"]
    if field != "reference":
        assert tree.xpath("//input[@id='reference']/@value") == [reference]  # typed values are kept
    assert portal_client.get("/api/credits", params={"reference": fields["reference"]}).json() == []


def test_a_duplicate_reference_is_recorded_twice_by_default(portal_client: httpx.Client) -> None:
    reference = new_reference()

    first = page(post_credit(portal_client, reference=reference))
    second = page(post_credit(portal_client, reference=reference))

    numbers = text_of(first, "//*[@id='txn-no']") + text_of(second, "//*[@id='txn-no']")
    assert len(set(numbers)) == 2
    assert [c["txn_no"] for c in portal_client.get(f"/api/credits/{reference}").json()] == numbers


def test_reject_duplicates_option_refuses_a_second_posting(tmp_path: Path) -> None:
    reference = new_reference()
    with (
        run_platform("portal", data_dir=tmp_path, reject_duplicates=True) as portal,
        httpx.Client(base_url=portal.base_url) as client,
    ):
        client.post("/login", data={"username": "bot", "password": "bot-password"})
        assert post_credit(client, reference=reference).status_code == 200

        refused = post_credit(client, reference=reference)

        assert refused.status_code == 409
        assert text_of(page(refused), "//*[@id='reference-error' and @role='alert']") == [
            "Reference already posted"
        ]
        assert len(client.get("/api/credits", params={"reference": reference}).json()) == 1


# -- lookup and API ----------------------------------------------------------------------


def test_lookup_lists_every_credit_with_the_reference(portal_client: httpx.Client) -> None:
    reference = new_reference()
    post_credit(portal_client, reference=reference, amount="10")
    post_credit(portal_client, reference=reference, amount="20.05", beneficiary_name="李四")

    tree = page(portal_client.get("/credits/lookup", params={"reference": reference}))

    assert text_of(tree, "//h1") == ["Look up credit"]
    assert [(label.text_content(), label.get("for")) for label in tree.xpath("//form//label")] == [
        ("Reference", "reference")
    ]
    assert text_of(tree, "//form//button") == ["Look up"]
    assert text_of(tree, "//table[@id='lookup-result']//th") == [
        "Transaction number",
        "Account number",
        "Beneficiary name",
        "Amount",
        "Currency",
        "Posted at",
    ]
    rows = [text_of(row, "./td") for row in tree.xpath("//table[@id='lookup-result']/tbody/tr")]
    assert [row[1:5] for row in rows] == [
        ["6222020200112233", "张三 ZHANG SAN", "10.00", "CNY"],
        ["6222020200112233", "李四", "20.05", "CNY"],
    ]
    assert all(re.fullmatch(r"TXN-\d{8}", row[0]) for row in rows)


def test_lookup_of_an_unknown_reference_says_no_credit_found(portal_client: httpx.Client) -> None:
    tree = page(portal_client.get("/credits/lookup", params={"reference": new_reference()}))

    assert text_of(tree, "//*[@id='lookup-empty']") == ["No credit found"]
    assert tree.xpath("//table[@id='lookup-result']") == []


def test_api_lists_credits_and_answers_404_for_an_unknown_reference(portal_client: httpx.Client) -> None:
    reference = f"{new_reference()}/A"  # SWIFT references may contain a slash
    post_credit(portal_client, reference=reference)

    assert [c["reference"] for c in portal_client.get(f"/api/credits/{reference}").json()] == [reference]
    assert reference in {c["reference"] for c in portal_client.get("/api/credits").json()}
    missing = portal_client.get(f"/api/credits/{new_reference()}")
    assert missing.status_code == 404
    assert "No credit found" in missing.json()["detail"]


def test_health_answers_with_the_serving_process(portal: PlatformHandle) -> None:
    body = httpx.get(f"{portal.base_url}/health").json()

    assert body == {
        "status": "ok",
        "platform": "portal",
        "pid": portal.process.pid,
        "store": str(portal.store_path),
    }


# -- command line ------------------------------------------------------------------------


def test_command_line_options_set_users_duplicates_and_faults(tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "portal.out"
    args = ["--port", str(port), "--data-dir", str(tmp_path), "--user", "alice:s3cret", "--reject-duplicates"]
    options = ["--fail-next", "1", "--slow-ms", "5"]
    with module_process("examples.platforms.portal", *args, *options, log=log) as process:
        base_url = f"http://127.0.0.1:{port}"

        def health() -> httpx.Response | None:
            assert process.poll() is None, log.read_text()
            try:
                return httpx.get(f"{base_url}/health")
            except httpx.TransportError:
                return None

        assert wait_until(health, "the portal to answer").json()["pid"] == process.pid
        faults = httpx.get(f"{base_url}/_faults").json()
        assert (faults["fail_next"], faults["slow_ms"]) == (1, 5)
        assert httpx.get(f"{base_url}/login").status_code == 500  # the one injected failure
        with httpx.Client(base_url=base_url) as client:
            assert client.post("/login", data={"username": "alice", "password": "s3cret"}).status_code == 303
            assert (
                client.post("/login", data={"username": "bot", "password": "bot-password"}).status_code == 401
            )
            reference = new_reference()
            assert post_credit(client, reference=reference).status_code == 200
            assert post_credit(client, reference=reference).status_code == 409
    assert (tmp_path / "portal.sqlite3").exists()


def test_bad_command_line_settings_exit_with_a_readable_error(tmp_path: Path) -> None:
    log = tmp_path / "portal.out"
    args = ["--data-dir", str(tmp_path), "--fail-rate", "2"]
    with module_process("examples.platforms.portal", *args, log=log) as process:
        assert process.wait(timeout=30) == 2
    error = log.read_text()
    assert "invalid settings: fail_rate: Input should be less than or equal to 1" in error
    assert "Traceback" not in error


def test_amounts_are_kept_as_exact_decimals(portal_client: httpx.Client) -> None:
    reference = new_reference()
    post_credit(portal_client, reference=reference, amount="99999999999999.99")

    [record] = portal_client.get(f"/api/credits/{reference}").json()

    assert Decimal(record["amount"]) == Decimal("99999999999999.99")
