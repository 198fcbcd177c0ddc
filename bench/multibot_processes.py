"""The multi-bot scenario's processes: its children by name (restartable), `tui-bot --attach` on its own terminal
(killed and started again), an attached console under Textual Pilot in this process (what it shows, read from its
widgets), and `tui-bot stats`'s figures for the same store."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import signal
import struct
import subprocess
import termios
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from bench.listen_drill import _wait_for_line
from tests.core.conftest import wait_for
from tui_bot.attach_cli import opener
from tui_bot.config import Settings
from tui_bot.ui.app import TuiBotApp
from tui_bot.ui.screens.stats_screen import BreakdownTable, StatsScreen
from tui_bot.ui.widgets.positions import PositionsTable

SIZE = (160, 48)
COULD_NOT_START = "Could not start"
"""How the console says its backend did not open (then it shows nothing more)."""
ALL_BOTS = "(all)"


class Fleet:
    """The scenario's child processes by name, each writing to NAME[.N].out; restartable; stopped on the way out."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.outs: dict[str, Path] = {}
        self.starts: dict[str, int] = {}

    async def start(self, name: str, args: list[str], ready: str) -> str:
        """Start name (again) and return its output once a line starting with ready appears."""
        self.starts[name] = self.starts.get(name, 0) + 1
        out = self.folder / (f"{name}.out" if self.starts[name] == 1 else f"{name}.{self.starts[name]}.out")
        with out.open("wb") as sink:
            self.procs[name] = subprocess.Popen(
                args, cwd=self.folder, stdout=sink, stderr=subprocess.STDOUT, env=self.env
            )
        self.outs[name] = out
        return await _wait_for_line(out, self.procs[name], ready, timeout=120.0)

    def kill(self, name: str) -> None:
        """SIGKILL: nothing flushed, nothing said."""
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    async def stop(self, name: str) -> int | None:
        """SIGTERM and the exit status (SIGKILL after 30 s)."""
        proc = self.procs.pop(name)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(proc.wait, 30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    async def stop_all(self) -> dict[str, int | None]:
        """Stop every process still running: the bots together, then the listener, the exchange last."""
        last = ("listen", "sim")
        first = [name for name in self.procs if name not in last]
        statuses = dict(zip(first, await asyncio.gather(*map(self.stop, first)), strict=True))
        for name in [n for n in last if n in self.procs]:
            statuses[name] = await self.stop(name)
        return statuses


class ConsoleProcess:
    """`tui-bot --attach URL` on a pseudo-terminal of SIZE, its screen output kept in memory."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.args, self.cwd, self.env = args, cwd, env
        self.proc: subprocess.Popen[bytes] | None = None
        self.screen = bytearray()
        self._master: int | None = None

    def start(self) -> None:
        """Start the console on a fresh terminal; what it draws collects in screen."""
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
        env = {**self.env, "TERM": "xterm-256color", "COLUMNS": str(SIZE[0]), "LINES": str(SIZE[1])}
        self.proc = subprocess.Popen(
            self.args, cwd=self.cwd, env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True
        )
        os.close(slave)
        self.screen = bytearray()
        self._master = master
        asyncio.get_running_loop().add_reader(master, self._drain)

    def _drain(self) -> None:
        assert self._master is not None
        try:
            self.screen += os.read(self._master, 65536)
        except OSError:  # the terminal's other end is gone
            self._close_terminal()

    def _close_terminal(self) -> None:
        if self._master is not None:
            asyncio.get_running_loop().remove_reader(self._master)
            os.close(self._master)
            self._master = None

    async def up(self, patience: float) -> None:
        """Wait until the console shows an attached venue; one that could not start is started again."""
        deadline = time.monotonic() + patience
        while not self.shows("ATTACHED"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the attached console did not come up in {patience:.0f} s")
            if self.proc is not None and (COULD_NOT_START.encode() in self.screen or self.proc.poll() is not None):
                self.kill()
                self.start()
            await asyncio.sleep(0.1)

    def shows(self, text: str) -> bool:
        """Whether the console has drawn text (and still runs)."""
        return self.proc is not None and self.proc.poll() is None and text.encode() in self.screen

    def kill(self) -> None:
        """SIGKILL, as a lost SSH session's hard end."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._close_terminal()

    def stop(self) -> int | None:
        """Quit as the user does (q), else SIGTERM; the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None and self._master is not None:
            os.write(self._master, b"q")
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                self.proc.wait(15)
        self._close_terminal()
        return self.proc.returncode


def stats_pnl_by_bot(folder: Path, args: list[str]) -> dict[str, tuple[int, Decimal]]:
    """`tui-bot ... stats --format json` (args: the command line up to `stats`): bot -> (closed trades, net PnL)."""
    done = subprocess.run(
        [*args, "stats", "--format", "json"], cwd=folder, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"tui-bot stats failed: {done.stderr.strip()}")
    if not done.stdout.strip():
        return {}
    totals: dict[str, tuple[int, Decimal]] = defaultdict(lambda: (0, Decimal(0)))
    for row in json.loads(done.stdout)["by_reason"]:
        if row["bot"] != ALL_BOTS:
            count, pnl = totals[row["bot"]]
            totals[row["bot"]] = (count + int(row["trades"]), pnl + Decimal(row["total_pnl"]))
    return dict(totals)


async def shown_pnl_by_bot(app: TuiBotApp) -> dict[str, tuple[int, str]]:
    """Each bot's closed trades and net PnL as the console shows them: the stats screen's "By bot" table.

    The one place the scenario reads the console's per-bot PnL: point it at a per-bot PnL view when there is one.
    """
    screen = app.screen
    assert isinstance(screen, StatsScreen)
    table = screen.query_one("#stats-by-bot", BreakdownTable)
    shown = {}
    for bot in table.keys():  # noqa: SIM118 (a table's row keys, not a dict)
        texts = table.row_texts(bot)
        shown[bot] = (int(texts["trades"]) if texts["trades"].isdigit() else 0, texts["trade_pnl"])
    return shown


async def console_pnl_by_bot(settings: Settings, redis_url: str, patience: float) -> dict[str, tuple[int, str]]:
    """Open an attached console under Pilot, press p, and read what it shows per bot (shown_pnl_by_bot); a console
    that could not start (no live state in its first seconds on a loaded machine) is opened again, as a user would."""
    deadline = time.monotonic() + patience
    while True:
        shown = await _attached_pnl(settings, redis_url, patience)
        if shown is not None or time.monotonic() > deadline:
            return shown or {}


async def _attached_pnl(settings: Settings, redis_url: str, patience: float) -> dict[str, tuple[int, str]] | None:
    """What one attached console shows per bot; None when it could not start."""
    app = TuiBotApp(settings, opener(settings, redis_url, None))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(lambda: _table_up(app) or could_not_start(app), patience)
        if not _table_up(app):
            app.exit()
            return None
        await pilot.press("p")
        await wait_for(lambda: isinstance(app.screen, StatsScreen) and app.screen.report is not None, patience)
        shown = await shown_pnl_by_bot(app)
        app.exit()
    return shown


def _table_up(app: TuiBotApp) -> bool:
    return app.backend is not None and bool(app.query(PositionsTable))


def could_not_start(app: TuiBotApp) -> bool:
    """Whether the console said it could not open its backend."""
    return any(str(n.message).startswith(COULD_NOT_START) for n in app._notifications)
