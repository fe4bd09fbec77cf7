"""scripts/tool chaos-cluster: crash safety of the split deployment: a `scripts/cluster` (a customers
and an orders writer, a standby of each, query replicas, nginx in front, PostgreSQL), a command load
through the front, and at a random moment of every cycle one of these dies the hard way:

  - the customers writer or the orders writer (SIGKILL; its standby or its own restart takes the lease),
  - a query replica (SIGKILL; its supervisor starts it again),
  - PostgreSQL (`pg_ctl stop -m immediate`, started again 0.3 to 1 s later: every writer loses its
    lease and exits, the supervisors start them again as standbys until one takes each lease).

  scripts/tool chaos-cluster [--cycles N] [--max-seconds S] [--clients C] [--replicas R] [--seed X] [--dir DIR]

After each cycle the commands whose answer was lost (a dropped connection, nginx's 502) are sent
again with their Idempotency-Key, the cluster settles (every process /ready, every lag 0, no order
pending, the public log quiet), and the checks of `scripts/tool chaos` run through the front:
every acknowledged command is in its stream at its version and position, every published
internal event has exactly one public event, no order has two credit reservations, reserved
credit matches the public log. Then for the cluster: exactly one writer per service holds its
lease, every process (writers, standbys, replicas) reports /admin/consistency consistent, and the
replicas of a service (and its writer and standby) give identical answers to the same list
queries at the same position. Defaults: 20 cycles, 600 s bound, 3 clients, 2 replicas per service.
The binary: $TRIBUTARY_BIN, else a release build."""
from __future__ import annotations

import argparse, json, os, random, shutil, signal, sys, tempfile, time
from pathlib import Path

from .chaos import ChaosFailure, Client, Load, State, check, paged, public_log, retry_in_flight
from .cluster import ClusterDir, down, get_json, up
from .pgcluster import Cluster as PG


class ClusterState(State):
    """A 502/504 from nginx is an answer lost on the way (no process reachable, or one died
    mid-request): the command's outcome is unknown, as with a dropped connection, so it is sent
    again later with the same key."""

    def answered(self, path, body, sid, key, status, raw) -> None:
        if status in (502, 504):
            self.in_flight(path, body, sid, key)
            time.sleep(0.05)   # as after a dropped connection: no process reachable just now
            return
        super().answered(path, body, sid, key, status, raw)


def writers(cd: ClusterDir, layout: dict) -> dict[str, list[str]]:
    """Service -> the processes that report themselves its writer now."""
    out: dict[str, list[str]] = {}
    for p in layout["processes"]:
        _, health = get_json(p["port"], "/health")
        role = (health or {}).get("role", {})
        if role.get("writer") == "leader":
            out.setdefault(role.get("service"), []).append(p["name"])
    return out


def settle(cd: ClusterDir, layout: dict, front: Client, timeout: float = 120.0) -> None:
    """Every process ready with every lag 0, one writer per service, no pending order, the public
    log unchanged for 0.5 s."""
    deadline = time.monotonic() + timeout
    previous, since, why = None, 0.0, "?"
    while time.monotonic() < deadline:
        calm = True
        for p in layout["processes"]:
            status, _ = get_json(p["port"], "/ready")
            _, health = get_json(p["port"], "/health")
            if status != 200 or health is None:
                calm, why = False, f"{p['name']} not ready"
                break
            lags = [c.get("lag", 0) for c in health["components"] if c["kind"] in ("projection", "publisher")]
            if any(lags):
                calm, why = False, f"{p['name']} lags {lags}"
                break
        if calm:
            w = writers(cd, layout)
            if sorted(w) != ["customers", "orders"] or any(len(v) != 1 for v in w.values()):
                calm, why = False, f"writers {w}"
        last = None
        if calm:
            try:
                if front.json("/queries/orders?status=pending&limit=1")["items"]:
                    calm, why = False, "orders pending"
                last = front.json("/public/events?after=0&limit=1")["lastPosition"]
            except Exception as e:  # noqa: BLE001 (a restarting replica behind nginx)
                calm, why = False, f"front: {e}"
        if calm and last == previous:
            if time.monotonic() - since >= 0.5:
                return
        else:
            previous, since = (last if calm else None), time.monotonic()
        time.sleep(0.1)
    raise ChaosFailure(f"cluster did not settle within {timeout:.0f} s: {why}")


def check_cluster(cd: ClusterDir, layout: dict) -> int:
    """One writer per service; every process consistent; the same answers everywhere. Returns the
    number of processes compared."""
    w = writers(cd, layout)
    if sorted(w) != ["customers", "orders"] or any(len(v) != 1 for v in w.values()):
        raise ChaosFailure(f"expected one writer per service, got {w}")
    answers: dict[str, dict[str, object]] = {}
    for p in layout["processes"]:
        client = Client(p["port"], timeout=60)
        try:
            cons = client.json("/admin/consistency")
            if cons.get("consistent") is not True:
                raise ChaosFailure(f"{p['name']}: /admin/consistency: {json.dumps(cons)[:600]}")
            _, health = get_json(p["port"], "/health")
            service = health["role"]["service"]
            kind = "customers" if service == "customers" else "orders"
            answers.setdefault(service, {})[p["name"]] = paged(client, f"/queries/{kind}")
            if service == "orders":
                answers.setdefault("stats", {})[p["name"]] = client.json("/queries/stats")
            answers.setdefault("public", {})[p["name"]] = public_log(client)
        finally:
            client.close()
    for what, by_process in answers.items():
        names = sorted(by_process)
        first = by_process[names[0]]
        for n in names[1:]:
            if by_process[n] != first:
                raise ChaosFailure(f"{what}: {n} answers differently from {names[0]}")
    return len(layout["processes"])


def settle_and_check(cd: ClusterDir, layout: dict, front_port: int, state: State) -> tuple[dict, int, int]:
    """Settles the cluster, sends again what was in flight, settles again, then runs every check:
    (the counts of `chaos.check`, processes compared, commands sent again)."""
    front = Client(front_port)
    try:
        settle(cd, layout, front)
        retried = retry_in_flight(front, state)
        settle(cd, layout, front)
        return check(front, state), check_cluster(cd, layout), retried
    finally:
        front.close()


def run(cycles: int, max_seconds: float, clients: int, replicas: int, directory: Path, seed: int, log=print,
        plan: list[str] | None = None) -> dict:
    """`plan`: what dies in the first cycles (customers, orders, replica, postgresql); random after."""
    rng = random.Random(seed)
    started = time.monotonic()
    layout = up(str(directory), replicas=replicas, standbys=True, fsync=False)
    cd = ClusterDir(str(directory))
    state = ClusterState(directory / "acks.jsonl")
    front_port = layout["front"]
    pg = PG.existing(layout["pg"])
    kills: dict[str, int] = {}
    retried = 0
    try:
        cycle = 0
        while cycle < cycles:
            if time.monotonic() - started > max_seconds:
                log(f"time bound {max_seconds}s reached after {cycle} cycles")
                break
            cycle += 1
            counts, compared, sent_again = settle_and_check(cd, layout, front_port, state)
            retried += sent_again
            load = Load(front_port, clients, rng, state)
            load.start()
            time.sleep(rng.uniform(0.3, 2.0))
            roll = rng.random()
            if plan and cycle <= len(plan):
                roll = {"postgresql": 0.1, "customers": 0.3, "orders": 0.6, "replica": 0.9}[plan[cycle - 1]]
            if roll < 0.2:
                victim = "postgresql"
                pg.stop("immediate")
                time.sleep(rng.uniform(0.3, 1.0))
                pg.start()
            else:
                w = writers(cd, layout)
                if roll < 0.45:
                    victim = (w.get("customers") or ["customers"])[0]
                elif roll < 0.7:
                    victim = (w.get("orders") or ["orders"])[0]
                else:
                    victim = rng.choice([p["name"] for p in layout["processes"] if "-q" in p["name"]])
                pid = cd.pid(victim)
                if pid:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            kind = "postgresql" if victim == "postgresql" else ("replica" if "-q" in victim else "writer")
            kills[kind] = kills.get(kind, 0) + 1
            time.sleep(rng.uniform(0.2, 1.0))
            load.stop()
            log(f"cycle {cycle}/{cycles}: checked {counts['acks']} acked commands, {counts['public']} public events, "
                f"{compared} processes alike; killed {victim} under load ({time.monotonic() - started:.0f}s)")
        counts, compared, sent_again = settle_and_check(cd, layout, front_port, state)
        retried += sent_again
        return {"cycles": cycle, "kills": kills, "retried": retried, "statuses": state.statuses,
                "processes": compared, "seconds": round(time.monotonic() - started, 1), **counts}
    finally:
        down(str(directory))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="scripts/tool chaos-cluster", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cycles", type=int, default=20, help="kill cycles (1..1000, default 20)")
    p.add_argument("--max-seconds", type=float, default=600, help="stop after this long whatever the count (default 600)")
    p.add_argument("--clients", type=int, default=3, help="keep-alive load clients through the front (1..16, default 3)")
    p.add_argument("--replicas", type=int, default=2, help="query replicas per service (1..4, default 2)")
    p.add_argument("--dir", type=Path, help="cluster directory (default: a fresh temporary one, removed on success)")
    p.add_argument("--seed", type=int, default=int(time.time()), help="random seed (printed)")
    a = p.parse_args(argv)
    tmp = None
    if a.dir is None:
        tmp = Path(tempfile.mkdtemp(prefix="tributary-chaos-cluster-"))
        os.chmod(tmp, 0o755)
        directory = tmp / "cluster"
    else:
        directory = a.dir
    cycles, clients, replicas = max(1, min(a.cycles, 1000)), max(1, min(a.clients, 16)), max(1, min(a.replicas, 4))
    print(f"chaos-cluster: {cycles} cycles, {clients} clients, {replicas} replicas per service, seed {a.seed}, dir {directory}",
          flush=True)
    try:
        result = run(cycles, a.max_seconds, clients, replicas, directory, a.seed, log=lambda m: print(m, flush=True))
    except ChaosFailure as e:
        print(f"CHAOS FAILED: {e}\n(cluster logs kept in {directory / 'logs'}; acks in {directory / 'acks.jsonl'})",
              file=sys.stderr)
        return 1
    print(f"chaos-cluster passed: {json.dumps(result)}")
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
