"""Read-model snapshots across restarts (`--snapshot-every`): a graceful stop snapshots every
read model and the next start loads them and replays only the tail; after SIGKILL the periodic
snapshots plus the tail give the same read models; a snapshot the store no longer backs (the
store lost its tail, or lost it and grew again) is ignored and the read model is rebuilt. Every
time the read models must equal /admin/consistency's fresh rebuild."""

import hashlib
import shutil
import signal
import time

from conftest import start_server_with_args, stop_server
from cqrs_client import Api, describe, line
from test_cqrs_restart import capture, consistency, scenario, view_positions

PROJECTIONS = ["customers-directory", "customers-order-activity", "orders.views", "orders.customer-replica"]
# Where each read model keeps its snapshot: its own service's store.
SNAPSHOT_STORE = {"customers-directory": "customers", "customers-order-activity": "customers",
                  "orders.views": "orders", "orders.customer-replica": "orders"}


def start(data_dir, every: int = 5):
    return start_server_with_args(data_dir, ["--snapshot-every", str(every), "--snapshot-min-interval", "0"])


def wait_ready(api: Api, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while api.get("/ready").status_code != 200:
        assert time.monotonic() < deadline, "not ready in time"
        time.sleep(0.05)


def log_lines(srv, text: str) -> list[str]:
    return [l for l in srv.output if text in l]


def snapshot_file(data_dir, projection: str):
    digest = hashlib.sha256(f"$projection-{projection}".encode()).hexdigest()
    return data_dir / SNAPSHOT_STORE[projection] / "snapshots" / f"{digest}.snap"


def more_writes(api: Api, customer_id: str, n: int = 3) -> None:
    for i in range(n):
        o = api.place(customer_id, [line(f"X{i}", 1, 10)])
        api.wait_order(o["id"], "approved")
    api.customer_cmd(customer_id, "rename", {"name": f"Renamed {n}"})
    api.settle()


def test_graceful_restart_loads_every_snapshot_and_equals_a_rebuild(tmp_path):
    data = tmp_path / "data"
    srv = start(data, every=1000)   # no periodic snapshot: only the shutdown ones
    api = Api(srv.base)
    key = {"Idempotency-Key": "snapshot-restart-1"}
    try:
        ids = scenario(api)
        first = api.post(f"/commands/customers/{ids['customers'][1]}/rename", {"name": "Keyed"}, key)
        assert first.status_code == 200, describe(first)
        api.settle()
        consistency(api)
        positions = view_positions(api)
        before = capture(api, ids)
    finally:
        api.close()
    stop_server(srv)
    for p in PROJECTIONS:
        assert log_lines(srv, f"'{p}' saved snapshot at position"), "\n".join(srv.output[-30:])
        assert snapshot_file(data, p).exists()

    srv = start(data, every=1000)
    api = Api(srv.base)
    try:
        wait_ready(api)
        for p in PROJECTIONS:
            loaded = log_lines(srv, f"'{p}' loaded snapshot at position")
            assert loaded, "\n".join(srv.output[-30:])
            # Nothing was written after the shutdown snapshot: no tail to replay.
            assert not log_lines(srv, f"replay {p}:") or log_lines(srv, f"replay {p}: 0 events"), "\n".join(srv.output)
        assert capture(api, ids, wait_for=positions) == before
        consistency(api)
        # The idempotency index came from its startup-scan snapshot: the retry is a replay.
        assert log_lines(srv, "'customers-credit.startup-scan' loaded snapshot at position"), "\n".join(srv.output)
        again = api.post(f"/commands/customers/{ids['customers'][1]}/rename", {"name": "Keyed"}, key)
        assert (again.status_code, again.json()) == (first.status_code, first.json())
        other = api.post(f"/commands/customers/{ids['customers'][1]}/rename", {"name": "Other"}, key)
        assert other.status_code == 422 or other.status_code == 409, describe(other)
        # Still takes writes; the saga still runs; names follow renames.
        more_writes(api, ids["customers"][0])
        consistency(api)
    finally:
        api.close()
    stop_server(srv)


def test_sigkill_restart_uses_periodic_snapshots_plus_the_tail(tmp_path):
    data = tmp_path / "data"
    srv = start(data, every=5)
    api = Api(srv.base)
    try:
        ids = scenario(api)
        more_writes(api, ids["customers"][0], n=2)   # some events after the last periodic snapshot
        consistency(api)
        positions = view_positions(api)
        before = capture(api, ids)
        assert log_lines(srv, "saved snapshot at position"), "\n".join(srv.output[-30:])
    finally:
        api.close()
    srv.process.send_signal(signal.SIGKILL)
    srv.process.wait()

    srv = start(data, every=5)
    api = Api(srv.base)
    try:
        wait_ready(api)
        assert log_lines(srv, "loaded snapshot at position"), "\n".join(srv.output)
        assert capture(api, ids, wait_for=positions) == before
        consistency(api)
        more_writes(api, ids["customers"][0])
        consistency(api)
    finally:
        api.close()
    stop_server(srv)


def test_snapshots_the_store_does_not_back_are_ignored(tmp_path):
    """Simulates a store that lost its tail in a crash after the snapshots were written: a copy
    of the data taken earlier, with the later read-model snapshots put back into it."""
    data = tmp_path / "data"
    srv = start(data, every=1000)
    api = Api(srv.base)
    try:
        ids = scenario(api)
    finally:
        api.close()
    stop_server(srv)
    earlier = tmp_path / "earlier"
    shutil.copytree(data, earlier)

    srv = start(data, every=1000)
    api = Api(srv.base)
    try:
        wait_ready(api)
        more_writes(api, ids["customers"][0], n=4)
    finally:
        api.close()
    stop_server(srv)   # snapshots now reflect positions the earlier copy does not have
    later = {p: snapshot_file(data, p).read_bytes() for p in PROJECTIONS}

    def put_back_later_snapshots():
        for p, content in later.items():
            snapshot_file(earlier, p).write_bytes(content)

    # 1. The store is behind the snapshots: every read model is rebuilt.
    put_back_later_snapshots()
    srv = start(earlier, every=1000)
    api = Api(srv.base)
    try:
        wait_ready(api)
        ahead = log_lines(srv, "is ahead of the store")
        assert len(ahead) == len(PROJECTIONS), "\n".join(srv.output)
        for p in PROJECTIONS:
            assert not log_lines(srv, f"'{p}' loaded snapshot at position"), "\n".join(srv.output)
        consistency(api)
        # 2. It grows past the snapshots' positions again, with other events.
        more_writes(api, ids["customers"][0], n=8)
        consistency(api)
    finally:
        api.close()
    srv.process.send_signal(signal.SIGKILL)   # keep the periodic/shutdown snapshots out of it
    srv.process.wait()
    put_back_later_snapshots()
    srv = start(earlier, every=1000)
    api = Api(srv.base)
    try:
        wait_ready(api)
        mismatched = log_lines(srv, "does not match the store's event there")
        assert mismatched, "\n".join(srv.output)
        assert not log_lines(srv, "'orders.views' loaded snapshot"), "\n".join(srv.output)
        r = api.get("/admin/consistency")
        assert r.status_code == 200 and r.json()["consistent"] is True, describe(r)
    finally:
        api.close()
    stop_server(srv)


def test_a_damaged_snapshot_is_ignored(tmp_path):
    data = tmp_path / "data"
    srv = start(data, every=1000)
    api = Api(srv.base)
    try:
        ids = scenario(api)
        positions = view_positions(api)
        before = capture(api, ids)
    finally:
        api.close()
    stop_server(srv)
    for p in PROJECTIONS:
        path = snapshot_file(data, p)
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 0xFF   # fails the file's CRC: read as no snapshot
        path.write_bytes(bytes(raw))
    srv = start(data, every=1000)
    api = Api(srv.base)
    try:
        wait_ready(api)
        for p in PROJECTIONS:
            assert not log_lines(srv, f"'{p}' loaded snapshot at position"), "\n".join(srv.output)
            assert log_lines(srv, f"'{p}': no snapshot, replaying from the start"), "\n".join(srv.output)
        assert capture(api, ids, wait_for=positions) == before
        consistency(api)
    finally:
        api.close()
    stop_server(srv)
