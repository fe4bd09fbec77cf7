"""scripts/tool loop-syscalls: proof by measurement that the loop thread never waits on the disk.

Starts the server (fsync durability) on a fresh data directory, seeds customers and orders,
restarts it (so every aggregate stream is cold: outside the state cache), attaches strace to the
loop thread (the process's main thread: `tributary serve` runs its libuv loop there), runs a mixed
load for --seconds — commands on cold and warm streams, detail, list, history and temporal
queries, public-log pages, SSE resumes, /health and /metrics — then detaches before the server
stops. Every system call of the loop thread on a file (strace -y names each descriptor, so a
socket read is told apart from a file read; plus open/rename/unlink/stat/getdents by path) and
every getrandom is counted; any is a failure (exit 1). Only 127.0.0.1."""
import argparse, json, os, random, re, signal, subprocess, sys, tempfile, threading, time, urllib.parse
from pathlib import Path

from .common import ROOT, get, log, post
from .deps import apt_install
from .server import Server

# System calls that always touch the file system, and those that do when their descriptor is a file.
PATH_CALLS = {"open", "openat", "openat2", "creat", "rename", "renameat", "renameat2", "unlink", "unlinkat", "mkdir",
              "mkdirat", "stat", "lstat", "newfstatat", "statx", "access", "faccessat", "faccessat2", "getdents64",
              "truncate", "readlink", "readlinkat"}
FD_CALLS = {"read", "write", "pread64", "pwrite64", "readv", "writev", "preadv", "pwritev", "preadv2", "pwritev2",
            "fsync", "fdatasync", "ftruncate", "fstat", "flock", "fallocate", "sync_file_range", "lseek"}
OTHER = {"getrandom"}
LINE = re.compile(r"^(\d+)\s+(?:<\.\.\. )?(\w+)\(")
FILE_FD = re.compile(r"\(\d+</(?!dev/|proc/)")   # fd annotated with a path (not a socket, pipe, device)


def classify(line: str, loop_tid: int):
    """The counted system call of one strace line, or None."""
    m = LINE.match(line)
    if not m or int(m.group(1)) != loop_tid or "resumed>" in line:
        return None
    call = m.group(2)
    if call in PATH_CALLS or call in OTHER:
        return call
    if call in FD_CALLS and FILE_FD.search(line):
        return call
    return None


def load(port: int, seconds: float, customers: list, orders: list, stop_at: float):
    """A mixed load from a few threads until stop_at: commands (cold and warm streams), queries,
    public-log pages, SSE resumes, /health, /metrics."""
    errors = []

    def commands(worker):
        rng = random.Random(worker)
        n = 0
        while time.monotonic() < stop_at:
            cid = rng.choice(customers)
            choice = n % 4
            if choice == 0:
                status, _ = post(port, f"/commands/customers/{cid}/rename", {"name": f"Renamed {worker} {n}"})
            elif choice == 1:
                status, _ = post(port, "/commands/orders/place",
                                 {"customerId": cid, "currency": "EUR", "lines": [{"sku": "S-1", "quantity": 1, "unitPrice": 100}]})
            elif choice == 2:
                status, _ = post(port, "/commands/customers/register",
                                 {"name": "New One", "email": f"n{worker}-{n}@example.com", "creditLimit": 1000, "currency": "EUR"})
            else:
                status, _ = post(port, f"/commands/orders/{rng.choice(orders)}/cancel", {"reason": "audit"})
            if status not in (200, 201, 409, 422):
                errors.append(f"command status {status}")
            n += 1

    def queries(worker):
        rng = random.Random(100 + worker)
        paths = lambda: [f"/queries/customers/{rng.choice(customers)}", "/queries/customers?limit=20",
                         f"/queries/orders/{rng.choice(orders)}", "/queries/orders?limit=20", "/queries/stats",
                         f"/queries/customers/{rng.choice(customers)}/history", f"/queries/orders/{rng.choice(orders)}/history",
                         f"/queries/customers/{rng.choice(customers)}?version=0", f"/queries/orders/{rng.choice(orders)}?asOf=2100-01-01T00:00:00Z",
                         f"/public/events?after={rng.randint(0, 50)}&limit=50", "/health", "/ready", "/metrics"]
        while time.monotonic() < stop_at:
            for path in paths():
                status, _, _ = get(port, path)
                if status not in (200, 404):
                    errors.append(f"GET {path}: {status}")

    def streams():
        import http.client
        while time.monotonic() < stop_at:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/streams/public?lastEventId=0")
            r = c.getresponse()
            r.read1(65536)   # the catch-up replays from the store
            c.close()

    threads = [threading.Thread(target=commands, args=(w,)) for w in range(3)]
    threads += [threading.Thread(target=queries, args=(w,)) for w in range(2)]
    threads.append(threading.Thread(target=streams))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def main(argv=None):
    p = argparse.ArgumentParser(prog="scripts/tool loop-syscalls", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=20, help="length of the traced load (default 20)")
    p.add_argument("--customers", type=int, default=200, help="customers seeded before the restart (default 200)")
    p.add_argument("--binary", default=None, help="tributary binary (default: .build/release/tributary, built if missing)")
    args = p.parse_args(argv)
    apt_install("strace")
    binary = args.binary or str(Path(ROOT) / ".build/release/tributary")
    if args.binary is None and not Path(binary).exists():
        subprocess.run(["swift", "build", "-c", "release", "--product", "tributary"], cwd=ROOT, check=True)
    data = tempfile.mkdtemp(prefix="tributary-loop-syscalls-")
    server = Server(binary, "fsync", data)
    try:
        server.start(ready_timeout=120)
        customers = [f"c{i}" for i in range(args.customers)]
        orders = []
        for cid in customers:
            post(server.port, "/commands/customers/register",
                 {"customerId": cid, "name": "Seed Customer", "email": f"{cid}@example.com", "creditLimit": 100_000, "currency": "EUR"})
        for i, cid in enumerate(customers[: args.customers // 2]):
            oid = f"o{i}"
            post(server.port, "/commands/orders/place",
                 {"orderId": oid, "customerId": cid, "currency": "EUR", "lines": [{"sku": "S-1", "quantity": 1, "unitPrice": 100}]})
            orders.append(oid)
        server.stop()
        server.start(ready_timeout=120)   # every stream is cold now
        trace = Path(data) / "loop.strace"
        tracer = subprocess.Popen(["strace", "-f", "-y", "-qq", "-o", str(trace), "-p", str(server.proc.pid)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.0)   # strace attaches to every thread
        if tracer.poll() is not None:
            print("loop-syscalls: strace could not attach: " + tracer.stderr.read().decode(), file=sys.stderr)
            return 2
        log(f"tracing the loop thread (pid {server.proc.pid}) under a mixed load for {args.seconds:.0f} s")
        errors = load(server.port, args.seconds, customers, orders, time.monotonic() + args.seconds)
        tracer.send_signal(signal.SIGINT)   # detach before the server shuts down (shutdown may write)
        tracer.wait(timeout=30)
        counts, examples, total_loop = {}, {}, 0
        for line in trace.read_text(errors="replace").splitlines():
            m = LINE.match(line)
            if m and int(m.group(1)) == server.proc.pid:
                total_loop += 1
            call = classify(line, server.proc.pid)
            if call:
                counts[call] = counts.get(call, 0) + 1
                examples.setdefault(call, line[:200])
    finally:
        server.stop()
        import shutil
        shutil.rmtree(data, ignore_errors=True)
    print(f"loop thread system calls traced: {total_loop}")
    if total_loop == 0:
        print("loop-syscalls: nothing traced on the loop thread: the trace is not trustworthy", file=sys.stderr)
        return 2
    print(f"file system calls on the loop thread: {sum(counts.values())}")
    for call, n in sorted(counts.items()):
        print(f"  {call}: {n}   e.g. {examples[call]}")
    if errors:
        print(f"load errors: {len(errors)}, first: {errors[:3]}", file=sys.stderr)
        return 1
    return 1 if counts else 0
