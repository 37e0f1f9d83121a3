"""Field rules of CNAPS2 messages (spec digest §3.3/§3.4) and the checker that applies them.

The CNAPS2 XSDs are not public, so a CNAPS message is checked against the field list of the
spec digest instead: which elements are mandatory, their maximum length and, where the
standard fixes it, their pattern or allowed values. Every problem names the XPath, the line and
the Chinese name of the field, as an operator would look it up on a receipt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from skills.think.payments.iso.xmlnav import Node

BANK_CODE = re.compile(r"^\d{12,14}$", re.ASCII)
"""A CNAPS bank code (行号): 12 digits (14 in header version 02). The check digit is checked elsewhere."""


@dataclass(frozen=True)
class FieldRule:
    """One element: XPath under its block, Chinese name, mandatory or not, max length, pattern or values."""

    path: str
    label: str
    mandatory: bool = True
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None
    values: tuple[str, ...] = ()


def _rule(
    path: str, label: str, mandatory: bool = True, max_length: int | None = None, **extra: object
) -> FieldRule:
    return FieldRule(path, label, mandatory, max_length, **extra)  # type: ignore[arg-type]


def check(node: Node, rules: tuple[FieldRule, ...]) -> None:
    """Apply ``rules`` under ``node``; the first violation raises ``MessageFormatError`` at its element."""
    for rule in rules:
        found = node.child(rule.path)
        if found is None or found.text() is None:
            if rule.mandatory:
                raise (found or node).fail(
                    f"{rule.label} ({rule.path}) is mandatory in CNAPS but missing or empty"
                )
            continue
        value = found.text() or ""
        if rule.max_length is not None and len(value) > rule.max_length:
            raise found.fail(
                f"{rule.label} ({rule.path}) may have at most {rule.max_length} characters, found {len(value)}"
            )
        if rule.pattern is not None and not rule.pattern.match(value):
            raise found.fail(
                f"{rule.label} ({rule.path}) {value!r} does not have the expected form {rule.pattern.pattern}"
            )
        if rule.values and value not in rule.values:
            raise found.fail(
                f"{rule.label} ({rule.path}) must be one of {', '.join(rule.values)}, found {value!r}"
            )


HVPS111_GROUP = (
    _rule("MsgId", "报文标识号", max_length=35),
    _rule("CreDtTm", "报文发送时间"),
    _rule("NbOfTxs", "明细业务总笔数", values=("1",)),
    _rule("SttlmInf/SttlmMtd", "结算方式", values=("CLRG",)),
)
HVPS111_TRANSACTION = (
    _rule("PmtId/EndToEndId", "端到端标识号", max_length=35),
    _rule("PmtId/TxId", "交易标识号", max_length=35),
    _rule("PmtTpInf/CtgyPurp/Prtry", "业务类型编码", max_length=4),
    _rule("IntrBkSttlmAmt", "金额"),
    _rule("SttlmPrty", "业务优先级", values=("NORM", "HIGH", "URGT")),
    _rule("ChrgBr", "费用承担方", mandatory=False, values=("DEBT", "CRED", "SHAR", "SLEV")),
    _rule("Dbtr/Nm", "付款人名称", max_length=60),
    _rule("DbtrAcct/Id/Othr/Id", "付款人账号", max_length=32),
    _rule("DbtrAcct/Id/Othr/Issr", "付款人开户行行号", pattern=BANK_CODE),
    _rule("DbtrAgt/FinInstnId/ClrSysMmbId/MmbId", "付款清算行行号", pattern=BANK_CODE),
    _rule("DbtrAgt/BrnchId/Id", "付款行行号", pattern=BANK_CODE),
    _rule("CdtrAgt/FinInstnId/ClrSysMmbId/MmbId", "收款清算行行号", pattern=BANK_CODE),
    _rule("CdtrAgt/BrnchId/Id", "收款行行号", pattern=BANK_CODE),
    _rule("Cdtr/Nm", "收款人名称", max_length=60),
    _rule("CdtrAcct/Id/Othr/Id", "收款人账号", max_length=32),
    _rule("CdtrAcct/Id/Othr/Issr", "收款人开户行行号", pattern=BANK_CODE),
    _rule("Purp/Prtry", "业务种类编码", max_length=5),
    _rule("RmtInf/Ustrd", "附言", mandatory=False, max_length=135),
)
BEPS121_GROUP = (
    _rule("MsgId", "报文标识号", max_length=35),
    _rule("CreDtTm", "报文发送时间"),
    _rule("InstgPty/InstgDrctPty", "发起直接参与机构", pattern=BANK_CODE),
    _rule("InstdPty/InstdDrctPty", "接收直接参与机构", pattern=BANK_CODE),
    _rule("NbOfTxs", "明细业务总笔数", pattern=re.compile(r"^\d{1,15}$", re.ASCII)),
    _rule("CtrlSum", "明细业务总金额"),
    _rule("SysCd", "系统编号", values=("BEPS",)),
    _rule("Rmk", "备注", mandatory=False, max_length=256),
)
BEPS121_PROCESSING = (
    _rule("PrcSts", "处理状态", max_length=4),
    _rule("PrcCd", "处理码", max_length=8),
    _rule("RjctInf", "拒绝信息", mandatory=False, max_length=105),
    _rule("NetgRnd", "轧差场次", mandatory=False, pattern=re.compile(r"^\d{1,2}$", re.ASCII)),
)
BEPS121_TRANSACTION = (
    _rule("TxId", "交易标识号", pattern=re.compile(r"^\d{1,16}$", re.ASCII)),
    _rule("Dbtr/Nm", "付款人名称", max_length=60),
    _rule("Dbtr/PstlAdr/AdrLine", "付款人地址", mandatory=False, max_length=70),
    _rule("DbtrAcct/Id/Othr/Id", "付款人账号", max_length=32),
    _rule("DbtrAcct/Id/Othr/Issr", "付款人开户行行号", pattern=BANK_CODE),
    _rule("DbtrAgt/BrnchId/Id", "付款行行号", pattern=BANK_CODE),
    _rule("CdtrAgt/BrnchId/Id", "收款行行号", pattern=BANK_CODE),
    _rule("Cdtr/Nm", "收款人名称", max_length=60),
    _rule("Cdtr/PstlAdr/AdrLine", "收款人地址", mandatory=False, max_length=70),
    _rule("CdtrAcct/Id/Othr/Id", "收款人账号", max_length=32),
    _rule("CdtrAcct/Id/Othr/Issr", "收款人开户行行号", pattern=BANK_CODE),
    _rule("Amt", "金额"),
    _rule("PmtTpInf/CtgyPurp/Prtry", "业务类型编码", max_length=4),
    _rule("Purp/Prtry", "业务种类编码", max_length=5),
    _rule("AddtlInf", "附言", mandatory=False, max_length=256),
)
