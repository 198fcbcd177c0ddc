"""bench.fanout's reader process: a LiveState on Redis that tells when bot b0's position changes size.

Run as a script (not `-m`), so that `tui_bot` comes from PYTHONPATH: bench.fanout points it at the tree under test
(this checkout, or a baseline exported from git). Lines out (stdout): `ready`, `seen <recv_ns> <shown_ns> <size>`
(perf_counter ns: when the change message reached the reader, when the new size was visible), `count <n>` and
`cpu <process ns>` answering `count` and `cpu` on stdin.
"""

from __future__ import annotations

import asyncio
import sys
import time
from decimal import Decimal
from typing import Any

from tui_bot.live.reader import LiveState

BOT, SYMBOL = "b0", "BTCUSDT"


class Watch:
    """Stamps each change message as it arrives and prints when b0's size in SYMBOL differs from the last seen."""

    def __init__(self, reader: LiveState) -> None:
        self.reader = reader
        self.size: Decimal | None = None
        self.recv_ns = 0
        apply = reader._apply

        async def stamped(data: Any) -> None:
            self.recv_ns = time.perf_counter_ns()
            await apply(data)

        reader._apply = stamped  # type: ignore[method-assign]
        reader.listeners.append(self.changed)

    def changed(self, _touched: object) -> None:
        pos = self.reader.bot_positions(BOT).get(SYMBOL)
        size = pos.size if pos is not None else Decimal(0)
        if size != self.size:
            self.size = size
            print(f"seen {self.recv_ns} {time.perf_counter_ns()} {size}", flush=True)


async def answer(reader: LiveState) -> None:
    """Answer count/cpu requests from stdin until it closes."""
    loop = asyncio.get_running_loop()
    while line := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
        if line == "count":
            print(f"count {sum(len(held) for held in reader.positions().values())}", flush=True)
        elif line == "cpu":
            print(f"cpu {time.process_time_ns()}", flush=True)


async def main(url: str) -> None:
    reader = LiveState(url)
    Watch(reader)
    await reader.start()
    while not (reader.ready.is_set() and reader.listener_alive):
        await asyncio.sleep(0.01)
    print("ready", flush=True)
    try:
        await answer(reader)
    finally:
        await reader.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
