"""A console config on a tmp database, and `tui-bot serve` run as the installed command."""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import console_script
from tests.live.conftest import live  # noqa: F401 - the listener on Redis, a fixture of the attach-mode tests
from tui_bot.serve.guard import new_token
from tui_bot.serve.server import GuardedServer
from tui_bot.serve_cli import served_console

START_LINES = 3  # "serving ...", "open URL", "Ctrl-C stops it ..."


def console_config(folder: Path) -> Path:
    """A config whose console trades on the embedded exchange, with its database and log in folder.

    One symbol ticking every 250 ms and no scheduled cycles: the console starts and draws sooner on a busy machine.
    """
    path = folder / "console.toml"
    db, log = folder / "console.db", folder / "console.log"
    path.write_text(
        f'[storage]\ndb_path = "{db}"\n[listen]\nlog_file = "{log}"\n'
        '[sim]\nsymbols = ["BTCUSDT"]\nstep_ms = 250\n[bot]\nwatchlist = ["BTCUSDT"]\n[trading]\nrun_cycles = false\n'
    )
    return path


@dataclass
class ServeProcess:
    """A running `tui-bot serve` and what it printed when it started."""

    process: subprocess.Popen[str]
    lines: list[str]

    @property
    def open_url(self) -> str:
        """The URL the user is told to open."""
        return next(line.removeprefix("open ") for line in self.lines if line.startswith("open "))

    @property
    def base(self) -> str:
        """The server's own URL, without path or token."""
        found = re.match(r"(http://[^/]+)", self.open_url)
        assert found is not None, self.lines
        return found.group(1)

    def stop(self) -> tuple[str, str]:
        """SIGINT, as Ctrl-C; the rest of stdout and all of stderr."""
        self.process.send_signal(signal.SIGINT)
        out, err = self.process.communicate(timeout=30)
        return out, err


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """This environment without TUI_BOT_ variables, plus extra."""
    return {**{k: v for k, v in os.environ.items() if not k.upper().startswith("TUI_BOT_")}, **extra}


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """Starts `tui-bot --config <tmp> serve --port 0 ARGS` (call it), stopped at the end if still running."""
    started: list[ServeProcess] = []

    def start(*args: str, env: dict[str, str] | None = None) -> ServeProcess:
        argv = [str(console_script()), "--config", str(console_config(tmp_path)), "serve", "--port", "0", *args]
        process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=clean_env(env or {})
        )
        assert process.stdout is not None
        running = ServeProcess(process, [process.stdout.readline().rstrip("\n") for _ in range(START_LINES)])
        started.append(running)
        return running

    yield start
    for running in started:
        if running.process.poll() is None:
            running.stop()


@dataclass
class Served:
    """A GuardedServer on loopback: its URL, its token, and the folder of its console's config, database and log."""

    url: str
    token: str
    folder: Path

    @property
    def ws(self) -> str:
        return f"{self.url}/ws?width=100&height=30"

    @property
    def console_started(self) -> bool:
        """The served console creates its database when it starts."""
        return (self.folder / "console.db").exists()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    """GuardedServer on a free loopback port, serving the real console on a tmp config and database."""
    console = served_console(argparse.Namespace(config=console_config(tmp_path), db=None, venue=None, attach=None))
    server = GuardedServer(console, new_token(), "127.0.0.1", 0, None, session_wait_s=0.5)
    url = await server.start()
    yield Served(url, server.token, tmp_path)
    await server.stop()
