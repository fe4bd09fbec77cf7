"""CI short form of `scripts/tool chaos-cluster`: a `scripts/cluster` (writers, standbys, two query
replicas per service, nginx, PostgreSQL) under a command load through the front; one cycle each
SIGKILLs a writer, stops PostgreSQL the hard way, and SIGKILLs a replica. After each: every
acknowledged command is in its stream, each mapped internal event has exactly one public event,
credit reservations match the public log, one writer per service, every process consistent, and
every replica of a service answers exactly as its writer."""

import os
import random

from conftest import server_binary
from tributary_tools import chaos_cluster   # scripts/ is on sys.path (conftest)


def test_writer_database_and_replica_kills_lose_nothing_acknowledged(tmp_path):
    os.chmod(tmp_path, 0o755)   # the cluster's PostgreSQL runs as the postgres user
    os.environ["TRIBUTARY_BIN"] = str(server_binary())
    seed = random.randrange(1 << 30)
    result = chaos_cluster.run(cycles=3, max_seconds=240, clients=2, replicas=2, directory=tmp_path / "cluster",
                               seed=seed, log=lambda m: None, plan=["customers", "postgresql", "replica"])
    assert result["cycles"] == 3, (seed, result)
    assert result["kills"] == {"writer": 1, "postgresql": 1, "replica": 1}, (seed, result)
    assert result["acks"] > 0 and result["mapped"] > 0 and result["processes"] == 8, (seed, result)
