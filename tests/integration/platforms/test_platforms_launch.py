"""``run_platform``: starting, readiness, failures and clean stops."""

from __future__ import annotations

import os
import re
import signal
import socket
from pathlib import Path

import httpx
import pytest
from platforms_harness import free_port, module_process, wait_until

from examples.platforms.launch import PLATFORMS, PlatformStartError, run_platform


def port_is_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("name", ["portal", "reporting", "ledger"])
def test_a_web_platform_runs_on_a_free_port_and_is_stopped_after_the_block(name: str, tmp_path: Path) -> None:
    with run_platform(name, data_dir=tmp_path) as handle:
        port = httpx.URL(handle.base_url).port
        assert httpx.get(f"{handle.base_url}/health").json()["platform"] == name
        assert handle.store_path == tmp_path / PLATFORMS[name].store_filename
        assert handle.store_path.exists()

    assert handle.process.poll() is not None
    assert not port_is_open(port)


def test_an_explicit_port_is_used(tmp_path: Path) -> None:
    port = free_port()

    with run_platform("ledger", port=port, data_dir=tmp_path) as handle:
        assert handle.base_url == f"http://127.0.0.1:{port}"
        assert httpx.get(f"{handle.base_url}/health").json()["pid"] == handle.process.pid


def test_the_platform_is_stopped_when_the_block_raises(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"), run_platform("ledger", data_dir=tmp_path) as handle:
        raise RuntimeError("boom")

    assert handle.process.poll() is not None


def test_a_platform_that_cannot_start_is_reported_with_its_output(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with (
            pytest.raises(PlatformStartError, match="exited with code") as failure,
            run_platform("ledger", port=port, data_dir=tmp_path),
        ):
            pytest.fail("the ledger cannot have started on a taken port")

    assert "address already in use" in str(failure.value)


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("bank", {}, "unknown platform 'bank'; expected one of ledger, portal, reporting, terminal"),
        (
            "portal",
            {"reject_duplicate": True},
            "invalid options for platform 'portal': reject_duplicate: Extra",
        ),
        (
            "ledger",
            {"slow_ms": -1},
            "invalid options for platform 'ledger': slow_ms: Input should be greater",
        ),
    ],
)
def test_unknown_platforms_and_options_are_refused_before_starting(
    tmp_path: Path, name: str, options: dict[str, object], message: str
) -> None:
    with (
        pytest.raises(ValueError, match=re.escape(message)),
        run_platform(name, data_dir=tmp_path, **options),
    ):
        pytest.fail("nothing may start")

    assert list(tmp_path.iterdir()) == []  # nothing was started, not even a log


def test_the_terminal_needs_a_display(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)

    with (
        pytest.raises(ValueError, match="the terminal needs an X display"),
        run_platform("terminal", data_dir=tmp_path),
    ):
        pytest.fail("nothing may start")


def test_all_platforms_run_together_and_stop_on_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "all.out"
    without_display = {name: value for name, value in os.environ.items() if name != "DISPLAY"}
    args = ["--data-dir", str(tmp_path), "--free-ports"]
    with module_process("examples.platforms", *args, log=log, environment=without_display) as process:
        wait_until(
            lambda: "running; press Ctrl+C" in log.read_text() or process.poll() is not None, "the platforms"
        )
        announced = dict(
            re.findall(r"^(portal|reporting|ledger) +(http://\S+)", log.read_text(), re.MULTILINE)
        )
        children = {name: httpx.get(f"{url}/health").json()["pid"] for name, url in announced.items()}
        assert set(children) == {"portal", "reporting", "ledger"}
        assert "terminal" not in log.read_text()

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0

    assert [pid for pid in children.values() if Path(f"/proc/{pid}").exists()] == []
