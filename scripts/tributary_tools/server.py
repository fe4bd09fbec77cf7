"""The one server launcher of scripts/ (and of Tests/e2e/conftest.py): a throwaway
`tributary serve --listen 127.0.0.1:0 --data DIR --durability D [extra...]`.

start() waits for the line `listening on http://127.0.0.1:PORT` (stdout and stderr are merged and
every line is kept in `output`, drained so the server never blocks on a full pipe), optionally
for GET /ready 200; stop() sends SIGTERM (or another signal) and waits; kill() is SIGKILL.
A server object can be started again after a stop, on the same data directory."""
import os, re, shutil, signal, subprocess, sys, tempfile, threading, time
from pathlib import Path

from .common import ROOT as _ROOT, get, log, rss_kib

ROOT = Path(_ROOT)
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")


class ServerError(RuntimeError):
    """The server did not start, did not become ready or did not stop; `output` is everything it printed."""

    def __init__(self, message, output=()):
        self.output = list(output)
        tail = "\n".join(self.output[-20:])
        super().__init__(message + (":\n" + tail if tail else ""))


def engine_args(data):
    """`--postgres URL` when TRIBUTARY_SERVER_POSTGRES names a cluster (its admin URL): every
    server the launcher starts, and every verify of its stores, then uses a database of its own
    on that cluster, one per data directory. Else [] (the embedded file engine)."""
    admin = os.environ.get("TRIBUTARY_SERVER_POSTGRES")
    if not admin:
        return []
    from .pgcluster import database_for
    return ["--postgres", database_for(admin, data)]


class Server:
    def __init__(self, binary, durability="fsync", data=None, extra=(), env=None):
        self.binary, self.durability, self.extra, self.env = os.path.abspath(binary), durability, list(extra), env
        self.own_data = data is None
        self.data = str(data) if data is not None else tempfile.mkdtemp(prefix="tributary-data-")
        self.proc = None
        self.port = None
        self.output = []

    def start(self, listen_timeout=60, ready_timeout=None, ready_interval=0.01, ready_request_timeout=30):
        """Starts the process and waits for its listening line (at most listen_timeout s); with
        ready_timeout, then polls GET /ready every ready_interval s until 200. Sets t0 (before the
        spawn), t_spawned (after it), listening_s and, when waited for, t_ready and ready_s (from t0)."""
        output, found = [], threading.Event()
        self.output, self.port = output, None
        self.t0 = time.monotonic()
        engine = [] if "--postgres" in self.extra else engine_args(self.data)
        try:
            proc = self.proc = subprocess.Popen(
                [self.binary, "serve", "--listen", "127.0.0.1:0", "--data", self.data, "--durability", self.durability,
                 *engine, *self.extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT,
                env={**os.environ, **self.env} if self.env else None)
        except OSError as e:
            self._failed()
            raise ServerError(f"cannot run {self.binary}: {e}") from None
        self.t_spawned = time.monotonic()

        def drain():
            for raw in iter(proc.stdout.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\n")
                output.append(line)
                m = None if found.is_set() else LISTENING.search(line)
                if m:
                    self.port = int(m.group(1))
                    found.set()
            proc.stdout.close()
        threading.Thread(target=drain, daemon=True).start()
        while not found.wait(0.02):
            if proc.poll() is not None or time.monotonic() > self.t0 + listen_timeout:
                self.kill()
                self._failed()
                raise ServerError(f"server did not start (exit status {proc.returncode})", output)
        self.listening_s = time.monotonic() - self.t0
        if ready_timeout is not None:
            self.wait_ready(ready_timeout, ready_interval, ready_request_timeout)
        return self

    def wait_ready(self, timeout=120, interval=0.01, request_timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if get(self.port, "/ready", timeout=request_timeout)[0] == 200:
                self.t_ready = time.monotonic()
                self.ready_s = self.t_ready - self.t0
                return self
            time.sleep(interval)
        raise ServerError("server not ready in time", self.output)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self):
        return self.proc.pid

    def rss_kib(self, field="VmRSS"):
        return rss_kib(self.proc.pid, field)

    def stop(self, timeout=30, sig=signal.SIGTERM, check=False):
        """Sends `sig` (if running) and waits up to `timeout` s; returns the exit status. After the
        timeout: SIGKILL, then None (check=False) or ServerError (check=True)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            if check:
                raise ServerError(f"server did not exit within {timeout:g} s of {signal.Signals(sig).name}", self.output)
            return None

    def kill(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def _failed(self):
        """A start failed: a data directory made here is of no use any more."""
        if self.own_data:
            shutil.rmtree(self.data, ignore_errors=True)

    def cleanup(self):
        """stop(), and remove the data directory if it was made here."""
        self.stop()
        if self.own_data:
            shutil.rmtree(self.data, ignore_errors=True)


def env_binary():
    """$TRIBUTARY_BIN (relative: to the repository root) or .build/debug/tributary."""
    path = Path(os.environ.get("TRIBUTARY_BIN", ROOT / ".build" / "debug" / "tributary"))
    return path if path.is_absolute() else ROOT / path


def existing_binary():
    """$TRIBUTARY_BIN, else the first of .build-chaos/debug, .build/debug, .build/release that exists."""
    if os.environ.get("TRIBUTARY_BIN"):
        return Path(os.environ["TRIBUTARY_BIN"])
    for p in (ROOT / ".build-chaos/debug/tributary", ROOT / ".build/debug/tributary", ROOT / ".build/release/tributary"):
        if p.exists():
            return p
    return ROOT / ".build/debug/tributary"


def build(product="tributary", config="release", announce=True):
    """swift build -c CONFIG --product PRODUCT (its output on stderr); returns the binary's path."""
    if announce:
        log(f"==> swift build -c {config} --product {product}")
    subprocess.run(["swift", "build", "-c", config, "--product", product], cwd=ROOT, check=True, stdout=sys.stderr)
    return str(ROOT / ".build" / config / product)


def release_binary(build_it=True):
    """.build/release/tributary, built first unless build_it is False."""
    binary = str(ROOT / ".build/release/tributary")
    if build_it:
        build()
    if not os.path.exists(binary):
        sys.exit(f"{binary} missing; build it: swift build -c release --product tributary")
    return binary
