"""Write synthetic vouchers: one image and one ground-truth JSON per voucher.

Voucher ``i`` of seed ``s`` is drawn from its own ``random.Random(f"{s}:{i}")``, so asking for
more vouchers keeps the first ones identical. Defects are handed out as exact shares of the
batch (``amount_mismatch=0.1`` marks 10% of the vouchers), never two defects on one voucher.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from examples.vouchers import degrade, stamp
from examples.vouchers.facts import DEFECTS, FIELDS, LAYOUTS, VoucherFacts, random_facts
from examples.vouchers.layout import Rendered, render

NOISE_LEVELS = ("clean", "noisy")
# Fields a stamp may land on in a noisy scan (the ink is red, the text under it stays black).
_STAMP_TARGETS = (
    "date",
    "amount_words",
    "amount_figure",
    "payee_bank",
    "payer_bank",
    "purpose",
    "payee_name",
)


@dataclass(frozen=True)
class GeneratedVoucher:
    """Where one voucher was written and what it shows."""

    image: Path
    truth: Path
    facts: VoucherFacts


def parse_defects(text: str) -> dict[str, float]:
    """Read ``"amount_mismatch=0.1,unreadable=0.05"`` into shares per defect.

    Raises:
        ValueError: an unknown defect, a share outside 0..1, or shares adding up to more than 1.
    """
    shares: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        name = name.strip()
        if name not in DEFECTS or not sep:
            raise ValueError(f"expected DEFECT=SHARE with DEFECT one of {', '.join(DEFECTS)}, got {part!r}")
        try:
            share = float(value)
        except ValueError as exc:
            raise ValueError(f"expected a share from 0 to 1 for {name}, got {value!r}") from exc
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"expected a share from 0 to 1 for {name}, got {share}")
        shares[name] = share
    if sum(shares.values()) > 1.0 + 1e-9:
        raise ValueError(
            f"the defect shares add up to {sum(shares.values()):.2f}; at most 1 (one defect per voucher)"
        )
    return shares


def assign_defects(count: int, seed: int, shares: Mapping[str, float]) -> list[list[str]]:
    """The defect list of each of ``count`` vouchers: exact shares, on random vouchers."""
    order = list(range(count))
    random.Random(f"{seed}:defects").shuffle(order)  # reproducible sample vouchers, not secrets  # nosec B311
    result: list[list[str]] = [[] for _ in range(count)]
    start = 0
    for name in DEFECTS:
        take = round(shares.get(name, 0.0) * count)
        for index in order[start : start + take]:
            result[index].append(name)
        start += take
    return result


def _press_stamp(rendered: Rendered, facts: VoucherFacts, rng: random.Random, over_text: bool) -> str | None:
    mask = stamp.draw_stamp(rng, facts.payee.bank.name)
    if over_text:
        target = rng.choice([t for t in _STAMP_TARGETS if t in rendered.field_boxes])
        x0, y0, x1, y1 = rendered.field_boxes[target]
        centre = (rng.randint(x0, max(x0, x1 - 40)), (y0 + y1) // 2 + rng.randint(-40, 40))
    else:  # the signature corner, clear of the filled-in values
        target = None
        centre = (rendered.image.width - rng.randint(130, 220), rendered.image.height - rng.randint(70, 110))
    stamp.press(rendered.image, mask, centre, rng)
    return target


def _visible_fields(rendered: Rendered, distortion: degrade.Distortion) -> tuple[list[str], list[str]]:
    """(fields wholly on the image, fields wholly gone); a heavy blur loses every field."""
    if distortion.blur >= 4.0:
        return [], list(rendered.field_boxes)
    kx0, ky0, kx1, ky1 = degrade.cut_box(rendered.image.size, distortion)
    boxes = rendered.field_boxes.items()
    whole = [name for name, (x0, y0, x1, y1) in boxes if x0 >= kx0 and y0 >= ky0 and x1 <= kx1 and y1 <= ky1]
    gone = [name for name, (x0, y0, x1, y1) in boxes if x0 >= kx1 or y0 >= ky1]
    return whole, gone


def generate_one(
    index: int, seed: int, out: Path, noise: str, defects: Sequence[str], layouts: Sequence[str] = LAYOUTS
) -> GeneratedVoucher:
    """Draw, render, distort and write voucher number ``index`` (1-based)."""
    if noise not in NOISE_LEVELS:
        raise ValueError(f"expected noise 'clean' or 'noisy', got {noise!r}")
    rng = random.Random(f"{seed}:{index}")  # reproducible sample vouchers, not secrets  # nosec B311
    layout = layouts[(index - 1) % len(layouts)] if len(layouts) > 1 else layouts[0]
    facts = random_facts(rng, layout, list(defects))
    rendered = render(facts, rng)
    stamped_over = _press_stamp(rendered, facts, rng, over_text=noise == "noisy")
    distortion = degrade.noisy(rng) if noise == "noisy" else degrade.CLEAN
    if "unreadable" in defects:
        distortion = degrade.unreadable(rng, distortion)
    image = degrade.apply(rendered.image, distortion, rng)
    data, extension = degrade.encode(image, distortion)
    name = f"voucher-{index:04d}"
    image_path = out / f"{name}{extension}"
    image_path.write_bytes(data)
    readable, lost = _visible_fields(rendered, distortion)
    truth = {
        "id": name,
        "image": image_path.name,
        "layout": layout,
        "noise": noise,
        "seed": seed,
        "index": index,
        "fields": facts.fields(),
        "field_order": list(FIELDS),
        "defects": list(defects),
        "readable_fields": readable,
        "lost_fields": lost,
        "field_boxes": {k: list(v) for k, v in rendered.field_boxes.items()},
        "stamp_over": stamped_over,
        "distortion": distortion.as_dict(),
    }
    truth_path = out / f"{name}.json"
    truth_path.write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return GeneratedVoucher(image_path, truth_path, facts)


def generate(
    count: int,
    seed: int,
    out: Path,
    *,
    noise: str = "clean",
    defects: Mapping[str, float] | None = None,
    layouts: Sequence[str] = LAYOUTS,
) -> list[GeneratedVoucher]:
    """Write ``count`` vouchers into ``out`` (created if missing); layouts alternate."""
    if count < 1:
        raise ValueError(f"expected a count of at least 1, got {count}")
    unknown = [layout for layout in layouts if layout not in LAYOUTS]
    if unknown or not layouts:
        raise ValueError(f"expected layouts from {', '.join(LAYOUTS)}, got {', '.join(layouts) or 'none'}")
    out.mkdir(parents=True, exist_ok=True)
    per_voucher = assign_defects(count, seed, defects or {})
    return [generate_one(i + 1, seed, out, noise, per_voucher[i], layouts) for i in range(count)]
