"""Listen drill: `tui-bot listen` recording into PostgreSQL while orders fill, the private connection is dropped
every few seconds and PostgreSQL is restarted once; then its executions are compared with the exchange's.

Real processes on loopback: `tui-bot sim`, `tui-bot listen` (venue custom, [storage] url on a throwaway
PostgreSQL), `tui-bot fault drop kind=private`; market orders go in over signed REST meanwhile. At the end
every execId of `/v5/execution/list` must be in PostgreSQL once: 0 missing, 0 duplicated, 0 unknown.

    python -m bench.listen_drill                      # 120 s, drops every 20 s, PostgreSQL restarted at 50 s
    python -m bench.listen_drill --seconds 30 --drop-every 5 --restart-at 12
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.conftest import SignedRest
from tests.pg_server import PgServer, postgres_bindir

KEY, SECRET = "DRILLKEY1", "DRILLSECRET1"
SYMBOL = "ETHUSDT"


@dataclass(frozen=True, slots=True)
class Timings:
    """How long the drill runs and when it breaks things (seconds)."""

    seconds: float = 120.0
    drop_every: float = 20.0
    restart_at: float = 50.0
    pg_down: float = 3.0
    order_every: float = 0.25
    settle: float = 30.0


@dataclass(frozen=True, slots=True)
class DrillResult:
    """What the exchange listed, what PostgreSQL holds, and what happened on the way."""

    exchange: int
    stored: int
    missing: int
    duplicated: int
    unknown: int
    drops: int
    restarts: int
    db_outage_seen: bool
    listen_status: int | None

    @property
    def clean(self) -> bool:
        return (self.missing, self.duplicated, self.unknown) == (0, 0, 0) and self.listen_status == 0

    def lines(self, timings: Timings) -> list[str]:
        return [
            f"listen drill: {timings.seconds:.0f} s, private connection dropped {self.drops} times "
            f"(every {timings.drop_every:.0f} s), PostgreSQL restarted {self.restarts} time(s) "
            f"(down {timings.pg_down:.0f} s{', listen showed db=failing' if self.db_outage_seen else ''})",
            f"exchange execution/list: {self.exchange} executions; PostgreSQL executions: {self.stored} rows, "
            f"{self.missing} missing, {self.duplicated} duplicated, {self.unknown} unknown; "
            f"listen exit status {self.listen_status}",
        ]


def _tui_bot(*args: str) -> list[str]:
    return [sys.executable, "-m", "tui_bot.cli", *args]


@contextlib.contextmanager
def _process(
    args: list[str], cwd: Path, out: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A child process writing to out, stopped with SIGTERM (then SIGKILL) on the way out."""
    with out.open("wb") as sink:
        proc = subprocess.Popen(args, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT, env=env)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


async def _wait_for_line(out: Path, proc: subprocess.Popen[bytes], prefix: str, timeout: float = 60.0) -> str:
    """The text of out once a line starting with prefix appears (RuntimeError if the process ends first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = out.read_text(errors="replace") if out.exists() else ""
        if any(line.startswith(prefix) for line in text.splitlines()):
            return text
        if proc.poll() is not None:
            raise RuntimeError(f"{out.stem} ended: {text.strip()[-500:]}")
        await asyncio.sleep(0.05)
    raise RuntimeError(f"no {prefix!r} line from {out.stem} in {timeout:.0f} s")


def _sim_urls(text: str) -> dict[str, str]:
    """The URLs `tui-bot sim` printed, by name (REST, public WS, private WS, trade WS, admin)."""
    urls = {}
    for line in text.splitlines():
        parts = line.split()
        if line.startswith("  ") and len(parts) >= 2:
            urls[" ".join(parts[:-1])] = parts[-1]
    return urls


def _listen_config(folder: Path, urls: dict[str, str], database: str) -> Path:
    config = folder / "listen.toml"
    config.write_text(
        f'[exchange]\nvenue = "custom"\nrest_url = "{urls["REST"]}"\npublic_ws_url = "{urls["public WS"]}"\n'
        f'private_ws_url = "{urls["private WS"]}"\ntrade_ws_url = "{urls["trade WS"]}"\n'
        f'[storage]\nurl = "{database}"\n[bot]\nwatchlist = ["{SYMBOL}"]\n'
        '[listen]\nlog_file = "listen.log"\nhealth_interval_s = 0.5\n[streams]\nping_interval_s = 1\n'
    )
    return config


async def _place_orders(rest: SignedRest, every: float, stop: asyncio.Event) -> None:
    """Market orders of 0.01, buy and sell in turn, until stop."""
    side = "Buy"
    while not stop.is_set():
        body = {"category": "linear", "symbol": SYMBOL, "side": side, "orderType": "Market", "qty": "0.01"}
        reply = await rest.post("/v5/order/create", body)
        if reply["retCode"] != 0:
            raise RuntimeError(f"order refused: {reply}")
        side = "Sell" if side == "Buy" else "Buy"
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def _drop_private(cwd: Path, admin: str) -> int:
    """`tui-bot fault drop kind=private`; how many connections it dropped."""
    proc = await asyncio.create_subprocess_exec(
        *_tui_bot("fault", "drop", "kind=private", "--admin", admin), cwd=cwd, stdout=subprocess.PIPE
    )
    out, _ = await proc.communicate()
    return int(json.loads(out)["dropped"]) if proc.returncode == 0 else 0


async def _exchange_exec_ids(rest: SignedRest) -> list[str]:
    """Every execId `/v5/execution/list` pages out."""
    ids: list[str] = []
    cursor = ""
    while True:
        params = {"category": "linear", "limit": 100, **({"cursor": cursor} if cursor else {})}
        result = (await rest.get("/v5/execution/list", params))["result"]
        ids += [row["execId"] for row in result["list"]]
        cursor = result["nextPageCursor"]
        if not cursor:
            return ids


def _stored_exec_ids(pg: PgServer, database: str) -> list[str]:
    with psycopg.connect(host=str(pg.dir), port=pg.port, user="tui", dbname=database) as conn:
        return [row[0] for row in conn.execute("SELECT exec_id FROM executions")]


async def _restart(pg: PgServer, at: float, down: float) -> int:
    """Stop PostgreSQL (fast: sessions cut) at s from now, start it again down s later; 1 when done."""
    await asyncio.sleep(at)
    await asyncio.to_thread(pg.stop, "fast")
    await asyncio.sleep(down)
    await asyncio.to_thread(pg.start)
    return 1


async def _break_things(pg: PgServer, cwd: Path, admin: str, timings: Timings) -> tuple[int, int]:
    """Drop the private connection every drop_every s for seconds, and restart PostgreSQL once meanwhile."""
    restart = asyncio.create_task(_restart(pg, timings.restart_at, timings.pg_down))
    start = time.monotonic()
    drops = 0
    for when in range(1, int(timings.seconds // timings.drop_every) + 1):
        await asyncio.sleep(max(0.0, start + when * timings.drop_every - time.monotonic()))
        drops += 1 if await _drop_private(cwd, admin) > 0 else 0
    await asyncio.sleep(max(0.0, start + timings.seconds - time.monotonic()))
    return drops, await restart


async def _settled(rest: SignedRest, pg: PgServer, database: str, timeout: float) -> tuple[list[str], list[str]]:
    """The exchange's exec ids and the stored ones, once PostgreSQL holds them all (or timeout s have passed)."""
    deadline = time.monotonic() + timeout
    while True:
        listed = await _exchange_exec_ids(rest)
        stored = await asyncio.to_thread(_stored_exec_ids, pg, database)
        if set(listed) <= set(stored) or time.monotonic() > deadline:
            return listed, stored
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def _rest(urls: dict[str, str]) -> AsyncIterator[SignedRest]:
    rest = SignedRest(urls["REST"], KEY, SECRET)
    try:
        yield rest
    finally:
        await rest.close()


async def run_drill(pg: PgServer, folder: Path, timings: Timings) -> DrillResult:
    """Run the whole drill in folder against the running PostgreSQL pg (restarted once on the way)."""
    database = pg.create_database()
    env = {**os.environ, "BYBIT_API_KEY": KEY, "BYBIT_API_SECRET": SECRET}
    sim_args = _tui_bot("sim", "--api-key", KEY, "--api-secret", SECRET, "--port", "0", "--symbols", SYMBOL)
    with _process(sim_args, folder, folder / "sim.out") as sim:
        urls = _sim_urls(await _wait_for_line(folder / "sim.out", sim, "Ctrl-C"))
        config = _listen_config(folder, urls, pg.socket_url(database))
        with _process(_tui_bot("--config", str(config), "listen"), folder, folder / "listen.out", env) as listen:
            await _wait_for_line(folder / "listen.out", listen, "listening:")
            async with _rest(urls) as rest:
                stop = asyncio.Event()
                orders = asyncio.create_task(_place_orders(rest, timings.order_every, stop))
                try:
                    drops, restarts = await _break_things(pg, folder, urls["admin"], timings)
                finally:
                    stop.set()
                    await orders
                listed, stored = await _settled(rest, pg, database, timings.settle)
            listen.send_signal(signal.SIGTERM)
            status = await asyncio.to_thread(listen.wait, 30)
    said = (folder / "listen.out").read_text(errors="replace")
    return DrillResult(
        exchange=len(listed),
        stored=len(stored),
        missing=len(set(listed) - set(stored)),
        duplicated=len(stored) - len(set(stored)),
        unknown=len(set(stored) - set(listed)),
        drops=drops,
        restarts=restarts,
        db_outage_seen="db=failing" in said,
        listen_status=status,
    )


async def _main(args: argparse.Namespace) -> int:
    import tempfile

    bindir = postgres_bindir()
    if bindir is None:
        print("listen drill: PostgreSQL binaries (initdb, pg_ctl) not found", file=sys.stderr)
        return 1
    timings = Timings(seconds=args.seconds, drop_every=args.drop_every, restart_at=args.restart_at)
    pg = PgServer(bindir)
    try:
        pg.init()
        pg.start()
        with tempfile.TemporaryDirectory(prefix="tui-bot-drill-") as folder:
            result = await run_drill(pg, Path(folder), timings)
        pg.stop("immediate")
    finally:
        pg.remove()
    for line in result.lines(timings):
        print(line)
    return 0 if result.clean else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="how long orders flow and faults fire")
    parser.add_argument("--drop-every", type=float, default=20.0, help="seconds between private-connection drops")
    parser.add_argument("--restart-at", type=float, default=50.0, help="when PostgreSQL is restarted (once)")
    return asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
