"""The bundled ISO 20022 XSDs (``skills/think/payments/xsd``) and validation against them.

``schema_for(namespace)`` loads (once, then cached) the XSD whose target namespace is given, or
returns ``None`` when no schema for that exact version is bundled. ``validate(element)`` checks
an element against the schema of its namespace and raises ``MessageFormatError`` naming the
XPath, line and reason of the first violation. xmlschema is used because it reports the failing
element and a readable reason; lxml's own XMLSchema reports libxml2 strings without the path.
Schemas are loaded with ``allow="sandbox"``: they may not pull anything from outside the folder.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from skills.think.payments.errors import MessageFormatError, SourceLocation
from skills.think.payments.safe_xml import element_path, namespace_of

if TYPE_CHECKING:
    import xmlschema

XSD_DIR = Path(__file__).resolve().parent.parent / "xsd"
ISO_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"
_LOCK = threading.Lock()


def bundled_versions() -> list[str]:
    """Message versions with a bundled XSD, e.g. ``['camt.052.001.08', ..., 'pacs.009.001.11']``."""
    return sorted(path.stem for path in XSD_DIR.glob("*.xsd"))


@lru_cache(maxsize=32)
def _load(version: str) -> xmlschema.XMLSchema:
    import xmlschema  # imported on first use: registering skills must stay fast

    return xmlschema.XMLSchema(str(XSD_DIR / f"{version}.xsd"), allow="sandbox")


def schema_for(namespace: str) -> xmlschema.XMLSchema | None:
    """The XSD of an ISO 20022 namespace (``urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08``), if bundled."""
    if not namespace.startswith(ISO_PREFIX):
        return None
    version = namespace[len(ISO_PREFIX) :]
    if version not in bundled_versions():
        return None
    with _LOCK:  # building a schema is not thread-safe; validating with a built one is
        return _load(version)


def validate(element: etree._Element) -> bool:
    """Validate ``element`` against the XSD of its namespace.

    Returns:
        ``True`` when validated, ``False`` when no XSD for this namespace is bundled.

    Raises:
        MessageFormatError: the element violates its schema (first violation, with XPath and line).
    """
    schema = schema_for(namespace_of(element))
    if schema is None:
        return False
    import xmlschema

    # The element is already parsed (safely); the resource wrapper must not open anything.
    for error in schema.iter_errors(xmlschema.XMLResource(element, allow="none")):
        failing = error.elem if isinstance(error.elem, etree._Element) else element
        reason = (error.reason or str(error.message)).strip()
        raise MessageFormatError(
            f"does not conform to the {namespace_of(element)[len(ISO_PREFIX) :]} schema: {reason}",
            SourceLocation(line=failing.sourceline, xpath=element_path(failing)),
        )
    return True
