"""see.voucher: read the fields of a Chinese transfer voucher (电汇凭证 or 进账单) from a scan."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from skills import BusinessError, SkillContext, skill
from skills.see.ocr_engine import OcrEngine, load_image
from skills.see.voucher_banks import check_bank_names
from skills.see.voucher_confirm import confirm_text_fields
from skills.see.voucher_reader import DEFAULT_MIN_CONFIDENCE, VoucherReading, read_fields
from skills.see.voucher_reread import reread_flagged, washed

FlagCode = Literal[
    "form_not_recognised",
    "label_missing",
    "label_ambiguous",
    "value_missing",
    "low_confidence",
    "shape",
    "cut_off",
    "separate_pieces",
    "grid",
    "second_read",
    "bank_mismatch",
]

if TYPE_CHECKING:
    from PIL import Image


class VoucherParams(BaseModel):
    """Input of ``see.voucher``."""

    image: Path = Field(
        description="Path of the voucher scan (PNG, JPEG, TIFF...); relative to the work dir."
    )
    layout: Literal["wire", "deposit"] | None = Field(
        None, description="The form, when known: wire (电汇凭证) or deposit (进账单). Detected when omitted."
    )
    min_confidence: float = Field(
        DEFAULT_MIN_CONFIDENCE,
        ge=0.0,
        le=1.0,
        description="Fields read with a lower OCR confidence are flagged.",
    )
    figure_min_confidence: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="The same for the digits of the figure grid, read one by one (lower scores; the figure "
        "is checked against the amount in words downstream).",
    )
    remove_red_stamps: bool = Field(
        True, description="Wash out red seal ink before reading, so stamps over text do not hide it."
    )
    second_read: bool = Field(
        True,
        description="Read every text field (names, banks, purpose) a second time, from its label to "
        "the value's end, and flag it when the two readings differ (double keying; about a tenth more "
        "time).",
    )
    fail_if_flagged: bool = Field(
        False, description="Raise a business error (code voucher_unreadable) when any field is flagged."
    )


class VoucherField(BaseModel):
    """One field as read from the voucher."""

    value: str | None = Field(description="The normalised value; null when nothing was read.")
    confidence: float = Field(ge=0.0, le=1.0, description="Lowest OCR confidence of the text read, 0..1.")
    flagged: bool = Field(
        description="True when a person must check the value (unsure, misshapen or missing)."
    )
    reason: str | None = Field(None, description="Why the field is flagged, in words.")
    code: FlagCode | None = Field(
        None,
        description="Why the field is flagged, for workflows: form_not_recognised, label_missing, "
        "label_ambiguous, value_missing, low_confidence, shape (read clearly but misshapen, e.g. a "
        "5-digit account), cut_off (touches the image border), separate_pieces (more text along the "
        "row), grid (the figure's digits do not fill the grid from the ￥ to 分), second_read (a second "
        "reading of a text field from its label on differs from the first), bank_mismatch (the bank name "
        "does not name the bank of the CNAPS code beside it).",
    )
    raw: str = Field("", description="The text as OCR read it, before normalisation.")


class VoucherResult(BaseModel):
    """Output of ``see.voucher``."""

    layout: Literal["wire", "deposit"] | None = Field(
        description="The form detected; null when not recognised."
    )
    fields: dict[str, VoucherField] = Field(
        description="voucher_no, date (ISO), payer_/payee_ name, account, bank, bank_code, amount_words "
        "(capital numerals without 人民币), amount_figure (e.g. 1234.50) and purpose."
    )
    flagged: list[str] = Field(description="Names of the flagged fields.")
    amount_words: str | None = Field(description="Shortcut to fields.amount_words.value.")
    amount_figure: str | None = Field(description="Shortcut to fields.amount_figure.value.")
    skew_degrees: float = Field(description="Rotation of the scan that was corrected, degrees.")


def wash_out_red(image: Image.Image) -> Image.Image:
    """A grayscale copy where red ink (seals) turns to paper white and dark text stays dark.

    The red channel alone already shows red ink as light grey. Bright pixels that are clearly
    redder than green or blue (seal ink on paper) are then set to white, so a seal's own
    characters do not read as text; darker pixels are left alone, because that is where black
    text lies under the ink (whitening those eats the strokes and makes the OCR misread digits
    with high confidence).
    """
    import numpy as np
    from PIL import Image

    return Image.fromarray(washed(np.asarray(image.convert("RGB"))), mode="L")


def to_result(reading: VoucherReading) -> VoucherResult:
    """The skill's output model for a reading."""
    fields = {
        name: VoucherField(
            value=f.value,
            confidence=max(0.0, min(1.0, f.confidence)),
            flagged=f.flagged,
            reason=f.reason,
            code=f.code,  # type: ignore[arg-type]
            raw=f.raw,
        )
        for name, f in reading.fields.items()
    }
    return VoucherResult(
        layout=reading.layout,  # type: ignore[arg-type]
        fields=fields,
        flagged=reading.flagged,
        amount_words=fields["amount_words"].value,
        amount_figure=fields["amount_figure"].value,
        skew_degrees=round(reading.skew_degrees, 2),
    )


@skill("see.voucher", effect="none", timeout="60s")
def voucher(ctx: SkillContext, params: VoucherParams) -> VoucherResult:
    """Read the fields of a transfer voucher scan (电汇凭证 / 进账单) by finding its printed labels.

    Each field comes with its confidence and a ``flagged`` mark: values read with low
    confidence, or that fail a shape check (account digits, 12-digit bank code, date, amount
    format), are flagged for a person, never guessed. The amount in words and the figure are
    reported separately; comparing them is ``think``'s job.

    Raises:
        BusinessError: The file is missing or not an image; or, with ``fail_if_flagged``, a
            field is flagged (code ``voucher_unreadable``).
    """
    engine: OcrEngine = ctx.service("ocr")
    path = params.image if params.image.is_absolute() else ctx.work_dir / params.image
    image = load_image(path)
    prepared = wash_out_red(image) if params.remove_red_stamps else image
    reading = read_fields(
        engine.read(prepared, min_confidence=0.0),
        width=image.width,
        height=image.height,
        min_confidence=params.min_confidence,
        figure_min_confidence=params.figure_min_confidence,
        layout=params.layout,
    )
    # A second, closer look at the flagged fields only (voucher_reread): it lifts a flag when
    # several re-reads agree with each other, the first read and the field's checks.
    reading = reread_flagged(
        reading,
        image,
        engine,
        min_confidence=params.min_confidence,
        figure_min_confidence=params.figure_min_confidence,
    )
    if params.second_read:
        reading = confirm_text_fields(reading, image, engine, min_confidence=params.min_confidence)
    reading = check_bank_names(reading)
    result = to_result(reading)
    if params.fail_if_flagged and result.flagged:
        reasons = "; ".join(f"{name}: {result.fields[name].reason}" for name in result.flagged)
        raise BusinessError(
            f"expected every field of voucher {path.name} to be read surely, found {len(result.flagged)} "
            f"flagged: {reasons}",
            code="voucher_unreadable",
            details={"flagged": result.flagged},
        )
    return result
