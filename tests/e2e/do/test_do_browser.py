"""Browser skills against the example core-banking portal, in real Chromium."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy
import pytest
from do_e2e_harness import EvidenceDir, SkillLoop
from PIL import Image

from skills import BusinessError, PlatformInfo, TechnicalError
from skills.do.browser import (
    browser_click,
    browser_fill_form,
    browser_open,
    browser_read_text,
    browser_submit_form,
)
from skills.do.browser.actions import MASK_COLOR
from skills.do.browser.service import PlatformSession

pytestmark = pytest.mark.e2e

SECRETS = {"portal_password": "bot-password"}
FIRST_ROW = "#lookup-result tbody tr:first-child"


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory, skill_loop: SkillLoop) -> Iterator[str]:
    from examples.platforms.launch import run_platform

    with run_platform("portal", data_dir=tmp_path_factory.mktemp("portal")) as handle:
        assert handle.base_url is not None
        yield handle.base_url


def platform(base_url: str, name: str = "portal", **login: Any) -> PlatformInfo:
    return PlatformInfo(
        name,
        {
            "base_url": base_url,
            "login": {"username": "bot", "password_secret": "portal_password", **login},
            "timeout_seconds": 5,
        },
    )


def credit(reference: str, **fields: str) -> dict[str, Any]:
    return {
        "url": "/credits/new",
        "fields": {
            "Account number": "6222020200112233",
            "Beneficiary name": "张三 Zhang San",
            "Amount": "1250.50",
            "Currency": "CNY",
            "Reference": reference,
            "Purpose code": "SALA",
            **fields,
        },
        "sensitive": ["Account number"],
        "submit": "Post credit",
        "expect": {"text": "Credit posted"},
        "read": {"txn_no": "#txn-no"},
        "reference": reference,
        "lookup": {
            "url": "/credits/lookup?reference={reference}",
            "found_selector": "#lookup-result",
            "not_found_text": "No credit found",
            "read": {"txn_no": f"{FIRST_ROW} td:nth-child(1)"},
        },
    }


def new_reference() -> str:
    return f"E2E{uuid.uuid4().hex[:12].upper()}"


def stored(base_url: str, reference: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{base_url}/api/credits/{reference}")
    if response.status_code == 404:  # the portal's API answers 404 for a reference it never saw
        return []
    response.raise_for_status()
    return response.json()


def inject(base_url: str, **faults: Any) -> None:
    httpx.post(f"{base_url}/_faults", json=faults).raise_for_status()


def open_session(skill_loop: SkillLoop, name: str) -> PlatformSession:
    """The browser service's session for platform ``name`` (on the skill loop)."""

    async def find() -> PlatformSession | None:
        return skill_loop.pool.get("browser").open_session(name)

    session = skill_loop.run(find())
    assert session is not None, f"no browser session for {name}"
    return session


def on_portal(skill_loop: SkillLoop, base_url: str, func: Any, params: dict[str, Any], **context: Any) -> Any:
    """Call a browser skill on the portal, signed in as the bot."""
    return skill_loop.call(func, params, platform=platform(base_url), secrets=SECRETS, **context)


def post(skill_loop: SkillLoop, base_url: str, params: dict[str, Any], **context: Any) -> Any:
    return on_portal(skill_loop, base_url, browser_submit_form, params, **context)


def verify(skill_loop: SkillLoop, base_url: str, params: dict[str, Any]) -> Any:
    return skill_loop.verify(browser_submit_form, params, platform=platform(base_url), secrets=SECRETS)


def session_logins(skill_loop: SkillLoop, name: str = "portal") -> int:
    return open_session(skill_loop, name).logins


def test_posts_a_credit_that_the_portal_stores(skill_loop: SkillLoop, portal: str) -> None:
    reference = new_reference()
    result = post(skill_loop, portal, credit(reference))
    assert re.fullmatch(r"TXN-\d{8}", result.values["txn_no"])
    assert result.found_by_lookup is False
    [record] = stored(portal, reference)
    assert record["txn_no"] == result.values["txn_no"]
    assert record["beneficiary_name"] == "张三 Zhang San"
    assert record["amount"] == "1250.50"
    assert record["account_number"] == "6222020200112233"


def test_reuses_one_signed_in_context_across_items(skill_loop: SkillLoop, portal: str) -> None:
    post(skill_loop, portal, credit(new_reference()))
    before = session_logins(skill_loop)
    for _ in range(3):
        post(skill_loop, portal, credit(new_reference()))
    assert session_logins(skill_loop) == before


def test_expired_session_signs_in_again_and_posts_once(skill_loop: SkillLoop, portal: str) -> None:
    skill_loop.call(browser_open, {"url": "/"}, platform=platform(portal), secrets=SECRETS)
    before = session_logins(skill_loop)
    inject(portal, expire_sessions=True)
    reference = new_reference()
    result = post(skill_loop, portal, credit(reference))
    assert session_logins(skill_loop) == before + 1
    assert [r["txn_no"] for r in stored(portal, reference)] == [result.values["txn_no"]]


def test_session_expiring_on_the_submit_is_looked_up_then_posted_once(
    skill_loop: SkillLoop, portal: str
) -> None:
    skill_loop.call(browser_open, {"url": "/"}, platform=platform(portal), secrets=SECRETS)
    before = session_logins(skill_loop)
    context = open_session(skill_loop, "portal").context
    expired_posts = []

    async def expire_then_post(route: Any) -> None:
        # The session dies between filling the form and posting it: the portal sends the post
        # back to its login page, so the skill must sign in, look up, and post once.
        if route.request.method == "POST" and not expired_posts:
            expired_posts.append(route.request.url)
            async with httpx.AsyncClient() as client:
                (await client.post(f"{portal}/_faults", json={"expire_sessions": True})).raise_for_status()
        await route.continue_()

    requested: list[str] = []

    def note(request: Any) -> None:
        requested.append(f"{request.method} {request.url.removeprefix(portal)}")

    async def watch() -> None:
        context.on("request", note)
        await context.route("**/credits", expire_then_post)

    async def unwatch() -> None:
        context.remove_listener("request", note)
        await context.unroute("**/credits", expire_then_post)

    reference = new_reference()
    skill_loop.run(watch())
    try:
        result = post(skill_loop, portal, credit(reference))
    finally:
        skill_loop.run(unwatch())
    assert expired_posts == [f"{portal}/credits"]
    posts = [i for i, line in enumerate(requested) if line == "POST /credits"]
    lookups = [i for i, line in enumerate(requested) if line == f"GET /credits/lookup?reference={reference}"]
    assert len(posts) == 2
    assert len(lookups) == 1
    assert posts[0] < lookups[0] < posts[1]  # looked up before posting again
    assert session_logins(skill_loop) == before + 1
    assert result.found_by_lookup is False
    assert [r["txn_no"] for r in stored(portal, reference)] == [result.values["txn_no"]]


def test_http_500_is_technical_and_the_retry_posts_once(
    skill_loop: SkillLoop, portal: str, evidence: EvidenceDir
) -> None:
    reference = new_reference()
    inject(portal, fail_next=1)
    with pytest.raises(TechnicalError, match="HTTP 500") as failure:
        post(skill_loop, portal, credit(reference), evidence=evidence)
    assert failure.value.applied is False  # the form page failed: nothing was submitted
    assert Path(failure.value.details["evidence"]).is_file()
    assert stored(portal, reference) == []
    # What the engine does next: verify (nothing there), then the retry.
    assert verify(skill_loop, portal, credit(reference)) is None
    result = skill_loop.call(
        browser_submit_form, credit(reference), platform=platform(portal), secrets=SECRETS, attempt=2
    )
    assert [r["txn_no"] for r in stored(portal, reference)] == [result.values["txn_no"]]


def test_validation_message_is_a_business_error(
    skill_loop: SkillLoop, portal: str, evidence: EvidenceDir
) -> None:
    reference = new_reference()
    params = credit(reference, **{"Account number": "12AB", "Amount": "10.555"})
    with pytest.raises(BusinessError) as failure:
        post(skill_loop, portal, params, evidence=evidence)
    assert failure.value.code == "platform_validation"
    assert len(failure.value.details["alerts"]) == 2
    assert "rejected the input" in failure.value.message
    assert stored(portal, reference) == []
    assert len(evidence.saved) == 1


def test_wrong_password_is_refused_with_the_portal_message(skill_loop: SkillLoop, portal: str) -> None:
    with pytest.raises(BusinessError) as failure:
        skill_loop.call(
            browser_open, {"url": "/"}, platform=platform(portal, name="portal-bad-password"),
            secrets={"portal_password": "wrong"},
        )  # fmt: skip
    assert failure.value.code == "login_refused"
    assert "'bot'" in failure.value.message


def test_verify_finds_an_earlier_posting_and_none_when_absent(skill_loop: SkillLoop, portal: str) -> None:
    reference = new_reference()
    assert verify(skill_loop, portal, credit(reference)) is None
    posted = post(skill_loop, portal, credit(reference))
    found = verify(skill_loop, portal, credit(reference))
    assert found is not None
    assert found.found_by_lookup is True
    assert found.values == posted.values
    assert len(stored(portal, reference)) == 1


def _box(image: Image.Image, box: dict[str, float]) -> set[tuple[int, int, int]]:
    """The distinct colours inside a field's box (2 px in from its border)."""
    left, top = int(box["x"]) + 2, int(box["y"]) + 2
    right, bottom = int(box["x"] + box["width"]) - 2, int(box["y"] + box["height"]) - 2
    pixels = numpy.asarray(image.convert("RGB").crop((left, top, right, bottom))).reshape(-1, 3)
    return {tuple(int(v) for v in pixel) for pixel in numpy.unique(pixels, axis=0)}


def _current_page_boxes(skill_loop: SkillLoop, name: str, labels: list[str]) -> list[dict[str, float]]:
    session = open_session(skill_loop, name)

    async def boxes() -> list[dict[str, float]]:
        async with session.page() as page:  # the page the failed step left behind
            return [await page.get_by_label(label, exact=True).bounding_box() for label in labels]

    return skill_loop.run(boxes())


def test_expect_miss_keeps_a_screenshot_with_the_password_masked(
    skill_loop: SkillLoop, portal: str, evidence: EvidenceDir
) -> None:
    open_portal = PlatformInfo("portal-without-login", {"base_url": portal, "timeout_seconds": 5})
    params = {
        "url": "/login",
        "fields": {"Username": "bot", "Password": "bot-password"},
        "expect": {"text": "Welcome aboard", "timeout_seconds": 0.5},
    }
    with pytest.raises(TechnicalError, match="expected the text 'Welcome aboard'") as failure:
        skill_loop.call(browser_fill_form, params, platform=open_portal, evidence=evidence)
    [ref] = evidence.saved
    assert failure.value.details["evidence"] == ref.path
    assert hashlib.sha256(Path(ref.path).read_bytes()).hexdigest() == ref.sha256
    shot = Image.open(ref.path)
    password_box, username_box = _current_page_boxes(
        skill_loop, "portal-without-login", ["Password", "Username"]
    )
    mask = Image.new("RGB", (1, 1), MASK_COLOR).getpixel((0, 0))
    assert _box(shot, password_box) == {mask}
    assert mask not in _box(shot, username_box)  # only what is secret is painted over


def test_fields_declared_sensitive_are_masked_too(
    skill_loop: SkillLoop, portal: str, evidence: EvidenceDir
) -> None:
    params = {
        "url": "/credits/new",
        "fields": {"Account number": "6222020200112233", "Amount": "12.00"},
        "sensitive": ["Account number"],
        "expect": {"field": "Amount", "value": "99.00", "timeout_seconds": 0.5},
    }
    with pytest.raises(TechnicalError, match=re.escape("the field 'Amount' holding '99.00'")):
        on_portal(skill_loop, portal, browser_fill_form, params, evidence=evidence)
    shot = Image.open(evidence.saved[0].path)
    account_box, amount_box = _current_page_boxes(skill_loop, "portal", ["Account number", "Amount"])
    mask = Image.new("RGB", (1, 1), MASK_COLOR).getpixel((0, 0))
    assert _box(shot, account_box) == {mask}
    assert mask not in _box(shot, amount_box)


def test_fill_form_click_and_read_text_on_the_lookup_page(skill_loop: SkillLoop, portal: str) -> None:
    reference = new_reference()
    posted = post(skill_loop, portal, credit(reference))
    searched = skill_loop.call(
        browser_fill_form,
        {
            "url": "/credits/lookup",
            "fields": {"Reference": reference},
            "submit": "Look up",
            "expect": {"selector": "#lookup-result", "text": "Zhang San"},
            "read": {"amount": f"{FIRST_ROW} td:nth-child(4)", "typed": "label:Reference"},
        },
        platform=platform(portal),
        secrets=SECRETS,
    )
    assert searched.values == {"amount": "1250.50", "typed": reference}
    text = on_portal(skill_loop, portal, browser_read_text, {"selector": f"{FIRST_ROW} td:nth-child(1)"})
    assert text.text == posted.values["txn_no"]
    clicked = skill_loop.call(
        browser_click,
        {"link": "Post inbound credit", "navigates": True, "expect": {"field": "Amount", "value": ""}},
        platform=platform(portal),
        secrets=SECRETS,
    )
    assert clicked.url.endswith("/credits/new")


def test_a_missing_platform_config_key_is_a_located_business_error(skill_loop: SkillLoop) -> None:
    broken = PlatformInfo("portal", {"base_url": "ftp://example", "login": {"username": "bot"}})
    with pytest.raises(BusinessError) as failure:
        skill_loop.call(browser_open, {"url": "/"}, platform=broken)
    assert failure.value.code == "platform_misconfigured"
    assert "base_url" in failure.value.message
    assert "login.password_secret" in failure.value.message


def test_a_missing_label_is_technical_and_lists_the_labels_on_the_page(
    skill_loop: SkillLoop, portal: str
) -> None:
    impatient = platform(portal, name="portal-impatient")
    impatient = PlatformInfo(impatient.name, {**impatient.config, "timeout_seconds": 1})
    with pytest.raises(TechnicalError) as failure:
        skill_loop.call(
            browser_fill_form, {"url": "/credits/new", "fields": {"Amout": "1.00"}}, platform=impatient,
            secrets=SECRETS,
        )  # fmt: skip
    assert "'Amout'" in failure.value.message
    assert "labels there: 'Account number', 'Beneficiary name', 'Amount'" in failure.value.message
    assert failure.value.applied is False
