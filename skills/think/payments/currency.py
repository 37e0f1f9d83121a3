"""ISO 4217 currency codes and their minor units, for amount checks in every reader.

The list is ISO 4217 as published in 2026 plus codes withdrawn recently that still appear in
archived messages (BGN, HRK, SLL, ZWL...). ``None`` minor units means "not applicable" (metals,
testing and fund codes): no decimal rule is enforced for those.
"""

from __future__ import annotations

from decimal import Decimal

_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
_NOT_APPLICABLE = "XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX XAD"
_TWO = (
    "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF "
    "CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD "
    "GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL "
    "MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR "
    "PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP "
    "TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG "
    # withdrawn, still seen in archives
    "BGN HRK SLL ZWL VEF CUC MRO STD BYR LTL LVL EEK"
)

MINOR_UNITS: dict[str, int | None] = {
    **{code: 2 for code in _TWO.split()},
    **{code: 0 for code in _ZERO.split()},
    **{code: 3 for code in _THREE.split()},
    **{code: 4 for code in _FOUR.split()},
    **{code: None for code in _NOT_APPLICABLE.split()},
}


def is_known_currency(code: str) -> bool:
    """True for an ISO 4217 code this project knows."""
    return code in MINOR_UNITS


def decimals_problem(currency: str, value: Decimal) -> str | None:
    """Why ``value`` has too many decimals for ``currency`` (``None`` when it is fine)."""
    if currency not in MINOR_UNITS:
        return f"currency {currency!r} is not an ISO 4217 code"
    allowed = MINOR_UNITS[currency]
    if allowed is None:
        return None
    exponent = value.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if places > allowed:
        return f"{currency} allows {allowed} decimal places, found {places} in {value}"
    return None


def to_minor_units(currency: str, value: Decimal) -> Decimal:
    """``value`` with exactly the currency's decimal places (unchanged when not applicable).

    Callers check ``decimals_problem`` first, so this never rounds.
    """
    places = MINOR_UNITS.get(currency)
    if places is None:
        return value
    return value.quantize(Decimal(1).scaleb(-places))
