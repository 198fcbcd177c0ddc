"""Many bots on one account, screens that come and go: the scripted scenario of the multi-bot set-up.

Real processes on loopback: `tui-bot sim`; `tui-bot listen --redis` recording into a throwaway PostgreSQL and
publishing to a throwaway Redis; three `tui-bot bot --bot-id a1|b2|c3 --redis` with their own watchlists, trading
on the 1-minute bar (ema_trend, auto-approved, small sizes); an attached console (`tui-bot --attach`) on a
terminal. Meanwhile the private connections are dropped every few seconds (`tui-bot fault drop kind=private`),
bot b2 is SIGKILLed as its first entry order reaches the exchange and started again, the console too, Redis is
killed and started again (every key gone), and each bot is told over Redis to close one of its positions (then,
every 30 s, each bot holding two). At the end the exchange is compared with the
listener's Redis keys and PostgreSQL rows (bench/multibot_checks.py), and `tui-bot stats` with what an attached
console (Textual Pilot, in this process) shows on its stats screen.

    python -m bench.multibot_scenario                     # about 2 min of trading, drops every 20 s
    python -m bench.multibot_scenario --seconds 40 --drop-every 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from bench.listen_drill import _drop_private, _sim_urls, _tui_bot
from bench.multibot_checks import (
    Attributed,
    Comparison,
    ExchangeRest,
    attribute,
    compare,
    exchange_executions,
    exchange_orders,
)
from bench.multibot_processes import ConsoleProcess, Fleet, console_pnl_by_bot, stats_pnl_by_bot
from tests.conftest import SignedRest
from tests.pg_server import PgServer
from tests.redis_server import RedisServer
from tui_bot.config import load_settings
from tui_bot.domain.order_ids import OrderReason
from tui_bot.live.commands import ClosePosition
from tui_bot.live.commands_sender import CommandSender
from tui_bot.ui.format import signed_money

KEY, SECRET = "SCENARIOKEY1", "SCENARIOSECRET1"
WATCHLISTS = {"a1": ("BTCUSDT", "ETHUSDT"), "b2": ("SOLUSDT", "XRPUSDT"), "c3": ("DOGEUSDT", "ADAUSDT")}
KILLED_BOT = "b2"
BAR_MS = 60_000


@dataclass(frozen=True, slots=True)
class Timings:
    """How long the scenario trades and how often it breaks things (seconds)."""

    seconds: float = 120.0
    drop_every: float = 20.0
    first_bar_s: float = 30.0
    """The exchange's clock is set so that a 1-minute bar closes this long after it starts: the bots' first cycle
    (a bot not up by then trades a minute later)."""
    close_every: float = 30.0
    """After the faults, a bot with two positions or more is told this often to close one (the next bar's cycle
    opens another)."""
    patience: float = 150.0
    """How long any one awaited condition may take (fills, an answer, convergence) before the scenario fails."""


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """What the faults did and what the end comparisons found."""

    seconds: float
    ready_s: float
    drops: int
    redis_restarts: int
    killed: tuple[str, ...]
    closes: dict[str, str]
    churned: int
    comparison: Comparison
    stats_pnl: dict[str, tuple[int, Decimal]]
    console_pnl: dict[str, tuple[int, str]]
    statuses: dict[str, int | None]

    @property
    def pnl_matches(self) -> bool:
        """The console shows every bot's closed trades and net PnL as `tui-bot stats` counts them."""
        counted = {bot: (count, signed_money(pnl)) for bot, (count, pnl) in self.stats_pnl.items()}
        return bool(counted) and counted == self.console_pnl

    @property
    def clean(self) -> bool:
        return self.comparison.clean and self.pnl_matches and all(s == 0 for s in self.statuses.values())

    def lines(self, timings: Timings) -> list[str]:
        stats = ", ".join(f"{b} {n} closed {signed_money(p)}" for b, (n, p) in sorted(self.stats_pnl.items()))
        return [
            f"multi-bot scenario: {self.seconds:.0f} s (everything up {self.ready_s:.1f} s after the exchange), bots "
            f"{', '.join(WATCHLISTS)} on one account; private "
            f"connections dropped {self.drops} times (every {timings.drop_every:.0f} s); SIGKILLed and restarted: "
            f"{', '.join(self.killed)}; Redis restarted {self.redis_restarts} time(s)",
            "closes sent over Redis: "
            + "; ".join(f"{bot} {what}" for bot, what in sorted(self.closes.items()))
            + f"; then {self.churned} more, every {timings.close_every:.0f} s, all done",
            *self.comparison.lines(),
            f"tui-bot stats: {stats or 'no closed trades'}; the attached console's stats screen: "
            f"{'the same' if self.pnl_matches else self.console_pnl}",
            "exit statuses: " + ", ".join(f"{name} {status}" for name, status in sorted(self.statuses.items())),
        ]


def _common_config(urls: dict[str, str]) -> str:
    return (
        f'[exchange]\nvenue = "custom"\nrest_url = "{urls["REST"]}"\npublic_ws_url = "{urls["public WS"]}"\n'
        f'private_ws_url = "{urls["private WS"]}"\ntrade_ws_url = "{urls["trade WS"]}"\n'
        "[streams]\nping_interval_s = 1\nsilence_timeout_s = 5\nbackoff_max_s = 0.5\nfallback_after_s = 5\n"
        'poll_interval_s = 0.5\n[signals]\ntimeframes = ["1"]\nwr_guard_min = 0\n'
    )


def _trading(run_cycles: bool) -> str:
    """Fast and small: a cycle at every closed 1-minute bar, ema_trend's idea auto-approved, 5 USDT at risk; no
    stop moved (each bot process protects every position of the account it sees)."""
    return (
        f"[trading]\nrun_cycles = {str(run_cycles).lower()}\nauto_approve_trades = true\n"
        'timeframe = "1"\nstrategies = ["ema_trend"]\nmin_confidence_threshold = 0.0\nmin_rr = "1"\n'
        'risk_percentage = "0.05"\nmax_loss_usd = "5"\nmin_position_value_usd = "10"\nmax_concurrent_trades = 20\n'
        "enable_position_tightening = false\n"
    )


def write_configs(folder: Path, urls: dict[str, str], database: str) -> dict[str, Path]:
    """The listener's, each bot's and the console's config files: one account, their own logs and watchlists."""
    common = _common_config(urls)
    files = {"listen": folder / "listen.toml", "console": folder / "console.toml"}
    files["listen"].write_text(
        common + f'[storage]\nurl = "{database}"\n' + _trading(False)
        + '[listen]\nlog_file = "listen.log"\nhealth_interval_s = 1\n[redis]\nheartbeat_ttl_s = 3\n'
    )  # fmt: skip
    files["console"].write_text(common + f'[storage]\nurl = "{database}"\n[listen]\nlog_file = "console.log"\n')
    for bot, watchlist in WATCHLISTS.items():
        files[bot] = folder / f"{bot}.toml"
        files[bot].write_text(
            common + f"[bot]\nwatchlist = {json.dumps(list(watchlist))}\n" + _trading(True)
            + f'[listen]\nlog_file = "{bot}.log"\n'
        )  # fmt: skip
    return files


def first_bar_skew_ms(now_ms: int, lead_s: float) -> int:
    """How far ahead to set the exchange's clock so a 1-minute bar closes lead_s after now_ms (0 <= skew < 60 s)."""
    return (BAR_MS - (now_ms + int(lead_s * 1000)) % BAR_MS) % BAR_MS


async def until(check: Callable[[], Awaitable[bool]], timeout: float, what: str, every: float = 0.25) -> None:
    """Return once check() holds; RuntimeError naming what was not seen after timeout s."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"multi-bot scenario: {what} not seen in {timeout:.0f} s")
        await asyncio.sleep(every)


async def _clock_ahead(rest: ExchangeRest, admin: str, lead_s: float) -> None:
    """Set the exchange's clock so its next 1-minute bar closes lead_s from now (`tui-bot fault clock-skew`)."""
    now_ms = int((await rest.get("/v5/market/time", signed=False))["result"]["timeNano"]) // 1_000_000
    skew = first_bar_skew_ms(now_ms, lead_s)
    done = await asyncio.create_subprocess_exec(
        *_tui_bot("fault", "clock-skew", f"ms={skew}", "--admin", admin), stdout=subprocess.DEVNULL
    )
    if await done.wait() != 0:
        raise RuntimeError("tui-bot fault clock-skew failed")
    rest.skew_ms = skew


async def _drop_every(folder: Path, admin: str, every: float, stop: asyncio.Event) -> int:
    """Drop the private connections every `every` s until stop; how many drops hit a connection."""
    drops = 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        if not stop.is_set():
            drops += 1 if await _drop_private(folder, admin) > 0 else 0
    return drops


async def _walked(rest: SignedRest) -> Attributed:
    return attribute(await exchange_executions(rest))


async def _every_bot_holds(rest: SignedRest) -> bool:
    return {bot for bot, _ in (await _walked(rest)).open_positions()} >= set(WATCHLISTS)


async def _close_one_each(rest: SignedRest, redis_url: str, patience: float, keep: int = 0) -> dict[str, str]:
    """Tell each bot holding more than keep positions over Redis to close one; each bot's answer in a line."""
    held = (await _walked(rest)).open_positions()
    sender = CommandSender(redis_url, "scenario", timeout_s=patience / 4)
    try:
        closes = {}
        for bot in WATCHLISTS:
            symbols = sorted(s for b, s in held if b == bot)
            if len(symbols) <= keep:
                continue
            symbol = symbols[0]
            reply = await sender.send(bot, ClosePosition(symbol))
            closes[bot] = f"{symbol}: {reply.line()}"
            if not reply.ok:
                raise RuntimeError(f"multi-bot scenario: close of {symbol} by {bot}: {reply.line()}")
        return closes
    finally:
        await sender.close()


async def _churn(rest: SignedRest, redis_url: str, end: float, every: float, patience: float) -> int:
    """Until end (monotonic), every `every` s have each bot holding two positions or more close one (the next
    bar's cycle opens another; one stays open for the end's comparison); how many closes the bots did."""
    done = 0
    while time.monotonic() + every < end:
        await asyncio.sleep(every)
        done += len(await _close_one_each(rest, redis_url, patience, keep=1))
    await asyncio.sleep(max(0.0, end - time.monotonic()))
    return done


async def _start_all(fleet: Fleet, configs: dict[str, Path], redis_url: str) -> None:
    """The listener and the bots side by side (started together to be up before the first bar closes)."""
    listen = fleet.start(
        "listen", _tui_bot("--config", str(configs["listen"]), "listen", "--redis", redis_url), "listen"
    )
    await asyncio.gather(listen, *(_start_bot(fleet, configs, bot, redis_url) for bot in WATCHLISTS))


async def _start_bot(fleet: Fleet, configs: dict[str, Path], bot: str, redis_url: str) -> None:
    args = ["--config", str(configs[bot]), "--db", f"{bot}.db", "bot", "--bot-id", bot, "--redis", redis_url]
    await fleet.start(bot, _tui_bot(*args), f"bot {bot}")


async def _faults(
    fleet: Fleet, console: ConsoleProcess, redis: RedisServer, rest: ExchangeRest, configs: dict[str, Path],
    patience: float,
) -> dict[str, str]:  # fmt: skip
    """SIGKILL a bot the moment its first entry order reaches the exchange (its cycle still running) and start it
    again; once every bot holds a position, SIGKILL the console and start it again, restart Redis, then have each
    bot close one of its positions over the restarted Redis."""
    await until(lambda: _has_entry_order(rest, KILLED_BOT), patience, f"an entry order of {KILLED_BOT}", every=0.05)
    fleet.kill(KILLED_BOT)
    await _start_bot(fleet, configs, KILLED_BOT, redis.url)
    await until(lambda: _every_bot_holds(rest), patience, "a position of every bot")
    console.kill()
    console.start()
    await console.up(patience)
    await asyncio.to_thread(redis.restart)
    return await _close_one_each(rest, redis.url, patience)


async def _has_entry_order(rest: ExchangeRest, bot: str) -> bool:
    """Whether an entry order of bot is on the exchange (open or done)."""
    prefix = f"{bot}-{OrderReason.ENTRY.value}-"
    return any(o["orderLinkId"].startswith(prefix) for o in await exchange_orders(rest))


async def _trade_and_break(
    fleet: Fleet, console: ConsoleProcess, redis: RedisServer, rest: ExchangeRest, configs: dict[str, Path],
    admin: str, timings: Timings,
) -> tuple[int, dict[str, str], int]:  # fmt: skip
    """The faults, then closes every close_every s until timings.seconds have passed, drops all along: how many
    drops hit a connection, the closes after the faults, and how many closes came after those."""
    end = time.monotonic() + timings.seconds
    stop = asyncio.Event()
    drops = asyncio.create_task(_drop_every(fleet.folder, admin, timings.drop_every, stop))
    try:
        closes = await _faults(fleet, console, redis, rest, configs, timings.patience)
        churned = await _churn(rest, redis.url, end, timings.close_every, timings.patience)
    finally:
        stop.set()
        dropped = await drops
    return dropped, closes, churned


async def run_scenario(pg: PgServer, redis: RedisServer, folder: Path, timings: Timings) -> ScenarioResult:
    """Run the whole scenario in folder on the running PostgreSQL pg and Redis redis (restarted on the way)."""
    database = pg.create_database()
    env = {**os.environ, "BYBIT_API_KEY": KEY, "BYBIT_API_SECRET": SECRET}
    fleet = Fleet(folder, env)
    symbols = ",".join(s for watchlist in WATCHLISTS.values() for s in watchlist)
    sim_args = _tui_bot("sim", "--api-key", KEY, "--api-secret", SECRET, "--port", "0", "--symbols", symbols)
    rest: ExchangeRest | None = None
    console: ConsoleProcess | None = None
    begun = time.monotonic()
    try:
        urls = _sim_urls(await fleet.start("sim", [*sim_args, "--balance", "1000000"], "Ctrl-C"))
        rest = ExchangeRest(urls["REST"], KEY, SECRET)
        await _clock_ahead(rest, urls["admin"], timings.first_bar_s)
        configs = write_configs(folder, urls, pg.socket_url(database))
        console = ConsoleProcess(_tui_bot("--config", str(configs["console"]), "--attach", redis.url), folder, env)
        console.start()
        await _start_all(fleet, configs, redis.url)
        await console.up(timings.patience)
        started = time.monotonic()
        dropped, closes, churned = await _trade_and_break(fleet, console, redis, rest, configs, urls["admin"], timings)
        comparison = await _settled(rest, redis.url, pg, database, timings.patience)
        stats = await asyncio.to_thread(stats_pnl_by_bot, folder, _tui_bot("--config", str(configs["listen"])))
        shown = await console_pnl_by_bot(load_settings(configs["console"]), redis.url, timings.patience)
        statuses = {"console": console.stop(), **await fleet.stop_all()}
    finally:
        if console is not None:
            console.stop()
        await fleet.stop_all()
        if rest is not None:
            await rest.close()
    return ScenarioResult(
        time.monotonic() - started,
        started - begun,
        dropped,
        1,
        (KILLED_BOT, "console"),
        closes,
        churned,
        comparison,
        stats,
        shown,
        statuses,
    )


async def _settled(rest: SignedRest, redis_url: str, pg: PgServer, database: str, timeout: float) -> Comparison:
    """The comparison once Redis and PostgreSQL hold what the exchange does (or as it is when timeout s passed)."""
    deadline = time.monotonic() + timeout
    while True:
        found = await compare(rest, redis_url, pg, database)
        if found.clean or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)


async def _main(args: argparse.Namespace) -> int:
    import tempfile

    from tests.pg_server import postgres_bindir
    from tests.redis_server import redis_binary

    bindir, binary = postgres_bindir(), redis_binary()
    if bindir is None or binary is None:
        print("multi-bot scenario: needs PostgreSQL (initdb, pg_ctl) and redis-server", file=sys.stderr)
        return 1
    timings = Timings(seconds=args.seconds, drop_every=args.drop_every)
    pg, redis = PgServer(bindir), RedisServer(binary)
    try:
        pg.init()
        pg.start()
        redis.start()
        with tempfile.TemporaryDirectory(prefix="tui-bot-scenario-") as folder:
            result = await run_scenario(pg, redis, Path(folder), timings)
        pg.stop("immediate")
    finally:
        redis.remove()
        pg.remove()
    for line in result.lines(timings):
        print(line)
    return 0 if result.clean else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="how long the bots trade while faults fire")
    parser.add_argument("--drop-every", type=float, default=20.0, help="seconds between private-connection drops")
    return asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
