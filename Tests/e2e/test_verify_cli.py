"""`tributary verify --data DIR`: intact stores pass; an edited payload byte is reported."""

import os
import signal
import subprocess
import time
from pathlib import Path

from conftest import REPO_ROOT, server_binary


def store_tool() -> Path:
    return server_binary().parent / "tributary-store-tool"


def fill_store(store_dir: Path, seconds: float = 0.8) -> None:
    """Append crash-test events into one store for a moment, then kill the writer."""
    child = subprocess.Popen([str(store_tool()), "crash-child", "--data", str(store_dir), "--durability", "none"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)


def verify(data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(server_binary()), "verify", "--data", str(data_dir)],
                          capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)


def test_intact_store_verifies(tmp_path):
    fill_store(tmp_path / "customers")
    result = verify(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "customers:" in result.stdout


def test_edited_payload_byte_is_reported(tmp_path):
    fill_store(tmp_path / "orders")
    segment = sorted((tmp_path / "orders").glob("log-*.seg"))[0]
    raw = bytearray(segment.read_bytes())
    at = raw.find(b'{"n":7,')
    assert at > 0, "event 7 not found in the first segment"
    raw[at + 5] = ord("8")  # {"n":7 -> {"n":8 : same length, different content
    segment.write_bytes(bytes(raw))
    result = verify(tmp_path)
    assert result.returncode != 0, result.stdout
    assert "orders:" in result.stdout
    # Event n=7 is at position 8 (appends are issued in order from position 1): the report names it.
    assert "BROKEN at position 8" in result.stdout, result.stdout


def test_missing_data_directory_is_a_clear_error(tmp_path):
    result = verify(tmp_path / "nothing-here")
    assert result.returncode != 0
    assert "no data directory" in (result.stdout + result.stderr)
