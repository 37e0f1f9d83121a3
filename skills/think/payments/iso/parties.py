"""Parties, accounts and agents of ISO 20022 messages, to and from the normalized model."""

from __future__ import annotations

from lxml import etree

from skills.think.payments.iso.xmlnav import Node
from skills.think.payments.model import Account, Agent, Party, PartyIdentifier


def read_account(node: Node | None) -> Account | None:
    """``CashAccount`` (``Id/IBAN`` or ``Id/Othr/Id`` + ``Issr``, ``Ccy``)."""
    if node is None:
        return None
    iban = node.text("Id/IBAN")
    if iban:
        return Account(id=iban, scheme="iban", currency=node.text("Ccy"))
    other = node.text("Id/Othr/Id")
    if other is None:
        return None
    return Account(id=other, issuer=node.text("Id/Othr/Issr"), currency=node.text("Ccy"))


def _address(node: Node | None, target: Party | Agent) -> None:
    if node is None:
        return
    target.address_lines = node.texts("AdrLine")
    target.country = node.text("Ctry")
    if isinstance(target, Party):
        target.street_name = node.text("StrtNm")
        target.building_number = node.text("BldgNb")
        target.postal_code = node.text("PstCd")
        target.town = node.text("TwnNm")


def _identifiers(node: Node, path: str) -> list[PartyIdentifier]:
    found = []
    for other in node.children(path):
        value = other.text("Id")
        if value:
            scheme_cd, scheme_prtry = other.code_or_proprietary("SchmeNm")
            found.append(
                PartyIdentifier(value=value, scheme=scheme_cd or scheme_prtry, issuer=other.text("Issr"))
            )
    return found


def read_party(node: Node | None, account: Node | None = None) -> Party | None:
    """``PartyIdentification`` (Nm, PstlAdr, Id/OrgId|PrvtId) plus its account."""
    if node is None:
        return None
    inner = node.child("Pty") or node  # camt RltdPties wrap the party in Pty from version 08
    party = Party(name=inner.text("Nm"), account=read_account(account))
    _address(inner.child("PstlAdr"), party)
    organisation = inner.child("Id/OrgId")
    if organisation is not None:
        party.bic = organisation.text("AnyBIC") or organisation.text("BICOrBEI")
        if lei := organisation.text("LEI"):
            party.identifiers.append(PartyIdentifier(value=lei, scheme="LEI"))
        party.identifiers += _identifiers(organisation, "Othr")
    private = inner.child("Id/PrvtId")
    if private is not None:
        party.date_of_birth = private.date("DtAndPlcOfBirth/BirthDt")
        city = private.text("DtAndPlcOfBirth/CityOfBirth")
        if city:
            party.place_of_birth = f"{private.text('DtAndPlcOfBirth/CtryOfBirth') or ''}/{city}"
        party.identifiers += _identifiers(private, "Othr")
    return party


def read_agent(node: Node | None, account: Node | None = None) -> Agent | None:
    """``BranchAndFinancialInstitutionIdentification`` plus the agent's account."""
    if node is None:
        return None
    institution = node.child("FinInstnId") or node
    agent = Agent(
        bic=institution.text("BICFI") or institution.text("BIC"),
        member_id=institution.text("ClrSysMmbId/MmbId"),
        name=institution.text("Nm"),
        branch_id=node.text("BrnchId/Id"),
    )
    if agent.member_id:
        code, proprietary = institution.code_or_proprietary("ClrSysMmbId/ClrSysId")
        agent.clearing_system = code or proprietary
    _address(institution.child("PstlAdr"), agent)
    found = read_account(account)
    if found is not None:
        agent.account = found.id
    return agent


# ------------------------------------------------------------------------------------------ writing


def sub(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    """Append a child element in ``parent``'s namespace."""
    namespace = parent.tag[1:].split("}")[0] if parent.tag.startswith("{") else None
    child = etree.SubElement(parent, f"{{{namespace}}}{tag}" if namespace else tag, attributes)
    if text is not None:
        child.text = text
    return child


def write_account(parent: etree._Element, tag: str, account: Account | None) -> None:
    """``<tag><Id><IBAN>`` or ``<Id><Othr><Id>[<Issr>]`` (+ ``Ccy``)."""
    if account is None:
        return
    node = sub(parent, tag)
    ident = sub(node, "Id")
    if account.scheme == "iban":
        sub(ident, "IBAN", account.id)
    else:
        other = sub(ident, "Othr")
        sub(other, "Id", account.id)
        if account.issuer:
            sub(other, "Issr", account.issuer)
    if account.currency:
        sub(node, "Ccy", account.currency)


def write_address(parent: etree._Element, target: Party | Agent) -> None:
    """``PstlAdr`` in schema order (only the parts that are set)."""
    parts: list[tuple[str, str | None]] = []
    if isinstance(target, Party):
        parts += [
            ("StrtNm", target.street_name),
            ("BldgNb", target.building_number),
            ("PstCd", target.postal_code),
            ("TwnNm", target.town),
        ]
    parts.append(("Ctry", target.country))
    if not any(v for _, v in parts) and not target.address_lines:
        return
    address = sub(parent, "PstlAdr")
    for tag, value in parts:
        if value:
            sub(address, tag, value)
    for line in target.address_lines[:7]:
        sub(address, "AdrLine", line)


def write_party(parent: etree._Element, tag: str, party: Party | None) -> None:
    """A ``PartyIdentification135`` (pacs.008.001.08 layout)."""
    if party is None:
        return
    node = sub(parent, tag)
    if party.name:
        sub(node, "Nm", party.name)
    write_address(node, party)
    lei = [i for i in party.identifiers if i.scheme == "LEI"]
    others = [i for i in party.identifiers if i.scheme != "LEI"]
    private = party.date_of_birth is not None
    if party.bic or lei or others or private:
        ident = sub(node, "Id")
        if private:
            holder = sub(ident, "PrvtId")
            birth = sub(holder, "DtAndPlcOfBirth")
            sub(birth, "BirthDt", party.date_of_birth.isoformat())
            country, _, city = (party.place_of_birth or "/").partition("/")
            sub(birth, "CityOfBirth", city or "NOTPROVIDED")
            sub(birth, "CtryOfBirth", country or "XX")
        else:
            holder = sub(ident, "OrgId")
            if party.bic:
                sub(holder, "AnyBIC", party.bic)
            if lei:
                sub(holder, "LEI", lei[0].value)
        for item in others:
            other = sub(holder, "Othr")
            sub(other, "Id", item.value)
            if item.scheme:
                scheme = sub(other, "SchmeNm")
                sub(scheme, "Cd" if len(item.scheme) <= 4 and item.scheme.isupper() else "Prtry", item.scheme)
            if item.issuer:
                sub(other, "Issr", item.issuer)


def write_agent(parent: etree._Element, tag: str, agent: Agent | None) -> None:
    """A ``BranchAndFinancialInstitutionIdentification6`` (FinInstnId + BrnchId)."""
    if agent is None:
        return
    node = sub(parent, tag)
    institution = sub(node, "FinInstnId")
    if agent.bic:
        sub(institution, "BICFI", agent.bic)
    if agent.member_id:
        member = sub(institution, "ClrSysMmbId")
        if agent.clearing_system:
            system = sub(member, "ClrSysId")
            sub(system, "Cd" if len(agent.clearing_system) <= 5 else "Prtry", agent.clearing_system)
        sub(member, "MmbId", agent.member_id)
    if agent.name:
        sub(institution, "Nm", agent.name)
    write_address(institution, agent)
    if not (agent.bic or agent.member_id or agent.name):
        other = sub(institution, "Othr")
        sub(other, "Id", agent.account or "NOTPROVIDED")
    if agent.branch_id:
        branch = sub(node, "BrnchId")
        sub(branch, "Id", agent.branch_id)
