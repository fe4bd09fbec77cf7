"""Fixtures for end-to-end tests: start the real `tributary` server on a free loopback port
(through the scripts' one server launcher, scripts/tributary_tools/server.py).

Contract with the server: `tributary serve --listen 127.0.0.1:0 --data DIR --durability none`
prints a line containing `listening on http://127.0.0.1:PORT` on stdout once it accepts
connections, and exits with status 0 within 10 s of SIGTERM.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "scripts"))   # the tributary_tools package (launcher, chaos)
from tributary_tools.server import Server, ServerError, env_binary as server_binary  # noqa: E402,F401

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


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


def _wait_for_port(host: str, port: int, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _launch(data_dir: Path, durability: str, extra_args: list[str]) -> RunningServer:
    """`tributary serve --listen 127.0.0.1:0 --data DIR --durability D [extra...]`, stdout and stderr
    merged into `output` (kept up to date while it runs); returns once the port accepts connections."""
    binary = server_binary()
    if not binary.exists():
        pytest.fail(f"server binary {binary} not found: build it first (swift build) or set TRIBUTARY_BIN")
    launched = Server(binary, durability, data_dir, extra_args)
    try:
        launched.start(listen_timeout=START_TIMEOUT)
    except ServerError as e:
        pytest.fail("server did not report 'listening on http://127.0.0.1:PORT':\n" + "\n".join(e.output))
    server = RunningServer(launched.proc, launched.port)
    server.output = launched.output
    _wait_for_port(server.host, server.port, launched.t0 + START_TIMEOUT)
    return server


def start_server(data_dir: Path) -> RunningServer:
    return _launch(data_dir, "none", [])


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


# --- TRIBUTARY_E2E_CLUSTER=1: the suites that take a `server` run against a `scripts/cluster`
# front instead (nginx; customers and orders writers; two query replicas each), started once per
# session. scripts/test runs the saga, read-your-writes, public-log, idempotency, concurrency and
# SSE-resume suites this way too.

CLUSTER_MODE = os.environ.get("TRIBUTARY_E2E_CLUSTER") == "1"


class ClusterFront:
    """The front of a session-wide cluster, shaped like `RunningServer` (no process of its own)."""

    def __init__(self, directory: Path, port: int):
        self.dir, self.host, self.port = directory, "127.0.0.1", port
        self.base = f"http://127.0.0.1:{port}"
        self.output: list[str] = []
        self.process = None

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)


@pytest.fixture(scope="session")
def cluster_front():
    import json, os as _os, tempfile
    directory = Path(tempfile.mkdtemp(prefix="tributary-e2e-cluster-"))
    _os.chmod(directory, 0o755)
    env = {**_os.environ, "TRIBUTARY_BIN": str(server_binary())}
    up = subprocess.run([str(REPO_ROOT / "scripts" / "cluster"), "up", str(directory), "--fsync", "off"],
                        capture_output=True, text=True, env=env, timeout=300)
    if up.returncode != 0:
        pytest.fail(f"scripts/cluster up failed:\n{up.stdout}\n{up.stderr}")
    front = ClusterFront(directory, json.loads((directory / "cluster.json").read_text())["front"])
    yield front
    subprocess.run([str(REPO_ROOT / "scripts" / "cluster"), "down", str(directory)], capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def running_server(request, tmp_path_factory):
    """The started server (host, port, base, output); one per test module (with
    TRIBUTARY_E2E_CLUSTER=1, the cluster's front)."""
    if CLUSTER_MODE:
        yield request.getfixturevalue("cluster_front")
        return
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

def start_server_durable(data_dir: Path, durability: str = "fsync", extra_args: list[str] | None = None) -> RunningServer:
    """Like `start_server`, with a chosen `--durability` (restart tests use fsync) and extra options."""
    return _launch(data_dir, durability, extra_args or [])


class ServerFactory:
    """Starts servers on one data directory, one at a time; `restart()` = SIGTERM (exit 0) + start."""

    def __init__(self, data_dir: Path, durability: str = "fsync"):
        self.data_dir = data_dir
        self.durability = durability
        self.current: RunningServer | None = None
        self.started = 0
        #: Extra `serve` options for the next starts.
        self.extra_args: list[str] = []

    def start(self) -> RunningServer:
        assert self.current is None, "a server is already running on this data directory"
        self.current = start_server_durable(self.data_dir, self.durability, self.extra_args)
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


@pytest.fixture(scope="module")
def cqrs_api(server):
    """A `cqrs_client.Api` on this module's server."""
    from cqrs_client import Api
    api = Api(server)
    yield api
    api.close()


# --- SSE e2e (test_sse_*.py): servers with extra options, and a raw-socket SSE reader. ---

def start_server_with_args(data_dir: Path, extra_args: list[str]) -> RunningServer:
    """Like `start_server` (`--durability none`), plus `extra_args` (e.g. SSE limits)."""
    return _launch(data_dir, "none", extra_args)


SSE_TEST_ARGS = ["--sse-heartbeat", "0.3", "--cors-origin", "https://app.example", "--sse-max-buffered-events", "64",
                 "--sse-max-buffered-bytes", "65536", "--sse-flush-interval", "2",
                 "--sse-fan-out-threads", "3"]   # the parallel fan-out, whatever the core count


@pytest.fixture(scope="module")
def sse_server(request, tmp_path_factory):
    """A server for SSE tests: 0.3 s heartbeat, CORS for https://app.example, small per-subscriber buffers
    (with TRIBUTARY_E2E_CLUSTER=1, the cluster's front: for the tests that need none of these)."""
    if CLUSTER_MODE:
        yield request.getfixturevalue("cluster_front")
        return
    server = start_server_with_args(tmp_path_factory.mktemp("sse-data"), SSE_TEST_ARGS)
    yield server
    stop_server(server)


class SSEEventMessage:
    def __init__(self, id, event, data):
        self.id = id
        self.event = event
        self.data = data

    def __repr__(self) -> str:
        return f"SSE(id={self.id!r}, event={self.event!r}, data={self.data[:60]!r})"


class SSEConnection:
    """A raw-socket EventSource: sends the GET, parses the head, then WHATWG event-stream framing
    (CRLF/CR/LF line ends, comments, id/event/data/retry fields, multi-line data)."""

    def __init__(self, address, path: str, headers: dict | None = None, rcvbuf: int | None = None, timeout: float = 10.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(address)
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n{extra}\r\n".encode())
        self.buf = b""
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body_prefix = b""
        self.comments: list[str] = []
        self.retry = None
        self.last_id = None
        self.closed = False
        self._data: list[str] = []
        self._event = None
        self._id_set = False
        self._read_head()

    def _read_head(self) -> None:
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError(f"connection closed before the response head: {self.buf!r}")
            self.buf += chunk
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split(" ")[1])
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.buf = rest

    def body(self, timeout: float = 2.0) -> bytes:
        """For a non-stream answer (e.g. 503): the Content-Length body."""
        n = int(self.headers.get("content-length", "0"))
        self.sock.settimeout(timeout)
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buf += chunk
        return self.buf[:n]

    def _lines(self):
        while True:
            idx = -1
            for i, b in enumerate(self.buf):
                if b in (10, 13):
                    idx = i
                    break
            if idx < 0:
                return
            if self.buf[idx] == 13:
                if idx + 1 >= len(self.buf):
                    return  # a CR at the end: wait to see whether LF follows
                end = idx + 2 if self.buf[idx + 1] == 10 else idx + 1
            else:
                end = idx + 1
            line = self.buf[:idx].decode("utf-8")
            self.buf = self.buf[end:]
            yield line

    def next_event(self, timeout: float = 5.0):
        """The next dispatched event, or None on timeout / connection end."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self._lines():
                if line == "":
                    if self._data:
                        msg = SSEEventMessage(self.last_id, self._event or "message", "\n".join(self._data))
                        self._data, self._event = [], None
                        return msg
                    self._event = None
                    continue
                if line.startswith(":"):
                    self.comments.append(line[1:])
                    continue
                name, sep, value = line.partition(":")
                if sep and value.startswith(" "):
                    value = value[1:]
                if name == "data":
                    self._data.append(value)
                elif name == "event":
                    self._event = value
                elif name == "id" and "\0" not in value:
                    self.last_id = value
                elif name == "retry" and value.isdigit():
                    self.retry = int(value)
            if self.closed:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            except ConnectionResetError:
                self.closed = True
                continue
            if not chunk:
                self.closed = True
                continue
            self.buf += chunk

    def events(self, count: int, timeout: float = 10.0) -> list:
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            e = self.next_event(max(0.01, deadline - time.monotonic()))
            if e is None:
                break
            out.append(e)
        return out

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


# --- Auth e2e (test_auth_*.py): a server with API tokens from a --tokens-file. ---

AUTH_SCOPES = {
    "writer": "commands:write",
    "reader": "queries:read",
    "streamer": "streams:read",
    "auditor": "admin",
    "everything-but-admin": "commands:write,queries:read,streams:read",
}


class AuthServer:
    """A running server requiring tokens; `tokens[name]` is the raw secret of each token in
    AUTH_SCOPES (plus "unknown", which is configured nowhere)."""

    def __init__(self, server: RunningServer, tokens: dict[str, str], tokens_file: Path):
        self.server = server
        self.base = server.base
        self.address = server.address
        self.tokens = tokens
        self.tokens_file = tokens_file

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}


def write_tokens_file(path: Path, tokens: dict[str, str], scopes: dict[str, str]) -> None:
    """Writes `NAME SHA256HEX SCOPES` lines; the first hash comes from `tributary hash-token`
    (the operator's way), the rest from hashlib."""
    import hashlib
    lines = ["# generated by the auth e2e fixture"]
    for i, (name, scope) in enumerate(scopes.items()):
        secret = tokens[name]
        if i == 0:
            digest = subprocess.run([str(server_binary()), "hash-token"], input=secret.encode() + b"\n",
                                    capture_output=True, check=True).stdout.decode().strip()
            assert digest == hashlib.sha256(secret.encode()).hexdigest()
        else:
            digest = hashlib.sha256(secret.encode()).hexdigest()
        lines.append(f"{name} {digest} {scope}")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    """A server started with --tokens-file (tokens of AUTH_SCOPES) and CORS for https://app.example."""
    import secrets
    root = tmp_path_factory.mktemp("auth")
    tokens = {name: "trb_" + secrets.token_urlsafe(32) for name in [*AUTH_SCOPES, "unknown"]}
    tokens_file = root / "tokens"
    write_tokens_file(tokens_file, tokens, AUTH_SCOPES)
    (root / "data").mkdir()
    server = start_server_with_args(root / "data", ["--tokens-file", str(tokens_file),
                                                    "--cors-origin", "https://app.example"])
    yield AuthServer(server, tokens, tokens_file)
    stop_server(server)
