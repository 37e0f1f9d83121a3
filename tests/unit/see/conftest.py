"""Fixtures for the see tests: one OCR engine per session, small batches of generated vouchers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.vouchers.fonts import FontMissingError, cjk_face
from examples.vouchers.generate import generate
from orchestrator.services import ServicePool
from skills.see.ocr_engine import model_dir, ocr_service
from skills.testing import service_pool


def _skip_without_fonts() -> None:
    try:
        cjk_face("sans")
    except FontMissingError as exc:
        pytest.skip(f"cannot render vouchers because no CJK font is installed: {exc}")


@pytest.fixture(scope="session")
def ocr_pool() -> Iterator[ServicePool]:
    """A service pool holding the real RapidOCR engine (models from the installed wheel)."""
    try:
        models = model_dir()
    except Exception as exc:  # rapidocr not installed
        pytest.skip(f"OCR tests need rapidocr: {exc}")
    if not (models / "PP-OCRv6_rec_small.onnx").is_file():
        pytest.skip(f"OCR tests need the models shipped in the rapidocr wheel, missing under {models}")
    pool = service_pool([ocr_service], {"ocr": {"threads": None}})
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def clean_vouchers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four clean vouchers (two of each form), seed 21."""
    _skip_without_fonts()
    folder = tmp_path_factory.mktemp("clean")
    generate(4, 21, folder, noise="clean")
    return folder


@pytest.fixture(scope="session")
def noisy_vouchers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six noisy scans (rotation, perspective, blur, noise, JPEG, seals over text), seed 5."""
    _skip_without_fonts()
    folder = tmp_path_factory.mktemp("noisy")
    generate(6, 5, folder, noise="noisy")
    return folder


@pytest.fixture(scope="session")
def unreadable_vouchers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four vouchers that are heavily blurred or cut off, seed 3."""
    _skip_without_fonts()
    folder = tmp_path_factory.mktemp("unreadable")
    generate(4, 3, folder, noise="clean", defects={"unreadable": 1.0})
    return folder
