"""Many bots on one account, compressed (bench/multibot_scenario.py): the exchange, a listener on PostgreSQL and
Redis, three headless bots trading their own watchlists and an attached console, all real processes on loopback;
private connections dropped every 4 s, a bot SIGKILLed as its cycle sends its entries, the console SIGKILLed,
Redis killed (every key gone) and started again; then each bot closes a position on a command over Redis.
Nothing is lost, nothing is sent twice, and every view agrees with the exchange."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.multibot_scenario import SECRET, WATCHLISTS, Timings, run_scenario
from tests.pg_server import PgServer
from tests.redis_server import RedisServer

TIMINGS = Timings(seconds=12, drop_every=4, first_bar_s=30, patience=120)


@pytest.mark.timeout(300)  # ~60 s: the first 1-minute bar closes 30 s in; a bot that starts later waits a minute
async def test_three_bots_on_one_account_agree_with_the_exchange_through_drops_kills_and_a_redis_restart(
    pg_server: PgServer, redis_server: RedisServer, redis_url: str, tmp_path: Path
) -> None:
    assert redis_url == redis_server.url  # flushed: nothing of an earlier test's bots
    result = await run_scenario(pg_server, redis_server, tmp_path, TIMINGS)
    found = result.comparison
    assert all(found.fills_per_bot.get(bot, 0) >= 2 for bot in WATCHLISTS), found.fills_per_bot  # entry and close
    assert all(reply.split(": ", 1)[1].startswith(f"{bot} ok") for bot, reply in result.closes.items()), result.closes
    assert result.drops >= 2 and result.redis_restarts == 1 and result.killed == ("b2", "console")
    assert found.redis_positions == found.exchange_positions  # usually two open; a stop or target may close them
    assert found.account_matches
    assert (found.stored_fills, found.missing, found.duplicated, found.unknown, found.misattributed) == (
        found.exchange_fills, 0, 0, 0, 0,
    )  # fmt: skip
    assert found.duplicate_links == 0 and found.duplicate_intents == []
    assert set(result.stats_pnl) == set(WATCHLISTS) and all(n >= 1 for n, _ in result.stats_pnl.values())
    assert result.pnl_matches, (result.stats_pnl, result.console_pnl)
    assert set(result.statuses.values()) == {0}, result.statuses
    for log in tmp_path.glob("*.log"):
        assert SECRET not in log.read_text(errors="replace"), log.name
