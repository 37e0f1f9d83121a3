"""Namespace-agnostic reading of ISO 20022 (and CNAPS) XML: ``Node`` and typed value getters.

ISO 20022 versions differ in namespace but mostly not in element names, so readers address
elements by local name (``node.text("PmtId/EndToEndId")``). Typed getters (``amount``, ``date``,
``datetime``, ``decimal``) raise ``MessageFormatError`` at the element's XPath and line, so a
document read without a bundled XSD still fails with a located reason.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from lxml import etree

from skills.think.payments.currency import decimals_problem, to_minor_units
from skills.think.payments.errors import MessageFormatError
from skills.think.payments.model import Amount
from skills.think.payments.safe_xml import element_path, local_name, located

_DECIMAL = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
"""xs:decimal as ISO 20022 amounts use it: no exponent (and at most 18 digits, checked beside it)."""


def _wild(path: str) -> str:
    return "/".join(f"{{*}}{step}" for step in path.split("/"))


class Node:
    """A thin wrapper over an lxml element that finds children by local name."""

    __slots__ = ("element",)

    def __init__(self, element: etree._Element) -> None:
        self.element = element

    @property
    def name(self) -> str:
        """Local name of the element."""
        return local_name(self.element)

    @property
    def where(self) -> str:
        """``XPath (line N)`` of this element, for positions and messages."""
        return f"{element_path(self.element)} (line {self.element.sourceline})"

    def child(self, path: str) -> Node | None:
        """The first element at ``path`` (``A/B/C`` by local names), or ``None``."""
        found = self.element.find(_wild(path))
        return Node(found) if found is not None else None

    def children(self, path: str) -> list[Node]:
        """All elements at ``path``."""
        return [Node(e) for e in self.element.findall(_wild(path))]

    def elements(self) -> list[Node]:
        """Direct child elements (comments and processing instructions skipped)."""
        return [Node(e) for e in self.element if isinstance(e.tag, str)]

    def text(self, path: str | None = None) -> str | None:
        """Stripped text at ``path`` (or of this element); ``None`` when absent or empty."""
        node = self.child(path) if path else self
        if node is None:
            return None
        value = (node.element.text or "").strip()
        return value or None

    def texts(self, path: str) -> list[str]:
        """Stripped texts of all elements at ``path`` (empty ones skipped)."""
        return [t for node in self.children(path) if (t := node.text())]

    def required(self, path: str) -> Node:
        """The element at ``path``; a ``MessageFormatError`` at this element when it is missing."""
        node = self.child(path)
        if node is None:
            raise MessageFormatError(f"mandatory element {path} is missing", located(self.element))
        return node

    def required_text(self, path: str) -> str:
        """The text at ``path``, which must be present and non-empty."""
        node = self.required(path)
        value = node.text()
        if value is None:
            raise MessageFormatError(f"element {path} is empty", located(node.element))
        return value

    def fail(self, reason: str) -> MessageFormatError:
        """A ``MessageFormatError`` located at this element."""
        return MessageFormatError(reason, located(self.element))

    def decimal(self, path: str | None = None) -> Decimal | None:
        """A decimal at ``path``."""
        node = self.child(path) if path else self
        value = node.text() if node else None
        if value is None or node is None:
            return None
        if not _DECIMAL.match(value) or sum(c.isdigit() for c in value) > 18:
            raise node.fail(
                f"{value!r} is not a decimal number (digits, one optional '.', at most 18 digits)"
            )
        try:
            return Decimal(value)
        except InvalidOperation as exc:  # pragma: no cover - the pattern admits only plain decimals
            raise node.fail(f"{value!r} is not a decimal number") from exc

    def amount(self, path: str | None = None) -> Amount | None:
        """An ``ActiveCurrencyAndAmount`` (value with a ``Ccy`` attribute) at ``path``."""
        node = self.child(path) if path else self
        if node is None:
            return None
        value = node.decimal()
        if value is None:
            raise node.fail("the amount is empty")
        currency = node.element.get("Ccy") or ""
        if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
            raise node.fail(f"the Ccy attribute must be a 3-letter ISO 4217 code, found {currency!r}")
        if value < 0:
            raise node.fail(f"the amount must not be negative, found {value}")
        problem = decimals_problem(currency, value)
        if problem:
            raise node.fail(problem)
        return Amount(currency=currency, value=to_minor_units(currency, value))

    def date(self, path: str | None = None) -> date | None:
        """An ``ISODate`` (or the date part of an ``ISODateTime``) at ``path``."""
        node = self.child(path) if path else self
        value = node.text() if node else None
        if value is None or node is None:
            return None
        try:
            return date.fromisoformat(value[:10])
        except ValueError as exc:
            raise node.fail(f"{value!r} is not a date YYYY-MM-DD") from exc

    def datetime(self, path: str | None = None) -> datetime | None:
        """An ``ISODateTime`` at ``path`` (a trailing ``Z`` is UTC)."""
        node = self.child(path) if path else self
        value = node.text() if node else None
        if value is None or node is None:
            return None
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise node.fail(f"{value!r} is not a date-time YYYY-MM-DDThh:mm:ss") from exc

    def date_or_datetime(self, path: str) -> date | None:
        """``Dt`` or the date of ``DtTm`` under ``path`` (statement dates)."""
        node = self.child(path)
        if node is None:
            return None
        inner = node.child("Dt") or node.child("DtTm")
        return inner.date() if inner else node.date()

    def code_or_proprietary(self, path: str) -> tuple[str | None, str | None]:
        """(``Cd``, ``Prtry``) under ``path`` (``Prtry`` may itself hold ``Id`` or ``Cd``)."""
        node = self.child(path)
        if node is None:
            return None, None
        proprietary = node.child("Prtry")
        prtry = None
        if proprietary is not None:
            prtry = proprietary.text() or proprietary.text("Id") or proprietary.text("Cd")
        return node.text("Cd"), prtry
