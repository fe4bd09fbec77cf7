"""CI short form of `scripts/tool chaos --postgres-dir DIR`: the server on PostgreSQL under a
command load, the database stopped the hard way (pg_ctl stop -m immediate) and restarted while
the server keeps running, and the server SIGKILLed, alternately; after each, every acknowledged
command is in the store, the public log has each mapped event exactly once, consumers applied
each public event once, the read models equal a rebuild, and `tributary verify --postgres`
passes. Needs TRIBUTARY_TEST_POSTGRES_DIR (scripts/test starts the cluster and sets it)."""

import os
import random
from pathlib import Path

import pytest

from conftest import server_binary
from tributary_tools import chaos   # scripts/ is on sys.path (conftest)
from tributary_tools.pgcluster import Cluster


def test_database_restarts_and_sigkills_lose_nothing_acknowledged(tmp_path, monkeypatch):
    directory = os.environ.get("TRIBUTARY_TEST_POSTGRES_DIR")
    if not directory:
        pytest.fail("TRIBUTARY_TEST_POSTGRES_DIR is not set: run scripts/test (it starts the cluster)")
    cluster = Cluster.existing(Path(directory))
    monkeypatch.setenv("TRIBUTARY_SERVER_POSTGRES", cluster.url)
    data = tmp_path / "data"
    data.mkdir()

    def restart_database():
        cluster.stop("immediate")
        cluster.start()

    result = chaos.run(cycles=4, max_seconds=90, clients=2, binary=server_binary(), data=data,
                       seed=random.randrange(1 << 30), log=lambda m: None, restart_database=restart_database)
    assert result["cycles"] == 4, result
    assert result["databaseRestarts"] >= 2 and result["kills"] >= 2, result
    assert result["acks"] > 0 and result["mapped"] > 0, result
