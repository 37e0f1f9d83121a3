"""Parties and agents in MT fields (50a, 52a-58a, 59a), both ways.

Reading turns the option letter and lines of a field into a ``Party`` or ``Agent``; writing
chooses the option that carries the model's information (A when there is a BIC, F when there
are structured details, D for name and address, B/C for a bare account or clearing code).
The ``//CN`` style clearing codes of the party-identifier line map to ISO clearing system ids.
"""

from __future__ import annotations

import re
import textwrap
from datetime import date

from skills.think.payments.errors import MessageBuildError
from skills.think.payments.model import Account, Agent, Party, PartyIdentifier
from skills.think.payments.mt.envelope import MtField
from skills.think.payments.mt.fields import FORMATS, check_field, fail

MT_CLEARING_CODES = {
    "AT": "ATBLZ",
    "AU": "AUBSB",
    "BL": "DEBLZ",
    "CC": "CACPA",
    "CN": "CNAPS",
    "CP": "USPID",
    "ES": "ESNCC",
    "FW": "USABA",
    "GR": "GRBIC",
    "HK": "HKNCC",
    "IE": "IENCC",
    "IN": "INFSC",
    "IT": "ITNCC",
    "NZ": "NZNCC",
    "PL": "PLKNR",
    "PT": "PTNCC",
    "RU": "RUCBC",
    "SC": "GBDSC",
    "SW": "CHBCC",
    "TW": "TWNCC",
    "ZA": "ZANCC",
}
"""MT party-identifier clearing codes (``//CN...``) and the ISO clearing system id they mean."""
ISO_TO_MT_CLEARING = {iso: mt for mt, iso in MT_CLEARING_CODES.items()}

_MARKED = re.compile(r"^/([CD])/(.+)$")
_CLEARING = re.compile(r"^//([A-Z]{2})(.+)$")
_NUMBERED = re.compile(r"^([1-8])/(.*)$")


def _party_identifier(line: str) -> tuple[str | None, str | None, str | None, str | None]:
    """(mark, account, clearing system, member id) of a ``[/1!a][/34x]`` line."""
    if match := _MARKED.match(line):
        return match.group(1), match.group(2), None, None
    if (match := _CLEARING.match(line)) and match.group(1) in MT_CLEARING_CODES:
        return None, None, MT_CLEARING_CODES[match.group(1)], match.group(2)
    return None, line[1:], None, None


def read_agent(field: MtField) -> Agent:
    """An ``Agent`` from a 51A-58a field (options A, B, C, D)."""
    party_line, body = check_field(field, FORMATS[field.tag])
    agent = Agent()
    if party_line is not None:
        agent.account_mark, agent.account, agent.clearing_system, agent.member_id = _party_identifier(
            party_line
        )
    option = field.tag[-1]
    if option == "A":
        agent.bic = body[0]
    elif option == "B":
        agent.location = body[0].rstrip() if body else None
    elif option == "D":
        agent.name = body[0].rstrip()
        agent.address_lines = [line.rstrip() for line in body[1:]]
    return agent


def read_customer(field: MtField) -> Party:
    """A ``Party`` from 50A/F/K or 59/59A/59F."""
    party_line, body = check_field(field, FORMATS[field.tag])
    party = Party()
    if party_line is not None:
        if party_line.startswith("/"):
            party.account = Account(id=party_line[1:])
        else:
            scheme, issuer, value = party_line.split("/", 2)
            party.identifiers.append(PartyIdentifier(value=value, scheme=scheme, issuer=issuer))
    if field.tag.endswith("A"):
        party.bic = body[0]
    elif field.tag.endswith("F"):
        _read_numbered_lines(field, body, party, 1 if party_line is not None else 0)
    else:
        party.name = body[0].rstrip()
        party.address_lines = [line.rstrip() for line in body[1:]]
    return party


def _read_numbered_lines(field: MtField, body: list[str], party: Party, offset: int) -> None:
    allowed = "12345678" if field.tag == "50F" else "123"
    names: list[str] = []
    towns: list[str] = []
    previous = "0"
    for index, line in enumerate(body):
        match = _NUMBERED.match(line)
        if not match or match.group(1) not in allowed:
            raise fail(
                field,
                f"line must start with a line number {'/'.join(allowed)} and '/', found {line!r}",
                offset + index,
            )
        number, text = match.group(1), match.group(2).rstrip()
        if number != "8":
            if number < previous:
                raise fail(
                    field,
                    f"line {number}/ comes after {previous}/: line numbers must not decrease",
                    offset + index,
                )
            previous = number
        if not text:
            raise fail(field, f"line {number}/ is empty", offset + index)
        if number == "1":
            names.append(text)
        elif number == "2":
            party.address_lines.append(text)
        elif number == "3":
            country, _, town = text.partition("/")
            if not re.fullmatch(r"[A-Z]{2}", country):
                raise fail(
                    field, f"line 3/ must start with a 2-letter country code, found {text!r}", offset + index
                )
            if party.country and party.country != country:
                raise fail(field, "all 3/ lines must carry the same country code", offset + index)
            party.country = country
            if town:
                towns.append(town)
        elif number == "4":
            party.date_of_birth = _birth_date(field, text, offset + index)
        elif number == "5":
            party.place_of_birth = text
        elif number in "67":
            country, _, rest = text.partition("/")
            if number == "6":
                issuer, _, value = rest.partition("/")
                party.identifiers.append(
                    PartyIdentifier(value=value, scheme="CUST", issuer=f"{country}/{issuer}")
                )
            else:
                party.identifiers.append(PartyIdentifier(value=rest, scheme="NIDN", issuer=country))
        else:  # 8/ continues the identifier of 6/ or 7/
            if not party.identifiers or party.identifiers[-1].scheme not in ("CUST", "NIDN"):
                raise fail(field, "line 8/ must follow a 6/ or 7/ line", offset + index)
            party.identifiers[-1].value += text
    if not names:
        raise fail(field, f"{field.tag} needs a name on a line starting with 1/")
    party.name = " ".join(names)
    party.town = " ".join(towns) or None


def _birth_date(field: MtField, text: str, offset: int) -> date:
    problem = fail(field, f"line 4/ must be a birth date YYYYMMDD, found {text!r}", offset)
    if not re.fullmatch(r"[0-9]{8}", text):
        raise problem
    try:
        return date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    except ValueError as exc:
        raise problem from exc


# --------------------------------------------------------------------------------------- writing


def _party_identifier_line(agent: Agent) -> str | None:
    if agent.clearing_system and agent.member_id and agent.clearing_system in ISO_TO_MT_CLEARING:
        return f"//{ISO_TO_MT_CLEARING[agent.clearing_system]}{agent.member_id}"
    if agent.account:
        return f"/{agent.account_mark}/{agent.account}" if agent.account_mark else f"/{agent.account}"
    return None


def write_agent(base: str, agent: Agent, options: str) -> tuple[str, list[str]]:
    """(tag, lines) for an agent field ``base`` (e.g. ``"57"``) using one of ``options`` (e.g. ``"ABCD"``)."""
    party_line = _party_identifier_line(agent)
    lead = [party_line] if party_line else []
    if agent.bic and "A" in options:
        return f"{base}A", [*lead, agent.bic]
    if (agent.name or agent.address_lines) and "D" in options:
        return f"{base}D", [*lead, agent.name or "", *agent.address_lines]
    if agent.location and "B" in options:
        return f"{base}B", [*lead, agent.location]
    if party_line and "C" in options and party_line.startswith("/"):
        return f"{base}C", lead
    if party_line and "B" in options:
        return f"{base}B", lead
    raise MessageBuildError(
        f"field {base}a cannot carry this agent (options {options}): it needs a BIC, a name or an account"
    )


def write_customer(base: str, party: Party, options: str) -> tuple[str, list[str]]:
    """(tag, lines) for 50a (options ``AFK``) or 59a (options ``AF`` plus the letterless option)."""
    account_line = [f"/{party.account.id}"] if party.account else []
    real_ids = [item for item in party.identifiers if item.value != "NOTPROVIDED"]
    structured = bool(party.town or party.country or party.date_of_birth or party.place_of_birth or real_ids)
    if party.bic and not party.name and "A" in options:
        return f"{base}A", [*account_line, party.bic]
    if structured or (party.name and len(party.name) > 35) or any(len(a) > 35 for a in party.address_lines):
        return f"{base}F", _numbered_lines(base, party, account_line)
    letterless = "K" if base == "50" else ""
    return f"{base}{letterless}", [*account_line, party.name or "", *party.address_lines]


def _numbered_lines(base: str, party: Party, account_line: list[str]) -> list[str]:
    lines = list(account_line)
    # "NOTPROVIDED" is the CBPR+ placeholder for an absent id: nothing to carry.
    identifiers = [item for item in party.identifiers if item.value != "NOTPROVIDED"]
    if not lines:
        for item in identifiers:
            if item.scheme not in ("CUST", "NIDN") and item.scheme and item.issuer:
                lines.append(f"{item.scheme}/{item.issuer}/{item.value}")
                identifiers.remove(item)
                break
    if not lines and base == "50":
        lines.append(
            "/NOTPROVIDED"
        )  # 50F needs a party identifier line; CBPR+ writes this when there is none
    lines += [f"1/{chunk}" for chunk in textwrap.wrap(party.name or "", 33)]
    lines += [f"2/{chunk}" for address in party.address_lines for chunk in textwrap.wrap(address, 33)]
    if party.country:
        lines += [
            f"3/{chunk}"
            for chunk in textwrap.wrap(f"{party.country}/{party.town}" if party.town else party.country, 33)
        ]
    if party.date_of_birth:
        lines.append(f"4/{party.date_of_birth:%Y%m%d}")
    if party.place_of_birth:
        lines.append(f"5/{party.place_of_birth}")
    for item in identifiers:
        if item.scheme == "CUST" and item.issuer:
            text = f"6/{item.issuer}/{item.value}"
        elif item.scheme == "NIDN" and item.issuer:
            text = f"7/{item.issuer}/{item.value}"
        else:
            raise MessageBuildError(f"{base}F cannot carry the identifier {item.scheme}/{item.value}")
        lines += [text[:35]] + [f"8/{text[35 + i : 35 + i + 33]}" for i in range(0, len(text) - 35, 33)]
    return lines
