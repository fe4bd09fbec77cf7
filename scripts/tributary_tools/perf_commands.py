"""scripts/tool perf-commands: a fixed, deterministic command workload for CPU profiling (callgrind) of the command path.

Sends N commands (default 2000) one at a time over one keep-alive connection to a running
server: registers, places with 1-5 lines, add-line, remove-line, cancel, ship, every one with
an Idempotency-Key. Waits for the saga (credit reservation, approval) to settle between phases
and at the end, so that everything the commands trigger is included in a measurement window.
With --callgrind PID, instrumentation is switched on just before the workload and off after it
(`callgrind_control -i on|off`), so start-up and shutdown are not counted.
Usage: scripts/tool perf-commands --port P [--count N] [--seed S] [--callgrind PID]
"""
import argparse, http.client, json, random, subprocess, sys, time


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/tool perf-commands", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--callgrind", type=int, help="pid of a server under valgrind --tool=callgrind --instr-atstart=no")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=600)
    sent = [0]
    statuses = {}

    def post(path, body):
        sent[0] += 1
        conn.request("POST", path, body=json.dumps(body),
                     headers={"Content-Type": "application/json", "Idempotency-Key": f"pk-{sent[0]}"})
        r = conn.getresponse(); data = r.read()
        statuses[r.status] = statuses.get(r.status, 0) + 1
        if r.status >= 300 and statuses[r.status] <= 3:
            print(f"{path} -> {r.status} {data[:200]!r}", file=sys.stderr)

    def settle():
        while True:
            conn.request("GET", "/queries/stats"); r = conn.getresponse(); s = json.loads(r.read())
            if s.get("ordersByStatus", {}).get("pending", 0) == 0:
                return
            time.sleep(0.2)

    n = args.count
    # shares: 15% register, 35% place, 15% add-line, 10% remove-line, 12.5% cancel, 12.5% ship
    n_reg, n_place = n * 15 // 100, n * 35 // 100
    n_add, n_remove = n * 15 // 100, n * 10 // 100
    n_cancel = n * 125 // 1000
    n_ship = n - n_reg - n_place - n_add - n_remove - n_cancel
    skus = [f"SKU-{i}" for i in range(1, 41)]
    orders = {}

    if args.callgrind:
        subprocess.run(["callgrind_control", "-i", "on", str(args.callgrind)], check=True, capture_output=True)
    t0 = time.monotonic()
    customers = [f"pc-{i}" for i in range(n_reg)]
    for cid in customers:
        post("/commands/customers/register", {"customerId": cid, "name": f"Perf Customer {cid}",
             "email": f"{cid}@example.com", "creditLimit": 10**14, "currency": "EUR"})
    for i in range(n_place):
        oid = f"po-{i}"
        lines = [{"sku": s, "quantity": rng.randint(1, 5), "unitPrice": rng.randint(100, 20000)}
                 for s in rng.sample(skus, rng.randint(1, 5))]
        orders[oid] = [l["sku"] for l in lines]
        post("/commands/orders/place", {"orderId": oid, "customerId": customers[i % len(customers)],
             "currency": "EUR", "lines": lines})
    settle()
    ids = list(orders)
    for i in range(n_add):
        oid = ids[i % len(ids)]
        sku = f"ADD-{i}"
        orders[oid].append(sku)
        post(f"/commands/orders/{oid}/add-line", {"sku": sku, "quantity": 1 + i % 3, "unitPrice": 500 + i})
    for i in range(n_remove):
        oid = ids[(n_add + i) % len(ids)]
        sku = orders[oid].pop() if len(orders[oid]) > 1 else None
        if sku:
            post(f"/commands/orders/{oid}/remove-line", {"sku": sku})
        else:
            post(f"/commands/orders/{oid}/add-line", {"sku": f"REM-{i}", "quantity": 1, "unitPrice": 100})
    settle()
    for i in range(n_cancel):
        post(f"/commands/orders/{ids[-1 - i]}/cancel", {"reason": "perf run"})
    for i in range(n_ship):
        post(f"/commands/orders/{ids[i]}/ship", {})
    settle()
    elapsed = time.monotonic() - t0
    if args.callgrind:
        subprocess.run(["callgrind_control", "-i", "off", str(args.callgrind)], check=True, capture_output=True)
    print(json.dumps({"commands": sent[0], "statuses": statuses, "seconds": round(elapsed, 2)}))
