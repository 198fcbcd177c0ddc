"""Several connections (console, `tui-bot listen`) opening the same new database at once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from tui_bot.store.db import SCHEMA_VERSION, open_database

# A child imports everything, says "ready", waits for the go file, then opens the database.
_OPEN_IN_CHILD = """
import asyncio, os, sys, time
from tui_bot.store.db import open_database
async def main() -> None:
    await (await open_database(sys.argv[1])).close()
print("ready", flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.001)
asyncio.run(main())
"""


async def _open_and_check(path: Path) -> None:
    conn = await open_database(path)
    try:
        assert await conn.version() == SCHEMA_VERSION
        assert (await conn.fetch("PRAGMA journal_mode"))[0][0] == "wal"
    finally:
        await conn.close()


def _open_on_own_loop(path: Path) -> None:
    """Open path from another thread with its own event loop, like another program would."""
    asyncio.run(_open_and_check(path))


async def test_two_opens_of_a_fresh_file_both_succeed(tmp_path: Path) -> None:
    for attempt in range(20):
        path = tmp_path / f"fresh{attempt}.db"
        await asyncio.gather(_open_and_check(path), _open_and_check(path))


async def test_three_opens_one_from_another_thread_all_succeed(tmp_path: Path) -> None:
    for attempt in range(20):
        path = tmp_path / f"fresh{attempt}.db"
        await asyncio.gather(_open_and_check(path), _open_and_check(path), asyncio.to_thread(_open_on_own_loop, path))


async def test_opens_from_other_processes_at_the_same_time_all_succeed(tmp_path: Path) -> None:
    path, go = tmp_path / "fresh.db", tmp_path / "go"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN_IN_CHILD, str(path), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    for child in children:
        assert child.stdout is not None
        assert await asyncio.to_thread(child.stdout.readline) == b"ready\n"
    go.touch()
    await _open_and_check(path)
    for child in children:
        _, err = await asyncio.to_thread(child.communicate, None, 30)
        assert child.returncode == 0, err.decode()
    await _open_and_check(path)
