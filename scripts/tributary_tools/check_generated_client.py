"""CI check: a client generated from openapi/api.yaml by swift-openapi-generator runs one command and
one query end-to-end against a real server (issue 6): proof that the spec is usable by someone
else's tooling. See Tests/GeneratedClient/ (its own SwiftPM package; openapi.yaml there is a
symlink to openapi/api.yaml). Front door: scripts/check-generated-client."""
import os, shutil, signal, subprocess, sys, tempfile, time

from .common import log
from .deps import ensure_build_deps
from .server import ROOT, Server, ServerError, env_binary

USAGE = """usage: scripts/check-generated-client [--no-build] [--timeout SECONDS]

Builds the server (swift build --product tributary, scratch path .build) and the generated
client package (swift build --package-path Tests/GeneratedClient), starts
`tributary serve --listen 127.0.0.1:0 --data <tmp> --durability none`, runs
tributary-client-check against it (registerCustomer, then getCustomer with minPosition, fields
checked), stops the server and removes the data directory.

  --no-build         use the binaries already built (.build/debug/tributary and
                     Tests/GeneratedClient/.build/debug/tributary-client-check)
  --timeout SECONDS  bound for the whole run, builds included (default 1500; the first
                     build of the client package compiles the generator: about 1.5-3 min)
  -h, --help         this text

Environment: TRIBUTARY_BIN overrides the server binary (implies it is already built).
Prints one closing line, "check-generated-client: PASS" or "check-generated-client: FAIL: why";
exit status 0 only on PASS.
"""


class Fail(Exception):
    pass


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    build, timeout_s = True, 1500
    while argv:
        a = argv.pop(0)
        if a in ("-h", "--help"):
            print(USAGE, end="")
            return 0
        elif a == "--no-build":
            build = False
        elif a == "--timeout" and argv and argv[0].isdigit():
            timeout_s = int(argv.pop(0))
        else:
            log(f"check-generated-client: {'--timeout needs a value' if a == '--timeout' else 'unknown argument: ' + a}")
            sys.stderr.write(USAGE)
            return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    state = {}
    try:
        return check(build, timeout_s, state)
    except Fail as e:
        print(f"check-generated-client: FAIL: {e}", flush=True)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        if "server" in state:
            state["server"].stop(timeout=5)
        if "data" in state:
            shutil.rmtree(state["data"], ignore_errors=True)


def check(build, timeout_s, state):
    start = time.monotonic()

    def remaining():
        left = timeout_s - int(time.monotonic() - start)
        if left <= 0:
            raise Fail(f"timed out after {timeout_s}s")
        return left

    def bounded(cmd, **kw):
        """The command under coreutils `timeout` with what is left of the time bound (124 when it ran out)."""
        return subprocess.run(["timeout", str(remaining()), *cmd], **kw).returncode

    server_bin = env_binary()
    client_pkg = ROOT / "Tests" / "GeneratedClient"
    if build:
        ensure_build_deps()
        if not os.environ.get("TRIBUTARY_BIN"):
            log("==> swift build --product tributary")
            if bounded(["swift", "build", "--package-path", str(ROOT), "--product", "tributary"], stdout=sys.stderr) != 0:
                raise Fail("building the server failed (or timed out)")
        log("==> swift build --package-path Tests/GeneratedClient")
        t0 = time.monotonic()
        if bounded(["swift", "build", "--package-path", str(client_pkg), "--product", "tributary-client-check"],
                   stdout=sys.stderr) != 0:
            raise Fail("building the generated client failed (or timed out): the generator rejected openapi/api.yaml "
                       "or the client does not compile")
        log(f"==> client package built in {int(time.monotonic() - t0)}s")
    bin_path = subprocess.run(["swift", "build", "--package-path", str(client_pkg), "--show-bin-path"],
                              capture_output=True, text=True).stdout.strip()
    client_bin = os.path.join(bin_path, "tributary-client-check")
    if not os.access(server_bin, os.X_OK):
        raise Fail(f"no server binary at {server_bin}")
    if not os.access(client_bin, os.X_OK):
        raise Fail(f"no client binary at {client_bin}")

    state["data"] = data = tempfile.mkdtemp(prefix="check-generated-client.", dir=os.environ.get("TMPDIR") or "/tmp")
    server = state["server"] = Server(server_bin, "none", data)
    try:
        server.start(listen_timeout=30)
    except ServerError as e:
        for line in e.output:
            log(f"  server: {line}")
        raise Fail("the server did not start")
    log(f"==> server at {server.url} (pid {server.pid})")
    left = min(remaining(), 60)
    rc = subprocess.run(["timeout", str(left), client_bin, server.url]).returncode
    if rc != 0:
        log("  --- server log ---")
        for line in server.output[-20:]:
            log(f"  server: {line}")
        raise Fail("tributary-client-check timed out" if rc == 124 else f"tributary-client-check exited {rc}")
    if server.proc.poll() is not None:
        raise Fail("the server died during the check")
    print("check-generated-client: PASS", flush=True)
    return 0
