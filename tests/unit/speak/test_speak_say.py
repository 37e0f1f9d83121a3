"""speak.say with the real espeak-ng (and sox when resampling)."""

from __future__ import annotations

import hashlib
import wave
from pathlib import Path

import pytest

from skills import BusinessError
from skills.speak.say import SayResult, say
from skills.testing import run_skill

pytestmark = pytest.mark.usefixtures("espeak")


def _say(work_dir: Path, **params: object) -> SayResult:
    result = run_skill(say, params, work_dir=work_dir)
    assert isinstance(result, SayResult)
    return result


def test_english_speech_to_a_wav_file(tmp_path: Path) -> None:
    result = _say(tmp_path, text="Please confirm the payment of twelve thousand yuan.", output="calls/p1.wav")
    path = Path(result.path)
    assert path == tmp_path / "calls" / "p1.wav"
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    with wave.open(str(path)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, 22050)
        assert reader.getnframes() / reader.getframerate() == pytest.approx(
            result.duration_seconds, abs=0.002
        )
    assert 1.5 < result.duration_seconds < 6
    assert result.voice == "en-us"


def test_mandarin_shortcut_uses_the_pinyin_voice(tmp_path: Path) -> None:
    result = _say(tmp_path, text="您好，请确认这笔付款。", voice="zh")
    assert result.voice == "cmn-latn-pinyin"
    assert result.duration_seconds > 1
    assert Path(result.path).parent == tmp_path / "speech"


def test_same_parameters_give_the_same_file(tmp_path: Path) -> None:
    first = _say(tmp_path, text="yes I confirm", sample_rate=16000)
    again = _say(tmp_path, text="yes I confirm", sample_rate=16000)
    assert (first.path, first.sha256) == (again.path, again.sha256)
    assert first.sample_rate == 16000
    assert [p.name for p in (tmp_path / "speech").iterdir()] == [Path(first.path).name]


def test_rate_and_word_gap_change_the_length(tmp_path: Path) -> None:
    text = "no I do not confirm this transfer"
    normal = _say(tmp_path, text=text)
    fast = _say(tmp_path, text=text, rate=300)
    gaps = _say(tmp_path, text=text, word_gap_ms=200)
    assert fast.duration_seconds < normal.duration_seconds < gaps.duration_seconds


def test_output_is_confined_to_the_output_root(tmp_path: Path) -> None:
    for bad in ("../escape.wav", "/tmp/escape.wav"):
        with pytest.raises(BusinessError, match="to stay inside") as caught:
            _say(tmp_path, text="hello", output=bad)
        assert caught.value.code == "path_outside_root"
    (tmp_path / "link").symlink_to(tmp_path.parent)
    with pytest.raises(BusinessError, match="symbolic link leads outside"):
        _say(tmp_path, text="hello", output="link/escape.wav")
    inside = _say(tmp_path, text="hello", output="a.wav", output_root="audio")
    assert Path(inside.path) == tmp_path / "audio" / "a.wav"


def test_unknown_or_malformed_voice(tmp_path: Path) -> None:
    with pytest.raises(BusinessError, match="no voice 'xx-yy'") as unknown:
        _say(tmp_path, text="hello", voice="xx-yy")
    assert unknown.value.code == "unknown_voice"
    with pytest.raises(BusinessError, match="espeak-ng voice name"):
        _say(tmp_path, text="hello", voice="--path=/tmp")


def test_text_starting_with_a_dash_is_spoken_not_parsed(tmp_path: Path) -> None:
    result = _say(tmp_path, text="-v xx --help")
    assert result.duration_seconds > 0.5
