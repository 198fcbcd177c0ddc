"""Stopping the server waits for its own consoles, never for children the process had before it served."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from tests.serve.conftest import console_config
from tui_bot.serve.guard import new_token
from tui_bot.serve.server import GuardedServer
from tui_bot.serve_cli import served_console


async def test_a_child_the_process_had_before_serving_is_no_console(tmp_path: Path) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # as a test run's redis-server
    try:
        console = served_console(argparse.Namespace(config=console_config(tmp_path), db=None, venue=None, attach=None))
        server = GuardedServer(console, new_token(), "127.0.0.1", 0, None)
        await server.start()
        try:
            assert server.consoles() == []
        finally:
            await server.stop()
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()
