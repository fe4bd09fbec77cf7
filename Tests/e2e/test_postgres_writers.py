"""Several writer processes append to one PostgreSQL store at once while another process
follows it (a subscription and blocking reads after the last position seen). Two writers
hold every batch's positions uncommitted for a while (the engine's test hook, as a slow
commit would), so commits finish out of the order writers began them. The follower must see
1, 2, 3, ... each once with no gap, and every acknowledged position must be there: positions
are taken under the head row's lock inside the committing transaction. Needs
TRIBUTARY_TEST_POSTGRES_URL (scripts/test starts the cluster and sets it)."""

import os
import subprocess
import uuid

import pytest

from conftest import server_binary
from tributary_tools.pgcluster import database_for


def store_tool():
    return str(server_binary().parent / "tributary-store-tool")


def test_four_writer_processes_and_a_follower_see_no_gap(tmp_path):
    admin = os.environ.get("TRIBUTARY_TEST_POSTGRES_URL")
    if not admin:
        pytest.fail("TRIBUTARY_TEST_POSTGRES_URL is not set: run scripts/test (it starts the cluster)")
    url = database_for(admin, tmp_path / f"writers-{uuid.uuid4()}")
    schema = "many_writers"
    writers, per_writer = 4, 150
    total = writers * per_writer
    # Create the schema first so the follower and the writers meet the same store.
    subprocess.run([store_tool(), "pg-append", "--postgres", url, "--schema", schema, "--appends", "0"],
                   check=True, timeout=60, capture_output=True)
    follower = subprocess.Popen([store_tool(), "pg-follow", "--postgres", url, "--schema", schema,
                                 "--events", str(total), "--seconds", "90"], stdout=subprocess.PIPE, text=True)
    assert follower.stdout.readline().strip() == "following"
    procs = [subprocess.Popen([store_tool(), "pg-append", "--postgres", url, "--schema", schema,
                               "--appends", str(per_writer), "--concurrency", "8",
                               "--hold-ms", "25" if i % 2 == 0 else "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(writers)]
    acked = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        acked += [int(line.split()[1]) for line in out.splitlines() if line.startswith("ack ")]
    out, _ = follower.communicate(timeout=120)
    assert follower.returncode == 0, out
    assert f"followed {total}" in out, out
    assert sorted(acked) == list(range(1, total + 1)), "every acknowledged append has its own position, none missing"
