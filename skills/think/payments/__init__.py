"""Understanding payment messages: SWIFT MT, ISO 20022 and CNAPS2 to one normalized model and back.

Plain Python, usable without any engine (the skills in ``skills.think.payment_skills`` are thin
wrappers). Start with ``parse_message``; see docs/payments.md for formats, model and gaps.
"""

from skills.think.payments.cnaps.clearing_file import read_clearing_file as read_clearing_file
from skills.think.payments.cnaps.clearing_file import write_clearing_file as write_clearing_file
from skills.think.payments.cnaps.reader import read_cnaps as read_cnaps
from skills.think.payments.cnaps.reader import write_cnaps as write_cnaps
from skills.think.payments.errors import MessageBuildError as MessageBuildError
from skills.think.payments.errors import MessageFormatError as MessageFormatError
from skills.think.payments.errors import SourceLocation as SourceLocation
from skills.think.payments.iso.reader import read_iso as read_iso
from skills.think.payments.iso.write_pacs002 import OriginalReference as OriginalReference
from skills.think.payments.iso.write_pacs002 import StatusReasonInput as StatusReasonInput
from skills.think.payments.iso.write_pacs002 import build_pacs002 as build_pacs002
from skills.think.payments.iso.write_pacs008 import build_pacs008 as build_pacs008
from skills.think.payments.model import MessageFormat as MessageFormat
from skills.think.payments.model import Payment as Payment
from skills.think.payments.model import PaymentMessage as PaymentMessage
from skills.think.payments.mt.reader import read_mt as read_mt
from skills.think.payments.mt.writer import write_mt as write_mt
from skills.think.payments.parse import detect_format as detect_format
from skills.think.payments.parse import parse_message as parse_message
from skills.think.payments.reports import ClearingResult as ClearingResult
from skills.think.payments.reports import ParsedMessage as ParsedMessage
from skills.think.payments.reports import StatementMessage as StatementMessage
from skills.think.payments.reports import StatusReport as StatusReport

__all__ = [
    "ClearingResult",
    "MessageBuildError",
    "MessageFormat",
    "MessageFormatError",
    "OriginalReference",
    "ParsedMessage",
    "Payment",
    "PaymentMessage",
    "SourceLocation",
    "StatementMessage",
    "StatusReasonInput",
    "StatusReport",
    "build_pacs002",
    "build_pacs008",
    "detect_format",
    "parse_message",
    "read_clearing_file",
    "read_cnaps",
    "read_iso",
    "read_mt",
    "write_clearing_file",
    "write_cnaps",
    "write_mt",
]
