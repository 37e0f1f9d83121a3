"""think.approval: four-eyes control — a step that passes only once a second person approved."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from skills import BusinessError, SkillContext, skill


class ApprovalParams(BaseModel):
    subject: str = Field(
        description="What is approved, shown to the approver (e.g. 'pacs.008 REF-1 CNY 2,000,000')."
    )
    maker: str = Field(description="User who made the instruction; may not approve it.")
    amount: Decimal | None = Field(None, description="Amount concerned, for the approver's view.")
    approved_by: str | None = Field(
        None, description="Set by the manual queue's approve action (never by the workflow author)."
    )


class ApprovalResult(BaseModel):
    approved_by: str = Field(description="The approver.")
    maker: str = Field(description="The maker.")


@skill("think.approval", effect="none")
def approval(ctx: SkillContext, params: ApprovalParams) -> ApprovalResult:
    """Park the run until a person other than the maker approves it (four-eyes)."""
    if not params.approved_by:
        amount = f" ({params.amount})" if params.amount is not None else ""
        raise BusinessError(
            f"awaiting four-eyes approval of {params.subject}{amount}; maker {params.maker}",
            code="awaiting_approval",
            details={"maker": params.maker},
        )
    if params.approved_by.strip().lower() == params.maker.strip().lower():
        raise BusinessError(
            f"{params.approved_by} made this instruction and cannot also approve it (four-eyes)",
            code="four_eyes_violation",
        )
    return ApprovalResult(approved_by=params.approved_by, maker=params.maker)
