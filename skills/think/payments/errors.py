"""The one error a payment-message reader raises for bad input: ``MessageFormatError``.

::

    BusinessError (skills)
    └── MessageFormatError      code "malformed_message": the message cannot be read as the
                                format it claims to be; carries where (tag and line, or XPath)
                                and why, in words an operator can act on.

Readers never let another exception escape for bad input: a parser failure, a wrong date, an
unknown tag or a schema violation all become a ``MessageFormatError``. It is a business error
(the data is wrong, a retry cannot help), so the run goes to the manual queue with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from skills import BusinessError


@dataclass(frozen=True)
class SourceLocation:
    """Where in a message a problem (or a value) is.

    Attributes:
        line: 1-based line in the message text, when known.
        tag: SWIFT MT field tag (``32A``) or block (``block 2``), for MT messages.
        xpath: readable XPath of the element, for XML messages.
        message_index: 1-based position of the message in a batch (RJE file), when there are several.
    """

    line: int | None = None
    tag: str | None = None
    xpath: str | None = None
    message_index: int | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.message_index is not None:
            parts.append(f"message {self.message_index}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.tag:
            parts.append(f"tag {self.tag}" if not self.tag.startswith("block") else self.tag)
        if self.xpath:
            parts.append(self.xpath)
        return ", ".join(parts) or "message"


class MessageFormatError(BusinessError):
    """A payment message is malformed: ``location`` says where, ``reason`` says what is wrong.

    The string form is ``"<location>: <reason>"``, e.g.
    ``"line 5, tag 32A: amount '1.000,00' must use a comma as the only decimal mark"``.
    """

    def __init__(self, reason: str, location: SourceLocation | None = None) -> None:
        self.reason = reason
        self.location = location or SourceLocation()
        super().__init__(
            f"{self.location}: {reason}",
            code="malformed_message",
            details={
                "reason": reason,
                "line": self.location.line,
                "tag": self.location.tag,
                "xpath": self.location.xpath,
                "message_index": self.location.message_index,
            },
        )

    def __reduce__(self) -> tuple[type[MessageFormatError], tuple[str, SourceLocation]]:
        return (type(self), (self.reason, self.location))  # survives pickling with its location

    def in_message(self, index: int) -> MessageFormatError:
        """The same error, located in message ``index`` of a batch."""
        loc = self.location
        return MessageFormatError(
            self.reason, SourceLocation(line=loc.line, tag=loc.tag, xpath=loc.xpath, message_index=index)
        )


class MessageBuildError(BusinessError):
    """A payment cannot be written in the requested format (a field too long, a part it cannot carry).

    Code ``cannot_build_message``; the message names the field and the limit.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason, code="cannot_build_message", details={"reason": reason})
