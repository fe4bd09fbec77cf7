"""scripts/bench idle-conns: memory per idle keep-alive connection.

Starts `tributary serve` (release build) on loopback, opens N keep-alive
connections that each complete one GET /health and then sit idle, and reports
the server's RSS growth per connection (VmRSS from /proc, before vs after).
Bounded: N connections (default 10000), a 120 s deadline, loopback only.
Usage: scripts/bench idle-conns [--connections N] [--bin PATH]
"""
import argparse, resource, socket, sys, tempfile, time

from .server import Server, build


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/bench idle-conns", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--bin", default=None, help="tributary binary (default: build release)")
    args = ap.parse_args(argv)
    binary = args.bin or build(announce=False)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.connections + 1024
    if hard < want:
        sys.exit(f"RLIMIT_NOFILE hard limit {hard} < {want}; raise it (ulimit -Hn)")
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    deadline = time.monotonic() + 120
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(binary, "none", tmp, ["--max-connections", str(args.connections + 100), "--idle-timeout", "600",
                                              "--header-timeout", "600"])
        try:
            server.start(listen_timeout=120)
            port = server.port
            req = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
            # Warm up: a few connections so lazily allocated buffers exist before the baseline.
            warm = []
            for _ in range(50):
                s = socket.create_connection(("127.0.0.1", port)); s.sendall(req); s.recv(65536); warm.append(s)
            time.sleep(0.5)
            before = server.rss_kib()
            socks = []
            for i in range(args.connections):
                if time.monotonic() > deadline:
                    sys.exit(f"deadline reached after {i} connections")
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(req)
                data = s.recv(65536)
                if not data.startswith(b"HTTP/1.1 200"):
                    sys.exit(f"connection {i}: unexpected response {data[:40]!r}")
                socks.append(s)
                if (i + 1) % 2000 == 0:
                    print(f"  {i + 1} connections open, RSS {server.rss_kib()} KiB", file=sys.stderr)
            time.sleep(1.0)
            after = server.rss_kib()
            per = (after - before) * 1024 / args.connections
            print(f"idle keep-alive connections: {args.connections}")
            print(f"server RSS before: {before} KiB, after: {after} KiB")
            print(f"RSS per idle connection: {per:.0f} bytes ({per / 1024:.2f} KiB); target <= 4 KiB: "
                  f"{'met' if per <= 4096 else 'MISSED'}")
            for s in socks + warm:
                s.close()
        finally:
            server.stop(timeout=15, check=True)
