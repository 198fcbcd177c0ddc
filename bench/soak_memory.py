"""Memory over hours: `tui-bot listen` and the console against the embedded exchange at ~2k msg/s.

Each target gets its own exchange (a SimExchange child process, 200 symbols stepping every 100 ms: about
2,000 ticker deltas/s, all of them watched). Before the target starts, a short-lived runtime in this
process opens small longs in five symbols and rests a far-off limit buy in each (20 % under the market),
so the target runs with positions open, protected and re-marked on every delta, and orders resting.
Then the real command runs in a child process:
  listen   the `tui-bot listen` console script next to this interpreter
  console  the `tui-bot` console script on a pseudo-terminal of 160x48 (the real driver; its output
           is read and discarded, as a terminal would take it)
both with analysis cycles off (as measured in issue #16), reconciling every 60 s as configured by default.
Every --sample-s this process reads each child's RSS and thread count from /proc and prints a row.
With --tracemalloc the child runs the same command line under `tracemalloc` (through this module, so
the product carries no hook): it snapshots at the end of the warm-up and every --sample-s compares
the heap with that snapshot; the report lists the allocation sites that grew most.

    python -m bench.soak_memory --minutes 65 --target both     # the hour after a 5-minute warm-up
    python -m bench.soak_memory --minutes 12 --warmup-min 2 --tracemalloc

Targets (issue #16): after a 5-minute warm-up, RSS growth <= 5 % over the hour and <= 1 % over its last
30 minutes, for both. The code before the fix cannot run beside it, so its figures, measured with this
bench, are printed from BEFORE below.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import math
import os
import pty
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tracemalloc
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from bench.ui_app_exchange import POSITIONS, Exchange, open_positions, streaming, symbols, until
from tui_bot.domain.enums import OrderType, Side
from tui_bot.domain.numbers import round_to_step
from tui_bot.runtime import Runtime, start_runtime

SIZE = (160, 48)
GROWTH_TARGET = 0.05
LAST_30_TARGET = 0.01
RESTING_DISCOUNT = Decimal("0.8")


# -- the child side of --tracemalloc ---------------------------------------------------------------


def trace_child(trace_file: Path, base_after_s: float, every_s: float, top: int, argv: list[str]) -> int:
    """Run `tui-bot argv` in this process under tracemalloc, writing the heap's growth since base_after_s."""
    tracemalloc.start(1)
    threading.Thread(target=_trace_loop, args=(trace_file, base_after_s, every_s, top), daemon=True).start()
    from tui_bot.cli import main

    return main(argv)


def _snapshot() -> tracemalloc.Snapshot:
    """The traced heap without tracemalloc's own and the import machinery's allocations."""
    ignored = (
        "<frozen importlib._bootstrap>",
        "<frozen importlib._bootstrap_external>",
        tracemalloc.__file__,
        "<unknown>",
        "*/linecache.py",
    )
    return tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, name) for name in ignored])


def _trace_loop(trace_file: Path, base_after_s: float, every_s: float, top: int) -> None:
    time.sleep(base_after_s)
    base = _snapshot()
    while True:
        time.sleep(every_s)
        stats = _snapshot().compare_to(base, "lineno")
        record = {
            "traced_mb": tracemalloc.get_traced_memory()[0] / 2**20,
            "top": [[str(s.traceback[0]), s.size_diff, s.count_diff] for s in stats[:top]],
        }
        trace_file.with_suffix(".tmp").write_text(json.dumps(record))
        trace_file.with_suffix(".tmp").replace(trace_file)


# -- the parent side ---------------------------------------------------------------------------------


def proc_status(pid: int) -> tuple[float, int]:
    """(RSS in MB, thread count) of a process, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"])


async def prepare_account(exchange: Exchange, workdir: Path) -> None:
    """Open the POSITIONS longs and rest a limit buy 20 % under the market in each, then disconnect."""
    rt = await start_runtime(exchange.settings(list(POSITIONS), workdir / "setup.db"), trading_bot=False, protect=False)
    try:
        await until(lambda: streaming(rt, list(POSITIONS)), "the setup runtime to stream")
        await open_positions(rt)
        for symbol in POSITIONS:
            await rest_buy(rt, symbol)
        await until(lambda: len(rt.engine.state.open_orders) >= len(POSITIONS), "the resting orders")
    finally:
        await rt.close()


async def rest_buy(rt: Runtime, symbol: str) -> None:
    """A limit buy worth about 20 USDT, 20 % under the last price (an hour's walk never reaches it)."""
    inst = rt.engine.state.instruments[symbol]
    price = round_to_step(rt.engine.state.tickers[symbol].last_price * RESTING_DISCOUNT, inst.tick_size)
    qty = max(inst.min_qty, math.ceil(Decimal(20) / (price * inst.qty_step)) * inst.qty_step)
    await rt.orders.place(symbol, Side.BUY, qty, order_type=OrderType.LIMIT, price=price)


def target_env(exchange: Exchange, names: list[str], workdir: Path) -> dict[str, str]:
    """The environment that points a `tui-bot` child at exchange: venue custom, keys, watchlist, cycles off."""
    rest, public_ws, private_ws, trade_ws, key, secret = exchange.urls
    return {
        **os.environ,
        "BYBIT_API_KEY": key,
        "BYBIT_API_SECRET": secret,
        "TUI_BOT_EXCHANGE__VENUE": "custom",
        "TUI_BOT_EXCHANGE__REST_URL": rest,
        "TUI_BOT_EXCHANGE__PUBLIC_WS_URL": public_ws,
        "TUI_BOT_EXCHANGE__PRIVATE_WS_URL": private_ws,
        "TUI_BOT_EXCHANGE__TRADE_WS_URL": trade_ws,
        "TUI_BOT_BOT__WATCHLIST": json.dumps(names),
        "TUI_BOT_TRADING__RUN_CYCLES": "false",
        "TUI_BOT_LISTEN__LOG_FILE": str(workdir / "tui_bot.log"),
        "TERM": "xterm-256color",
    }


@dataclass
class Target:
    """One running target: its child process, where it writes, and what was sampled."""

    name: str
    exchange: Exchange
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None
    tty: int | None = None
    tty_bytes: int = 0
    tty_tail: bytes = b""  # the end of what the console wrote (shown if it exits early)
    samples: list[tuple[float, float, int]] = field(default_factory=list)  # (minutes, RSS MB, threads)

    @property
    def trace_file(self) -> Path:
        return self.workdir / "trace.json"

    def trace(self) -> dict[str, object] | None:
        """The child's latest heap comparison (--tracemalloc), if it wrote one."""
        with contextlib.suppress(OSError, ValueError):
            record: dict[str, object] = json.loads(self.trace_file.read_text())
            return record
        return None


def command(target: Target, args: argparse.Namespace) -> list[str]:
    """The child's command line: the console script, or this module running it under tracemalloc."""
    cli = ["--db", str(target.workdir / "tui_bot.db")] + (["listen"] if target.name == "listen" else [])
    if not args.tracemalloc:
        return [str(Path(sys.executable).with_name("tui-bot")), *cli]
    return [
        sys.executable,
        "-m",
        "bench.soak_memory",
        "--trace-child",
        str(target.trace_file),
        "--warmup-min",
        str(args.warmup_min),
        "--sample-s",
        str(args.sample_s),
        "--top",
        str(args.top),
        "--",
        *cli,
    ]


def launch(target: Target, args: argparse.Namespace, names: list[str]) -> None:
    """Start the target's child: listen with stdout to a file, the console on a 160x48 pseudo-terminal."""
    env = target_env(target.exchange, names, target.workdir)
    if args.tracemalloc:  # the child runs this module from its workdir
        env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    if target.name == "listen":
        with (target.workdir / "stdout.txt").open("wb") as out:
            target.proc = subprocess.Popen(command(target, args), env=env, cwd=target.workdir, stdout=out, stderr=out)
        return
    (target.workdir / "stdout.txt").touch()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    target.proc = subprocess.Popen(
        command(target, args),
        env=env,
        cwd=target.workdir,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )  # Textual draws on stderr
    os.close(slave)
    target.tty = master
    asyncio.get_running_loop().add_reader(master, _discard, target)


def _discard(target: Target) -> None:
    """Read, count and drop what the console wrote to its terminal; stop reading once it has gone (EIO)."""
    assert target.tty is not None
    try:
        data = os.read(target.tty, 1 << 16)
        target.tty_bytes += len(data)
        target.tty_tail = (target.tty_tail + data)[-4096:]
    except OSError:
        asyncio.get_running_loop().remove_reader(target.tty)


def stop(target: Target) -> None:
    """SIGTERM the child (listen flushes and exits), then make sure it is gone."""
    if target.proc is not None and target.proc.poll() is None:
        target.proc.send_signal(signal.SIGTERM)
        try:
            target.proc.wait(15)
        except subprocess.TimeoutExpired:
            target.proc.kill()
            target.proc.wait()
    if target.tty is not None:
        asyncio.get_running_loop().remove_reader(target.tty)
        os.close(target.tty)
    target.exchange.stop()


async def sample(targets: list[Target], args: argparse.Namespace) -> list[float]:
    """Every --sample-s: each child's RSS and threads, printed as a row, until --minutes have passed; the
    machine's load average at each sample."""
    started, loads = time.monotonic(), []
    print(
        f"{'min':>6}"
        + "".join(f"{t.name + ' MB':>14}{'thr':>5}" for t in targets)
        + ("".join(f"{t.name + ' traced':>16}" for t in targets) if args.tracemalloc else ""),
        flush=True,
    )
    while True:
        await asyncio.sleep(max(0.0, min(args.sample_s, args.minutes * 60 - (time.monotonic() - started))))
        minutes = (time.monotonic() - started) / 60
        row = f"{minutes:>6.1f}"
        for target in targets:
            assert target.proc is not None
            if target.proc.poll() is not None:
                output = target.tty_tail.decode(errors="replace") if target.tty is not None else ""
                output += (target.workdir / "stdout.txt").read_text()[-2000:]
                raise RuntimeError(f"{target.name} exited ({target.proc.returncode}):\n{output}")
            rss, threads = proc_status(target.proc.pid)
            target.samples.append((minutes, rss, threads))
            row += f"{rss:>14.1f}{threads:>5}"
        for target in targets if args.tracemalloc else []:
            record = target.trace()
            row += f"{record['traced_mb']:>16.1f}" if record else f"{'-':>16}"
        print(row, flush=True)
        loads.append(os.getloadavg()[0])
        if minutes >= args.minutes:
            return loads


def at(samples: list[tuple[float, float, int]], minute: float) -> tuple[float, float, int]:
    """The first sample taken at or after minute (the last one if none)."""
    return next((s for s in samples if s[0] >= minute), samples[-1])


@dataclass(frozen=True)
class Growth:
    """RSS from the end of the warm-up on: where it started and ended, and how much it grew."""

    start_mb: float
    end_mb: float
    minutes: float
    total: float  # end / start - 1
    per_hour: float  # least-squares slope over every sample after the warm-up, as a fraction of start per hour
    last_30: float  # end / (RSS 30 minutes before the end) - 1

    def cells(self) -> list[str]:
        return [
            f"{self.start_mb:.1f} MB",
            f"{self.end_mb:.1f} MB",
            f"{self.total:+.2%} in {self.minutes:.0f} min",
            f"{self.per_hour:+.2%}/h",
            f"{self.last_30:+.2%}",
        ]


BEFORE_NOTE = (
    "measured with this bench on the code before the fix (commit e2c3715), same machine, at the same time as "
    "the after run in README (load median 8.6)"
)
BEFORE: dict[str, Growth] = {
    "listen": Growth(57.4, 58.0, 60, 0.0090, 0.0083, 0.0075),
    "console": Growth(99.4, 100.0, 60, 0.0053, 0.0099, 0.0064),
}


def growth(samples: list[tuple[float, float, int]], warmup_min: float) -> Growth:
    """The growth of samples after warmup_min."""
    start, end = at(samples, warmup_min), samples[-1]
    after = [s for s in samples if s[0] >= start[0]]
    slope = statistics.linear_regression([s[0] for s in after], [s[1] for s in after]).slope if len(after) > 1 else 0.0
    last30 = at(samples, max(start[0], end[0] - 30))
    return Growth(
        start[1], end[1], end[0] - start[0], end[1] / start[1] - 1, slope * 60 / start[1], end[1] / last30[1] - 1
    )


def report(targets: list[Target], args: argparse.Namespace, loads: list[float]) -> None:
    print(
        f"\n{args.symbols} symbols x {args.step_ms:.0f} ms steps (~{args.symbols * 1000 / args.step_ms:,.0f} msg/s) "
        f"per exchange, {len(POSITIONS)} positions open and {len(POSITIONS)} orders resting per target; "
        f"1-min load average {min(loads):.1f}-{max(loads):.1f}, median {statistics.median(loads):.1f} "
        f"({os.cpu_count()} cores, shared)"
    )
    columns = [(t.name, growth(t.samples, args.warmup_min)) for t in targets]
    columns += [(f"{name} before*", BEFORE[name]) for name in (t.name for t in targets) if name in BEFORE]
    rows = ("RSS after the warm-up", "RSS at the end", "growth", "trend", "growth, last 30 min")
    print(f"{'':24}" + "".join(f"{name:>22}" for name, _ in columns))
    for index, label in enumerate(rows):
        print(f"{label:24}" + "".join(f"{g.cells()[index]:>22}" for _, g in columns))
    for name, g in columns[: len(targets)]:
        if g.minutes < 59:
            print(f"{name}: shorter than the hour after the warm-up, so no verdict on the targets")
            continue
        print(
            f"{name}: growth {'met' if g.total <= GROWTH_TARGET else 'NOT met'} (<= {GROWTH_TARGET:.0%} over the "
            f"hour), last 30 min {'met' if g.last_30 <= LAST_30_TARGET else 'NOT met'} (<= {LAST_30_TARGET:.0%})"
        )
    if any(name in BEFORE for name, _ in columns):
        print(f"* {BEFORE_NOTE}")
    for target in targets:
        print(
            f"{target.name}: threads {target.samples[0][2]} -> {target.samples[-1][2]}; "
            + (
                f"it wrote {target.tty_bytes / 1024 / (target.samples[-1][0] * 60):.1f} KB/s to its terminal"
                if target.tty is not None
                else f"its last health line: {last_health(target)}"
            )
        )
        record = target.trace()
        for site, size, count in record["top"] if record else []:  # type: ignore[attr-defined]
            print(f"  {size / 1024:>+9.1f} KiB {count:>+8} blocks  {site}")


def last_health(target: Target) -> str:
    """The last health line `listen` printed."""
    lines = [line for line in (target.workdir / "stdout.txt").read_text().splitlines() if line.startswith("mode=")]
    return lines[-1] if lines else "-"


async def run(args: argparse.Namespace) -> None:
    names = symbols(args.symbols)
    with tempfile.TemporaryDirectory() as tmp:
        targets = [
            Target(name, Exchange(names, args.step_ms), Path(tmp) / name)
            for name in (("listen", "console") if args.target == "both" else (args.target,))
        ]
        try:
            for target in targets:
                target.workdir.mkdir()
                await prepare_account(target.exchange, target.workdir)
                launch(target, args, names)
            loads = await sample(targets, args)
        finally:
            for target in targets:
                stop(target)
        report(targets, args, loads)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=65.0, help="how long each target runs (warm-up included)")
    parser.add_argument("--warmup-min", type=float, default=5.0, help="growth is counted from this minute on")
    parser.add_argument("--target", choices=("listen", "console", "both"), default="both")
    parser.add_argument("--symbols", type=int, default=200)
    parser.add_argument(
        "--step-ms", type=float, default=100.0, help="exchange market step (10 msg/s per symbol at 100)"
    )
    parser.add_argument("--sample-s", type=float, default=60.0, help="seconds between RSS samples")
    parser.add_argument("--tracemalloc", action="store_true", help="trace the children's heaps (slower, more memory)")
    parser.add_argument("--top", type=int, default=10, help="allocation sites listed with --tracemalloc")
    parser.add_argument("--trace-child", type=Path, help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.trace_child:
        return trace_child(args.trace_child, args.warmup_min * 60, args.sample_s, args.top, rest[1:])
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
