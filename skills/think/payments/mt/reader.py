"""Read SWIFT MT103, MT202 and MT202COV messages (single, ACK-wrapped or RJE batches) into ``Payment``.

Checks, in order: the envelope (``mt.envelope``), the field sequence of the message type (known
tags, order, repetition, mandatory fields, MT202COV sequence B), each field's format
(``mt.fields``) and the network rules of the spec digest §1.1 (33B/36, 56a->57a, 23B/23E,
71A/71F/71G, STP options). The first problem raises ``MessageFormatError`` with its line and tag.
"""

from __future__ import annotations

from dataclasses import dataclass

from skills.think.payments.errors import MessageFormatError, SourceLocation
from skills.think.payments.model import (
    MessageFormat,
    Payment,
    PaymentMessage,
    RejectedMessage,
)
from skills.think.payments.mt import fields as f
from skills.think.payments.mt.builder import PaymentBuilder
from skills.think.payments.mt.envelope import Envelope, MtField, read_envelopes, split_batch


@dataclass(frozen=True)
class Slot:
    """One position of a message's field sequence."""

    name: str
    tags: frozenset[str]
    mandatory: bool = False
    repeatable: bool = False
    sequence: str = "A"


def _slot(
    name: str, options: str = "", *, mandatory: bool = False, repeatable: bool = False, seq: str = "A"
) -> Slot:
    tags = frozenset(f"{name}{o}" for o in options.split(",")) if options else frozenset({name})
    return Slot(name, tags, mandatory, repeatable, seq)


MT103_SLOTS = (
    _slot("20", mandatory=True),
    _slot("13C", repeatable=True),
    _slot("23B", mandatory=True),
    _slot("23E", repeatable=True),
    _slot("26T"),
    _slot("32A", mandatory=True),
    _slot("33B"),
    _slot("36"),
    _slot("50", "A,F,K", mandatory=True),
    _slot("51A"),
    _slot("52", "A,D"),
    _slot("53", "A,B,D"),
    _slot("54", "A,B,D"),
    _slot("55", "A,B,D"),
    _slot("56", "A,C,D"),
    _slot("57", "A,B,C,D"),
    _slot("59", ",A,F", mandatory=True),
    _slot("70"),
    _slot("71A", mandatory=True),
    _slot("71F", repeatable=True),
    _slot("71G"),
    _slot("72"),
    _slot("77B"),
)
MT202_SLOTS = (
    _slot("20", mandatory=True),
    _slot("21", mandatory=True),
    _slot("13C", repeatable=True),
    _slot("32A", mandatory=True),
    _slot("52", "A,D"),
    _slot("53", "A,B,D"),
    _slot("54", "A,B,D"),
    _slot("56", "A,D"),
    _slot("57", "A,B,D"),
    _slot("58", "A,D", mandatory=True),
    _slot("72"),
)
MT202COV_B_SLOTS = (
    _slot("50", "A,F,K", mandatory=True, seq="B"),
    _slot("52", "A,D", seq="B"),
    _slot("56", "A,C,D", seq="B"),
    _slot("57", "A,B,C,D", seq="B"),
    _slot("59", ",A,F", mandatory=True, seq="B"),
    _slot("70", seq="B"),
    _slot("72", seq="B"),
    _slot("33B", seq="B"),
)


def read_mt(text: str) -> PaymentMessage:
    """Read one MT103/MT202/MT202COV message, or an RJE batch file of them.

    A single message that cannot be read raises. In a batch, every message is read on its own:
    the good ones are returned and each bad one is listed in ``rejected`` with its reason; only
    when no message at all can be read does the batch raise (with the first message's error).

    Raises:
        MessageFormatError: the first problem found, located by message, line and tag.
    """
    chunks = split_batch(text)
    if not chunks:
        raise MessageFormatError("no SWIFT message found: the text is empty", SourceLocation(line=1))
    payments: list[Payment] = []
    rejected: list[RejectedMessage] = []
    errors: list[MessageFormatError] = []
    for chunk in chunks:
        try:
            envelopes = read_envelopes(chunk.text, chunk.first_line, len(payments) + len(rejected) + 1)
            payments.extend(read_envelope(envelope) for envelope in envelopes)
        except MessageFormatError as error:
            if len(chunks) == 1:
                raise
            located = error.in_message(chunk.index)
            errors.append(located)
            rejected.append(
                RejectedMessage(
                    index=chunk.index,
                    line=located.location.line,
                    location=str(located.location),
                    reason=located.reason,
                )
            )
    if not payments:
        raise errors[0]
    single = len(payments) == 1 and len(chunks) == 1
    first = payments[0]
    return PaymentMessage(
        format=MessageFormat.swift_mt,
        message_type=first.message_type if single else "RJE",
        sender=first.instructing_agent.bic if single and first.instructing_agent else None,
        receiver=first.instructed_agent.bic if single and first.instructed_agent else None,
        number_of_transactions=len(payments),
        payments=payments,
        rejected=rejected,
    )


def read_envelope(envelope: Envelope) -> Payment:
    """One enveloped message to a ``Payment``."""
    flag = envelope.user_header.get("119")
    if envelope.message_type == "103":
        slots, message_type = MT103_SLOTS, "MT103"
    elif envelope.message_type == "202":
        cover = flag == "COV"
        slots, message_type = (
            (MT202_SLOTS + MT202COV_B_SLOTS, "MT202COV") if cover else (MT202_SLOTS, "MT202")
        )
    else:
        raise MessageFormatError(
            f"message type MT{envelope.message_type} is not supported: this reader handles MT103, MT202 and MT202COV",
            envelope.where("2"),
        )
    placed = _place_fields(envelope, slots, message_type)
    builder = PaymentBuilder(envelope, message_type, placed)
    return builder.build()


def _place_fields(
    envelope: Envelope, slots: tuple[Slot, ...], message_type: str
) -> list[tuple[Slot, MtField]]:
    placed: list[tuple[Slot, MtField]] = []
    last = -1
    for field in envelope.fields:
        same_again = last >= 0 and slots[last].repeatable and field.tag in slots[last].tags
        start = last if same_again else last + 1
        found = next((j for j in range(start, len(slots)) if field.tag in slots[j].tags), None)
        if found is None:
            raise MessageFormatError(_misplaced(field, slots, placed, message_type), field.where())
        placed.append((slots[found], field))
        last = found
    present = {id(slot) for slot, _ in placed}
    has_b = any(slot.sequence == "B" for slot, _ in placed)
    for slot in slots:
        if (
            slot.mandatory
            and id(slot) not in present
            and (slot.sequence == "A" or has_b or message_type == "MT202COV")
        ):
            name = f.FORMATS.get(next(iter(sorted(slot.tags))), f.FieldFormat(slot.name, None)).name
            where = "" if slot.sequence == "A" else " in sequence B"
            raise MessageFormatError(
                f"mandatory field {slot.name}{'a' if len(slot.tags) > 1 else ''} ({name}) is missing{where} "
                f"in this {message_type}",
                envelope.where("4"),
            )
    return placed


def _misplaced(
    field: MtField, slots: tuple[Slot, ...], placed: list[tuple[Slot, MtField]], message_type: str
) -> str:
    if any(field.tag in slot.tags for slot in slots):
        earlier = [p for p in placed if field.tag in p[0].tags]
        if earlier:
            return f"field {field.tag} appears again (first at line {earlier[0][1].line}) but may occur only once here"
        after = placed[-1][1].tag if placed else "the start"
        return f"field {field.tag} is out of order: it must come before field {after}"
    optioned = sorted(
        tag for slot in slots if slot.name == field.tag[:2] and slot.tags != {slot.name} for tag in slot.tags
    )
    if optioned:
        return (
            f"option {field.tag[2:] or '(none)'} is not allowed for field {field.tag[:2]}a in {message_type} "
            f"(allowed: {', '.join(optioned)})"
        )
    hint = (
        " (sequence B fields need {119:COV})"
        if message_type == "MT202" and field.tag[:2] in ("50", "59", "70", "33")
        else ""
    )
    return f"field {field.tag} is not part of an {message_type}{hint}"
