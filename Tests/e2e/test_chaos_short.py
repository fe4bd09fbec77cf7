"""CI short form of `scripts/tool chaos`: 3 SIGKILL/restart cycles of the real server (fsync) under a
command load; after each restart every acknowledged command is in the store, the public log has
each mapped internal event exactly once, consumers applied each public event once (credit
reservations match the public log) and /admin/consistency is consistent; `tributary verify`
passes after every kill. The poison form adds parked saga events, operator skips and retries
between the kills, and a fix deployed at the end whose retry is killed once (see
`scripts/tool chaos --poison`)."""

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


def test_three_sigkill_cycles_with_parked_events_and_a_killed_retry_apply_every_effect_once(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    result = chaos.run(cycles=3, max_seconds=40, clients=2, binary=server_binary(), data=data,
                       seed=random.randrange(1 << 30), log=lambda m: None, poison=True)
    assert result["cycles"] == 3, result
    assert result["kills"] >= 5, result   # the cycles' kills, then two for the fix (one during its retry)
    assert result["parkedAtFix"] > 0 and result["acks"] > 0 and result["mapped"] > 0, result
