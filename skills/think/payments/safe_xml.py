"""The one safe way this project reads XML (every reader and every test reuses it).

Threats handled: external entities (XXE file read, SSRF through an entity URL), entity expansion
("billion laughs"), DTD retrieval and unbounded documents. Two layers:

1. the text is refused before parsing if it declares a DOCTYPE (payment messages never need one)
   or is larger than ``MAX_XML_BYTES``;
2. the lxml parser itself never resolves entities, never loads a DTD, never touches the network
   and keeps libxml2's size limits (``huge_tree=False``) - so even a document that slipped past
   layer 1 could not read a file or expand an entity.

Any failure becomes a ``MessageFormatError`` with the line (from libxml2) and a readable reason.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

from skills.think.payments.errors import MessageFormatError, SourceLocation

MAX_XML_BYTES = 50 * 1024 * 1024
"""Largest XML document accepted (a BEPS batch of tens of thousands of transfers fits)."""

_DECLARATION = re.compile(rb"^\s*<\?xml[^>]{0,200}?\?>")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")
_DECLARATION_TEXT = re.compile(r"^\ufeff?\s*<\?xml[^>]{0,200}?\?>")
_FORBIDDEN = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def make_parser() -> etree.XMLParser:
    """A new hardened lxml parser (parsers are not shared between threads)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        collect_ids=False,
    )


def decode_xml(data: str | bytes) -> str:
    """Decode XML bytes using their BOM or declared encoding (UTF-8 when neither is present)."""
    if isinstance(data, str):
        return data
    for bom, name in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return _decode(data[len(bom) :], name)
    declaration = _DECLARATION.match(data)
    encoding = "utf-8"
    if declaration:
        found = _ENCODING.search(declaration.group(0))
        if found:
            encoding = found.group(1).decode("ascii")
    return _decode(data, encoding)


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except LookupError as exc:
        raise MessageFormatError(f"the XML declares an unknown encoding {encoding!r}") from exc
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise MessageFormatError(
            f"the XML is not valid {encoding}: byte {exc.start} cannot be decoded",
            SourceLocation(line=line),
        ) from exc


def check_text(text: str) -> None:
    """Refuse what no payment message needs: a DOCTYPE or ENTITY declaration, or a huge document."""
    if len(text) > MAX_XML_BYTES:
        raise MessageFormatError(f"the XML document is larger than the {MAX_XML_BYTES} characters accepted")
    forbidden = _FORBIDDEN.search(text)
    if forbidden:
        line = text.count("\n", 0, forbidden.start()) + 1
        raise MessageFormatError(
            f"the XML contains a <!{forbidden.group(1).upper()} ...> declaration; payment messages must not "
            "declare a DTD or entities, so the document is refused unread",
            SourceLocation(line=line),
        )


def parse_xml(data: str | bytes) -> etree._Element:
    """Parse an XML document safely and return its root element.

    Raises:
        MessageFormatError: the document declares a DOCTYPE or entity, is too large, is not
            well-formed, or cannot be decoded.
    """
    text = decode_xml(data)
    check_text(text)
    # lxml refuses str input with an encoding declaration; blank it out line-for-line so that
    # libxml2's line numbers stay those of the original text.
    declaration = _DECLARATION_TEXT.match(text)
    if declaration:
        head = declaration.group(0)
        text = "\n" * head.count("\n") + text[len(head) :]
    text = text.lstrip("\ufeff")
    try:
        root = etree.fromstring(text, make_parser())
    except etree.XMLSyntaxError as exc:
        reason = str(exc.msg or exc).split(", line ")[0]
        raise MessageFormatError(
            f"the XML is not well-formed: {reason}", SourceLocation(line=exc.lineno)
        ) from exc
    except (ValueError, etree.LxmlError) as exc:
        raise MessageFormatError(f"the XML cannot be parsed: {exc}") from exc
    if root is None:
        raise MessageFormatError("the XML document is empty")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # second guard; layer 1 should have caught it
        raise MessageFormatError("the XML declares a DTD, which is refused")
    return root


def local_name(element: etree._Element) -> str:
    """The tag of ``element`` without its namespace (``""`` for comments and processing instructions)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace_of(element: etree._Element) -> str:
    """The namespace URI of ``element`` (``""`` when it has none)."""
    tag = element.tag
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].split("}", 1)[0]
    return ""


def element_path(element: etree._Element) -> str:
    """A readable XPath of ``element`` with local names, e.g. ``/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]``.

    An index is added only where the parent has several children of the same name.
    """
    steps: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        name = local_name(node)
        parent = node.getparent()
        if parent is not None:
            same = [child for child in parent if local_name(child) == name]
            if len(same) > 1:
                name = f"{name}[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    return "/" + "/".join(reversed(steps))


def located(element: etree._Element) -> SourceLocation:
    """The location of ``element`` for an error message: its XPath and source line."""
    return SourceLocation(line=element.sourceline, xpath=element_path(element))
