"""The ``ocr`` service: one RapidOCR engine per process, pinned to the models inside the wheel.

rapidocr 3.10 ships the PP-OCRv6 small detection and recognition models and the mobile
direction classifier inside its package (``rapidocr/models/``). Asking it for any other model
makes it download one at run time, which fails on a bank's closed network, so the three model
paths are pinned here and checked before the engine is built. rapidocr, onnxruntime and
OpenCV are imported only when the service is first used, so importing this module stays cheap.

Images are opened here with Pillow (never handed to rapidocr as a string: it would fetch a
string that looks like a URL over the network).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skills import BusinessError, ResourceUnavailable, service

if TYPE_CHECKING:
    from PIL import Image

DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"

Point = tuple[float, float]
# Images whose short side is below this are padded before detection (see pad_small_image).
SMALL_IMAGE_SIDE = 368


@dataclass(frozen=True)
class OcrLine:
    """One line of recognised text.

    Attributes:
        text: The recognised text.
        confidence: rapidocr's recognition score, 0..1 (mean character probability).
        box: The four corners in image pixels, clockwise from the top-left of the text.
    """

    text: str
    confidence: float
    box: tuple[Point, Point, Point, Point]

    @property
    def rect(self) -> tuple[float, float, float, float]:
        """The axis-aligned bounding rectangle ``(x, y, width, height)``."""
        xs = [p[0] for p in self.box]
        ys = [p[1] for p in self.box]
        return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def model_dir() -> Path:
    """The folder of the models shipped inside the installed rapidocr wheel."""
    import importlib.util

    spec = importlib.util.find_spec("rapidocr")
    if spec is None or spec.origin is None:
        raise ResourceUnavailable("the OCR engine is not installed: the Python package rapidocr is missing")
    return Path(spec.origin).parent / "models"


def load_image(path: str | Path, region: Sequence[int] | None = None) -> Image.Image:
    """Open an image file as RGB, optionally cropped to ``region`` = (x, y, width, height).

    Raises:
        BusinessError: The file is missing, is not an image, or the region lies outside it.
    """
    from PIL import Image, UnidentifiedImageError

    file = Path(path)
    if not file.is_file():
        raise BusinessError(f"expected an image file at {file}, found nothing there", code="image_missing")
    try:
        with Image.open(file) as opened:
            image = opened.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise BusinessError(
            f"expected an image (PNG, JPEG, TIFF...) at {file}, found a file Pillow cannot read: {exc}",
            code="image_unreadable",
        ) from exc
    if region is None:
        return image
    x, y, width, height = (int(v) for v in region)
    if width <= 0 or height <= 0 or x < 0 or y < 0 or x + width > image.width or y + height > image.height:
        raise BusinessError(
            f"expected a region inside the {image.width}x{image.height} image {file.name}, "
            f"found x={x}, y={y}, width={width}, height={height}",
            code="region_outside_image",
        )
    return image.crop((x, y, x + width, y + height))


def pad_small_image(image: Image.Image, min_side: int = SMALL_IMAGE_SIDE) -> Image.Image:
    """Put a small image on a larger canvas of its background colour, at the top-left corner.

    rapidocr's detector scales the short side up to 736 pixels; a 40-pixel-high crop would be
    blown up 18 times and its text split into pieces and misread. Padding (not scaling) to
    ``min_side`` keeps the upscale at 2x at most; boxes need no correction because the image
    stays at the origin.
    """
    if min(image.size) >= min_side:
        return image
    from PIL import Image, ImageStat

    border = image.convert("RGB").crop((0, 0, image.width, 1))
    background = tuple(int(v) for v in ImageStat.Stat(border).median)
    canvas = Image.new("RGB", (max(image.width, min_side), max(image.height, min_side)), background)
    canvas.paste(image.convert("RGB"), (0, 0))
    return canvas


class OcrEngine:
    """A RapidOCR engine built once and shared by every skill call in the process.

    Args:
        threads: onnxruntime intra-op threads; ``None`` lets onnxruntime use every core.
        min_score: ``read`` leaves out lines recognised with a lower score unless told otherwise.
            rapidocr itself keeps every line, because a reader that flags unsure values must see
            the unsure pieces too (a value with a dropped piece would look whole).
        box_threshold: The detector's box score threshold (rapidocr's default, 0.5). Lowering it
            to 0.3 finds a lone digit in a grid cell that 0.5 misses now and then, but also finds
            specks read as stray characters: on 80 noisy vouchers it cost more fields than it saved.
        use_direction_classifier: Run rapidocr's 0/180 degree classifier on each text crop.
            Off by default: on short crops (a two-character name, a lone 分) it flips right-way-up
            text and the recogniser then reads nonsense ("韩刚" became "集" in our tests), while
            forms and screens are never upside down line by line.
    """

    def __init__(
        self,
        *,
        threads: int | None = None,
        min_score: float = 0.3,
        box_threshold: float = 0.5,
        use_direction_classifier: bool = False,
    ) -> None:
        self.threads = threads
        self.min_score = min_score
        self.box_threshold = box_threshold
        self.use_direction_classifier = use_direction_classifier
        self._engine: Any = None
        self._lock = threading.Lock()
        # One image at a time: onnxruntime already spreads one image over every core, and
        # rapidocr keeps per-call state on the engine object.
        self._run_lock = threading.Lock()

    def _build(self) -> Any:
        models = model_dir()
        paths = {"Det": models / DET_MODEL, "Rec": models / REC_MODEL, "Cls": models / CLS_MODEL}
        missing = [str(p) for p in paths.values() if not p.is_file()]
        if missing:
            raise ResourceUnavailable(
                "expected the OCR models shipped in the rapidocr wheel, found these missing: "
                + ", ".join(missing)
                + " (reinstall rapidocr==3.10.0; models are never downloaded at run time)"
            )
        # onnxruntime otherwise writes a device id and telemetry under ~/.cache.
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        from rapidocr import RapidOCR

        threads = -1 if self.threads is None else int(self.threads)
        params: dict[str, Any] = {
            "Global.log_level": "error",
            "Global.text_score": 0.0,
            "Det.box_thresh": self.box_threshold,
            "Global.use_cls": self.use_direction_classifier,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        }
        for section, path in paths.items():
            params[f"{section}.model_path"] = str(path)
        return RapidOCR(params=params)

    @property
    def engine(self) -> Any:
        """The underlying ``rapidocr.RapidOCR`` object, built on first use."""
        with self._lock:
            if self._engine is None:
                self._engine = self._build()
            return self._engine

    def read(self, image: Image.Image, min_confidence: float | None = None) -> list[OcrLine]:
        """Recognise every text line of a Pillow image (RGB or grayscale).

        Args:
            image: The image.
            min_confidence: Leave out lines with a lower score; ``None`` uses ``min_score``.

        Returns:
            The lines in rapidocr's order (top to bottom, then left to right).
        """
        threshold = self.min_score if min_confidence is None else min_confidence
        engine = self.engine
        padded = pad_small_image(image)
        with self._run_lock:
            output = engine(padded)
        if output.boxes is None or output.txts is None or output.scores is None:
            return []
        lines = []
        for box, text, score in zip(output.boxes, output.txts, output.scores, strict=True):
            if score < threshold:
                continue
            corners = tuple((float(x), float(y)) for x, y in box.tolist())
            lines.append(OcrLine(text=str(text), confidence=float(score), box=corners))  # type: ignore[arg-type]
        return lines

    def recognize(self, crops: Sequence[Any]) -> list[tuple[str, float]]:
        """Recognise each crop as one line of text (no detection): ``(text, score)`` per crop.

        Args:
            crops: ``numpy`` arrays, height x width x 3 (BGR) or height x width (grayscale).
        """
        if not crops:
            return []
        import numpy as np

        images = [np.dstack([crop] * 3) if crop.ndim == 2 else crop for crop in crops]
        engine = self.engine
        with self._run_lock:
            output = engine.recognize_txt(images)
        return [(str(text), float(score)) for text, score in zip(output.txts, output.scores, strict=True)]

    def read_file(
        self, path: str | Path, region: Sequence[int] | None = None, min_confidence: float | None = None
    ) -> list[OcrLine]:
        """Open ``path`` (cropped to ``region`` when given) and recognise its text."""
        return self.read(load_image(path, region), min_confidence)

    def close(self) -> None:
        """Drop the onnxruntime sessions."""
        with self._lock:
            self._engine = None


@service("ocr")
def ocr_service(settings: Mapping[str, Any]) -> OcrEngine:
    """Build the shared OCR engine from the ``ocr`` section of the services settings.

    Recognised keys: ``threads`` (int), ``min_score`` (float), ``box_threshold`` (float),
    ``use_direction_classifier`` (bool).
    """
    section = settings.get("ocr", {}) if isinstance(settings, Mapping) else {}
    return OcrEngine(
        threads=section.get("threads"),
        min_score=float(section.get("min_score", 0.3)),
        box_threshold=float(section.get("box_threshold", 0.5)),
        use_direction_classifier=bool(section.get("use_direction_classifier", False)),
    )
