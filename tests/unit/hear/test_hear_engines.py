"""The engine interface, the recogniser's configuration and the Mandarin (Vosk) engine."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.registry import SkillRegistry
from skills import ResourceUnavailable
from skills.hear.engines import TranscriptionEngine
from skills.hear.pocketsphinx_engine import PocketsphinxEngine
from skills.hear.recognizer import SpeechRecognizer, speech_recognizer
from skills.hear.transcribe import TranscribeResult, transcribe
from skills.hear.vosk_engine import VoskEngine
from skills.testing import run_skill, service_pool

MANDARIN_MODEL = os.environ.get("RPA_TEST_MANDARIN_MODEL", "")


def test_engines_implement_the_interface() -> None:
    assert issubclass(PocketsphinxEngine, TranscriptionEngine)
    assert issubclass(VoskEngine, TranscriptionEngine)
    with pytest.raises(TypeError, match="abstract"):
        TranscriptionEngine()  # type: ignore[abstract]


def test_vosk_engine_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ResourceUnavailable, match="needs 'model_path'"):
        VoskEngine({})
    with pytest.raises(ResourceUnavailable, match=r"expected a Vosk model folder .* found nothing"):
        VoskEngine({"model_path": str(tmp_path / "absent")})
    (tmp_path / "not-a-model").mkdir()
    with pytest.raises(ResourceUnavailable, match="found something else"):
        VoskEngine({"model_path": str(tmp_path / "not-a-model")})


@pytest.mark.skipif(importlib.util.find_spec("vosk") is not None, reason="the vosk package is installed here")
def test_vosk_engine_without_the_package(tmp_path: Path) -> None:
    (tmp_path / "model" / "am").mkdir(parents=True)
    with pytest.raises(ResourceUnavailable, match=r"needs the 'vosk' package.*pip install vosk"):
        VoskEngine({"model_path": str(tmp_path / "model")})


def test_recogniser_configuration_errors() -> None:
    recognizer = SpeechRecognizer({"zh": {"engine": "whisper-cloud"}})
    assert recognizer.languages == ["en", "zh"]
    with pytest.raises(ResourceUnavailable, match="unknown speech engine 'whisper-cloud'"):
        recognizer._engine("zh")
    with pytest.raises(ResourceUnavailable, match="no speech engine is configured for language 'fr'"):
        recognizer._engine("fr")
    with pytest.raises(ResourceUnavailable, match="does not exist"):
        PocketsphinxEngine({"hmm": "/nonexistent/model"})


def test_service_reads_its_settings_section() -> None:
    pool = service_pool([speech_recognizer], {"speech_recognizer": {"engines": {"zh": {"engine": "vosk"}}}})
    recognizer = pool.get("speech_recognizer")
    assert isinstance(recognizer, SpeechRecognizer)
    assert recognizer.languages == ["en", "zh"]
    pool.close()


def test_skills_register_and_import_no_heavy_library() -> None:
    registry = SkillRegistry()
    registry.add_module_by_name("skills.hear")
    registry.add_module_by_name("skills.speak")
    assert {"hear.transcribe", "hear.list_inbox", "hear.move_inbox_file"} <= set(registry.skills)
    assert {"speak.say", "speak.render", "speak.notify"} <= set(registry.skills)
    assert {"speech_recognizer", "smtp"} <= set(registry.services)
    assert registry.get("speak.notify").verify is not None
    probe = "import sys, skills.hear, skills.speak; print(sorted(m for m in ('pocketsphinx', 'vosk') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.skipif(
    not Path(MANDARIN_MODEL or "/nonexistent").is_dir(),
    reason="no Mandarin model: set RPA_TEST_MANDARIN_MODEL to an unpacked Vosk Chinese model folder "
    "(e.g. vosk-model-small-cn-0.22) to run this test",
)
def test_mandarin_confirmation_with_an_operator_supplied_model(tmp_path: Path, espeak: str) -> None:
    if importlib.util.find_spec("vosk") is None:
        pytest.skip("the vosk package is not installed (pip install vosk)")
    audio = tmp_path / "answer.wav"
    subprocess.run([espeak, "-v", "cmn-latn-pinyin", "-w", str(audio), "我确认"], check=True)
    pool = service_pool(
        [speech_recognizer],
        {"speech_recognizer": {"engines": {"zh": {"engine": "vosk", "model_path": MANDARIN_MODEL}}}},
    )
    result = run_skill(
        transcribe,
        {
            "audio": str(audio),
            "language": "zh",
            "intents": {"confirm": ["我 确认"], "refuse": ["我 不 确认"]},
        },
        services=pool,
    )
    assert isinstance(result, TranscribeResult)
    assert result.engine == "vosk"
    assert result.intent == "confirm"
