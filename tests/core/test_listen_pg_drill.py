"""The listen drill, compressed: `tui-bot listen` on PostgreSQL through private-connection drops every 3 s and one
PostgreSQL restart, real processes and sockets; every execution the exchange lists is stored exactly once."""

from __future__ import annotations

from pathlib import Path

from bench.listen_drill import Timings, run_drill
from tests.pg_server import PgServer

TIMINGS = Timings(seconds=9, drop_every=3, restart_at=4, pg_down=1.5, order_every=0.2, settle=15)


async def test_listen_keeps_every_execution_through_drops_and_a_postgresql_restart(
    pg_server: PgServer, tmp_path: Path
) -> None:
    result = await run_drill(pg_server, tmp_path, TIMINGS)
    assert (result.drops, result.restarts) == (3, 1)
    assert result.db_outage_seen, (tmp_path / "listen.out").read_text()
    assert result.exchange >= 30
    assert (result.stored, result.missing, result.duplicated, result.unknown) == (result.exchange, 0, 0, 0)
    assert result.listen_status == 0
    assert "DRILLSECRET1" not in (tmp_path / "listen.log").read_text()
