"""scripts/tool check-openapi: schemathesis against a running Tributary server and openapi/api.yaml.

Usage: scripts/tool check-openapi [--url http://127.0.0.1:PORT] [--max-examples N] [--seed S] [extra st args...]

Without --url it starts `tributary serve` (TRIBUTARY_BIN or .build/debug/tributary) on a free
loopback port with a fresh data directory and stops it afterwards. It seeds customers and orders
(so generated requests reach business logic), then runs every operation of the spec through
schemathesis' examples, coverage, fuzzing and stateful phases with every check (`--checks all`:
server errors, responses outside the spec, schema-valid requests rejected, schema-violating
requests accepted, ...) at their default expectations, except the few answers schemathesis.toml
(at the repository root) names as correct business outcomes. Exit status 0 only when no check
failed. The generated requests go to 127.0.0.1 only.

Not covered here: the SSE operations under /streams (infinite text/event-stream responses;
they have their own end-to-end tests) and /openapi/* while the server does not serve them yet
(reported, then skipped).
"""

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

from .server import ROOT, Server, ServerError, env_binary

SPEC = ROOT / "openapi" / "api.yaml"
CONFIG = ROOT / "schemathesis.toml"


def request(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def seed(base):
    """A few customers and orders in every status; returns their ids."""
    customers, orders = [], []
    for i, (limit, cur) in enumerate([(1_000_000, "EUR"), (500, "USD"), (50_000, "GBP")]):
        cid = f"st-c{i}"
        request(base, "POST", "/commands/customers/register",
                {"customerId": cid, "name": f"Seed Customer{i}", "email": f"seed{i}@example.com", "creditLimit": limit, "currency": cur})
        customers.append(cid)
    # Orders' customer replica follows the public log: wait until it has seen the registrations.
    deadline = time.monotonic() + 10
    while True:
        _, body = request(base, "GET", "/public/events?types=customer.registered&limit=1000")
        found = [e["position"] for e in json.loads(body)["events"] if e["data"]["customerId"] in customers]
        if len(found) == len(customers) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    request(base, "GET", f"/queries/orders?limit=1&minPosition=public:{max(found, default=0)}")
    for i, (cid, cur, qty) in enumerate([("st-c0", "EUR", 1), ("st-c0", "EUR", 2), ("st-c1", "USD", 50), ("st-c2", "GBP", 1), ("st-c0", "EUR", 3)]):
        oid = f"st-o{i}"
        request(base, "POST", "/commands/orders/place",
                {"orderId": oid, "customerId": cid, "currency": cur, "lines": [{"sku": "SKU-1", "quantity": qty, "unitPrice": 100}]})
        orders.append(oid)
    request(base, "GET", "/queries/orders/st-o4?minPosition=orders:5")
    time.sleep(0.5)   # let the saga approve / reject
    request(base, "POST", "/commands/orders/st-o1/ship")
    request(base, "POST", "/commands/orders/st-o3/cancel", {"reason": "seed"})
    return {"customers": customers, "orders": orders}


def start_server():
    server = Server(env_binary(), "none")
    try:
        server.start(listen_timeout=30)
    except ServerError:
        server.cleanup()
        sys.exit("check-openapi: the server did not start")
    return server


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/tool check-openapi", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="base URL of a running server (default: start one)")
    ap.add_argument("--max-examples", type=int, default=50)
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--workers", default="1")
    args, extra = ap.parse_known_args(argv)

    server = None
    base = args.url
    if not base:
        server = start_server()
        base = server.url
    try:
        ids = seed(base)
        exclude = [r"^/streams/"]
        status, _ = request(base, "GET", "/openapi/api.yaml")
        if status == 404:
            print("check-openapi: NOTE: GET /openapi/*.yaml answers 404 (not served yet): skipping those operations", file=sys.stderr)
            exclude.append(r"^/openapi/")
        env = dict(os.environ, SCHEMATHESIS_HOOKS="tributary_tools.openapi_hooks", TRIBUTARY_SEED_IDS=json.dumps(ids),
                   PYTHONPATH=str(ROOT / "scripts") + os.pathsep + os.environ.get("PYTHONPATH", ""))
        if not base.startswith(("http://127.0.0.1:", "http://localhost:")):
            sys.exit(f"check-openapi: {base} is not a loopback address")
        cmd = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run", str(SPEC), "--url", base,
               "--checks", "all", "--max-examples", str(args.max_examples), "--seed", str(args.seed),
               "--workers", args.workers, "--request-timeout", "10", "--no-color", "--suppress-health-check", "all",
               "--exclude-path-regex", "|".join(exclude), *extra]
        print("check-openapi: " + " ".join(cmd), file=sys.stderr, flush=True)
        return subprocess.call(cmd, env=env, cwd=ROOT)
    finally:
        if server:
            server.stop(timeout=10)
            server.cleanup()
