"""Routing: every reason is reported, rules load from YAML with located errors, the skills work."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from checks_data import shared_file

from orchestrator.registry import SkillRegistry
from skills.testing import run_skill, service_pool
from skills.think.check_skills import (
    check_amount,
    route_payment,
    sanctions_list,
    screen_names,
    validate_identifiers,
)
from skills.think.checks.routing import IdentifierToCheck, PartyName, PaymentFacts
from skills.think.checks.routing import route_payment as decide
from skills.think.checks.routing_rules import RoutingRulesError, load_routing_rules, parse_routing_rules
from skills.think.checks.screening import Screener

REPO = Path(__file__).resolve().parents[4]
RULES_FILE = REPO / "config/routing.yaml"
MORNING = datetime(2025, 3, 4, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
EVENING = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)  # 18:30 in Shanghai


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener.from_path(shared_file("sanctions/moov-io-watchman/ofac-full-snapshot/sdn.csv").parent)


def clean_payment(**changes: object) -> PaymentFacts:
    fields: dict[str, object] = {
        "reference": "HVPS20250304000001",
        "amount": Decimal("12345.67"),
        "amount_in_words": "人民币壹万贰仟叁佰肆拾伍元陆角柒分",
        "clearing_system": "HVPS",
        "identifiers": [IdentifierToCheck("cnaps", "102100099996", "creditor_agent")],
        "names": [PartyName("creditor", "Ningbo Jinlong Textile Co Ltd")],
    }
    fields.update(changes)
    return PaymentFacts(**fields)  # type: ignore[arg-type]


def test_the_example_rules_file_loads() -> None:
    rules = load_routing_rules(RULES_FILE)
    assert rules.four_eyes_threshold == Decimal("1000000.00")
    assert rules.cutoffs["HVPS"].hour == 17
    assert rules.cross_border.cnaps_business_kinds[0] == "02112"  # stays a string, not the int 2112


def test_clean_payment_goes_straight_through(screener: Screener) -> None:
    decision = decide(clean_payment(), load_routing_rules(RULES_FILE), now=MORNING, screener=screener)
    assert decision.route == "stp", decision.reasons
    assert decision.reasons == ()


def test_every_applicable_reason_is_listed(screener: Screener) -> None:
    facts = clean_payment(
        amount=Decimal("2000000.00"),
        amount_in_words="人民币贰佰万零壹元整",
        identifiers=[IdentifierToCheck("cnaps", "102100099997", "creditor_agent")],
        names=[PartyName("creditor", "Banco Nacional de Cuba")],
        clearing_system="CIPS",
        reference="DUP-1",
    )
    decision = decide(
        facts,
        load_routing_rules(RULES_FILE),
        now=EVENING,
        screener=screener,
        seen_reference={"DUP-1"}.__contains__,
    )
    assert decision.route == "manual"
    assert set(decision.codes) == {
        "amount_words_mismatch",
        "invalid_identifier",
        "screening_hit",
        "four_eyes",
        "missing_purpose",
        "missing_reporting_code",
        "cutoff_passed",
        "duplicate_reference",
    }
    hit = next(r for r in decision.reasons if r.code == "screening_hit")
    assert "306" in hit.message
    assert "CUBA" in hit.message
    assert decision.cross_border


def test_reporting_code_and_purpose_rules() -> None:
    rules = load_routing_rules(RULES_FILE)
    cross = {"names": [], "cross_border": True, "purpose": "货物贸易 goods"}
    ok = decide(clean_payment(**cross, reporting_code="121010"), rules, now=MORNING)
    assert ok.route == "stp", ok.reasons
    bad = decide(clean_payment(**cross, reporting_code="12101"), rules, now=MORNING)
    assert bad.codes == ("invalid_reporting_code",)
    by_kind = decide(clean_payment(names=[], business_kind="02112"), rules, now=MORNING)
    assert set(by_kind.codes) == {"missing_purpose", "missing_reporting_code"}


def test_unscreened_names_and_bad_amounts_go_to_a_person() -> None:
    rules = load_routing_rules(RULES_FILE)
    unscreened = decide(clean_payment(), rules, now=MORNING)
    assert unscreened.codes == ("screening_unavailable",)
    bad = decide(
        clean_payment(names=[], amount="12,34x", amount_in_words=None, currency="USD"), rules, now=MORNING
    )
    assert set(bad.codes) == {"invalid_amount", "currency_not_processed"}
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(clean_payment(), rules, now=datetime(2025, 3, 4, 10, 0))


def test_cutoff_is_compared_in_the_rules_time_zone() -> None:
    rules = load_routing_rules(RULES_FILE)
    just_before = datetime(2025, 3, 4, 8, 59, tzinfo=UTC)  # 16:59 Shanghai
    just_after = datetime(2025, 3, 4, 9, 1, tzinfo=UTC)  # 17:01 Shanghai
    assert "cutoff_passed" not in decide(clean_payment(names=[]), rules, now=just_before).codes
    assert "cutoff_passed" in decide(clean_payment(names=[]), rules, now=just_after).codes
    assert decide(clean_payment(names=[], clearing_system="IBPS"), rules, now=just_after).route == "stp"


def test_invalid_rules_name_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(
        "four_eyes_threshold: lots\ncutoffs:\n  HVPS: 25:00\nscreening:\n  treshold: 80\n", "utf-8"
    )
    with pytest.raises(RoutingRulesError) as caught:
        load_routing_rules(path)
    text = str(caught.value)
    assert f"{path}:1:22 four_eyes_threshold" in text
    assert f"{path}:3:9 cutoffs.HVPS" in text
    assert "screening.treshold" in text
    assert len(caught.value.diagnostics) == 3
    with pytest.raises(RoutingRulesError, match="cannot read file"):
        load_routing_rules(tmp_path / "missing.yaml")
    with pytest.raises(RoutingRulesError, match="expected a mapping"):
        parse_routing_rules("- just\n- a list\n")


def test_skills_are_registered_and_run(screener: Screener) -> None:
    registry = SkillRegistry.from_functions([])
    registry.add_module_by_name("skills.think")  # what the rpa.skills entry point "think" loads
    for skill_id in (
        "think.check_amount",
        "think.validate_identifiers",
        "think.screen_names",
        "think.route_payment",
    ):
        assert skill_id in registry
        assert registry.get(skill_id).effect == "none"  # type: ignore[union-attr]
    amount = run_skill(check_amount, {"words": "人民币壹仟元整", "figure": "1000.00"})
    assert amount.outcome == "match"  # type: ignore[union-attr]
    ids = run_skill(validate_identifiers, {"identifiers": [{"kind": "cnaps", "value": "102100099996"}]})
    assert ids.all_valid  # type: ignore[union-attr]
    pool = service_pool([sanctions_list])
    pool.provide("sanctions_list", screener)
    screened = run_skill(screen_names, {"names": ["Banco Nacional de Cuba", "Mary Johnson"]}, services=pool)
    assert screened.hit  # type: ignore[union-attr]
    assert {h.uid for h in screened.hits} == {"306"}  # type: ignore[union-attr]
    routed = run_skill(
        route_payment,
        {
            "reference": "R1",
            "amount": "1000.00",
            "amount_in_words": "人民币壹仟元整",
            "clearing_system": "HVPS",
            "names": [{"role": "creditor", "name": "Mary Johnson"}],
            "seen_references": ["R1"],
            "now": "2025-03-04T10:00:00+08:00",
        },
        services=pool,
    )
    assert routed.route == "manual"  # type: ignore[union-attr]
    assert [r.code for r in routed.reasons] == ["duplicate_reference"]  # type: ignore[union-attr]


def test_sanctions_list_service_reads_the_configured_path(tmp_path: Path) -> None:
    row = '1,"EXAMPLE SANCTIONED TRADING",-0- ,"TEST",' + "-0- ," * 7 + "-0- \n"
    (tmp_path / "sdn.csv").write_text(row, encoding="utf-8")
    pool = service_pool([sanctions_list], {"sanctions_list_path": str(tmp_path)})
    result = run_skill(screen_names, {"names": ["Example Sanctioned Trading Ltd"]}, services=pool)
    assert result.hits[0].programs == ["TEST"]  # type: ignore[union-attr]
    broken = service_pool([sanctions_list], {"sanctions_list_path": str(tmp_path / "nowhere")})
    from skills import TechnicalError

    with pytest.raises(TechnicalError, match="sanctions list unavailable"):
        run_skill(screen_names, {"names": ["x"]}, services=broken)
