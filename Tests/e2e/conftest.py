"""Fixtures for end-to-end tests: start the real `tributary` server on a free loopback port.

Contract with the server: `tributary serve --listen 127.0.0.1:0 --data DIR --durability none`
prints a line containing `listening on http://127.0.0.1:PORT` on stdout once it accepts
connections, and exits with status 0 within 10 s of SIGTERM.
"""

import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def server_binary() -> Path:
    path = Path(os.environ.get("TRIBUTARY_BIN", REPO_ROOT / ".build" / "debug" / "tributary"))
    return path if path.is_absolute() else REPO_ROOT / path


class RunningServer:
    """A started server process; `base` is e.g. "http://127.0.0.1:41234"."""

    def __init__(self, process: subprocess.Popen, port: int):
        self.process = process
        self.host = "127.0.0.1"
        self.port = port
        self.base = f"http://{self.host}:{port}"
        self.output: list[str] = []

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)


def _drain(stream, sink: list[str], found: threading.Event, port_box: list[int]) -> None:
    # Keep reading so the server never blocks on a full pipe; remember everything for diagnostics.
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\n")
        sink.append(line)
        if not found.is_set():
            match = LISTENING.search(line)
            if match:
                port_box.append(int(match.group(1)))
                found.set()
    stream.close()


def _wait_for_port(host: str, port: int, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def start_server(data_dir: Path) -> RunningServer:
    binary = server_binary()
    if not binary.exists():
        pytest.fail(f"server binary {binary} not found: build it first (swift build) or set TRIBUTARY_BIN")
    process = subprocess.Popen(
        [str(binary), "serve", "--listen", "127.0.0.1:0", "--data", str(data_dir), "--durability", "none"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=REPO_ROOT,
    )
    output: list[str] = []
    found = threading.Event()
    port_box: list[int] = []
    threading.Thread(target=_drain, args=(process.stdout, output, found, port_box), daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    while not found.wait(0.05):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail("server did not report 'listening on http://127.0.0.1:PORT':\n" + "\n".join(output))
    server = RunningServer(process, port_box[0])
    server.output = output
    _wait_for_port(server.host, server.port, deadline)
    return server


def stop_server(server: RunningServer) -> None:
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"server did not exit within {STOP_TIMEOUT}s of SIGTERM:\n" + "\n".join(server.output[-50:]))
    assert code == 0, f"server exited with {code}:\n" + "\n".join(server.output[-50:])


@pytest.fixture(scope="module")
def running_server(tmp_path_factory):
    """The started server (host, port, base, output); one per test module."""
    server = start_server(tmp_path_factory.mktemp("data"))
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def server(running_server) -> str:
    """The base address of a running server, e.g. "http://127.0.0.1:41234"."""
    return running_server.base


@pytest.fixture(scope="module")
def server_address(running_server) -> tuple[str, int]:
    """(host, port) of the running server, for raw-socket tests."""
    return running_server.address


# --- A deliberately tiny raw HTTP/1.1 client, so tests control every byte on the wire. ---

class Response:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str):
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def __repr__(self) -> str:
        return f"Response({self.status}, {self.body[:80]!r})"


class Exchange:
    """What came back on one connection: final responses (1xx skipped), and whether the
    server closed the connection (EOF or reset) before the read timeout."""

    def __init__(self):
        self.responses: list[Response] = []
        self.interim: list[int] = []
        self.closed = False
        self.reset = False
        self.raw = b""

    @property
    def statuses(self) -> list[int]:
        return [r.status for r in self.responses]


def _parse_one(buf: bytes, at_eof: bool):
    """Parses one response from buf; returns (Response, rest) or None when incomplete."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end].decode("latin-1").split("\r\n")
    parts = head[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise AssertionError(f"not an HTTP/1.x response: {buf[:200]!r}")
    status = int(parts[1])
    headers = []
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    rest = buf[end + 4:]
    lower = {k.lower(): v for k, v in headers}
    if 100 <= status < 200 or status in (204, 304):
        return Response(status, headers, b""), rest
    if "content-length" in lower:
        n = int(lower["content-length"])
        if len(rest) < n:
            return None
        return Response(status, headers, rest[:n]), rest[n:]
    if lower.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        pos = 0
        while True:
            line_end = rest.find(b"\r\n", pos)
            if line_end < 0:
                return None
            size = int(rest[pos:line_end].split(b";")[0], 16)
            if len(rest) < line_end + 2 + size + 2:
                return None
            body += rest[line_end + 2:line_end + 2 + size]
            pos = line_end + 2 + size + 2
            if size == 0:
                return Response(status, headers, body), rest[pos:]
    # Delimited by close.
    if not at_eof:
        return None
    return Response(status, headers, rest), b""


def raw_exchange(address, data: bytes, want: int | None = None, timeout: float = 5.0,
                 pieces: list[bytes] | None = None) -> Exchange:
    """Sends `data` (or `pieces`, one send each) on a fresh connection and reads responses.

    With `want`, returns as soon as that many final responses arrived (keep-alive case);
    otherwise reads until the server closes the connection or `timeout` passes."""
    result = Exchange()
    deadline = time.monotonic() + timeout
    with socket.create_connection(address, timeout=timeout) as sock:
        try:
            for piece in pieces if pieces is not None else [data]:
                sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may refuse and close before reading everything we send
        buf = b""
        while True:
            while True:
                parsed = _parse_one(buf, result.closed)
                if parsed is None:
                    break
                response, buf = parsed
                if 100 <= response.status < 200:
                    result.interim.append(response.status)
                else:
                    result.responses.append(response)
            if result.closed or (want is not None and len(result.responses) >= want):
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                result.closed = result.reset = True
                continue
            if not chunk:
                result.closed = True
                continue
            result.raw += chunk
            buf += chunk
    return result


# --- CQRS e2e (test_cqrs_*.py): servers that can be stopped and restarted on the same data directory. ---

def start_server_durable(data_dir: Path, durability: str = "fsync") -> RunningServer:
    """Like `start_server`, with a chosen `--durability` (restart tests use fsync)."""
    binary = server_binary()
    if not binary.exists():
        pytest.fail(f"server binary {binary} not found: build it first (swift build) or set TRIBUTARY_BIN")
    process = subprocess.Popen(
        [str(binary), "serve", "--listen", "127.0.0.1:0", "--data", str(data_dir), "--durability", durability],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=REPO_ROOT,
    )
    output: list[str] = []
    found = threading.Event()
    port_box: list[int] = []
    threading.Thread(target=_drain, args=(process.stdout, output, found, port_box), daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    while not found.wait(0.05):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail("server did not report 'listening on http://127.0.0.1:PORT':\n" + "\n".join(output))
    server = RunningServer(process, port_box[0])
    server.output = output
    _wait_for_port(server.host, server.port, deadline)
    return server


class ServerFactory:
    """Starts servers on one data directory, one at a time; `restart()` = SIGTERM (exit 0) + start."""

    def __init__(self, data_dir: Path, durability: str = "fsync"):
        self.data_dir = data_dir
        self.durability = durability
        self.current: RunningServer | None = None
        self.started = 0

    def start(self) -> RunningServer:
        assert self.current is None, "a server is already running on this data directory"
        self.current = start_server_durable(self.data_dir, self.durability)
        self.started += 1
        return self.current

    def stop(self) -> None:
        if self.current is not None:
            server, self.current = self.current, None
            stop_server(server)

    def restart(self) -> RunningServer:
        self.stop()
        return self.start()

    def close(self) -> None:
        if self.current is not None and self.current.process.poll() is None:
            self.current.process.kill()
            self.current.process.wait()
        self.current = None


@pytest.fixture
def server_factory(tmp_path):
    """A `ServerFactory` on a fresh data directory with `--durability fsync`; not started yet."""
    factory = ServerFactory(tmp_path / "data", "fsync")
    factory.data_dir.mkdir()
    yield factory
    factory.close()
