"""CI short form of `scripts/tool chaos`: 3 SIGKILL/restart cycles of the real server (fsync) under a
command load; after each restart every acknowledged command is in the store, the public log has
each mapped internal event exactly once, consumers applied each public event once (credit
reservations match the public log) and /admin/consistency is consistent; `tributary verify`
passes after every kill."""

import random

from conftest import server_binary
from tributary_tools import chaos   # scripts/ is on sys.path (conftest)


def test_three_sigkill_cycles_lose_nothing_acknowledged(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    result = chaos.run(cycles=3, max_seconds=40, clients=2, binary=server_binary(), data=data,
                       seed=random.randrange(1 << 30), log=lambda m: None)
    assert result["cycles"] == 3, result
    assert result["kills"] >= 3, result
    assert result["acks"] > 0 and result["mapped"] > 0, result
