"""A console config on a tmp database, and `tui-bot serve` run as the installed command."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import console_script

START_LINES = 3  # "serving ...", "open URL", "Ctrl-C stops it ..."


def console_config(folder: Path) -> Path:
    """A config whose console trades on the embedded exchange, with its database and log in folder."""
    path = folder / "console.toml"
    db, log = folder / "console.db", folder / "console.log"
    path.write_text(f'[storage]\ndb_path = "{db}"\n[listen]\nlog_file = "{log}"\n')
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
