"""Child process for the crash test: writes executions through the writer until killed."""

from __future__ import annotations

import asyncio
import sys

from tests.store.factories import fill, link
from tui_bot.domain.enums import Side
from tui_bot.domain.order_ids import OrderReason
from tui_bot.store.db import open_database
from tui_bot.store.ops import RecordExecution
from tui_bot.store.writer import StoreWriter

_SIDES = (Side.BUY, Side.BUY, Side.SELL, Side.SELL, Side.SELL, Side.BUY)
_REASONS = (OrderReason.ENTRY, OrderReason.SCALE_IN, OrderReason.TAKE_PROFIT, OrderReason.STOP_LOSS)


async def main(path: str) -> None:
    """Enqueue fills (each also re-sent as a duplicate) forever, announcing the first commit."""
    conn = await open_database(path)
    writer = StoreWriter(conn, batch_size=64, flush_interval=0.001)
    writer.start()
    i = 0
    while True:
        for _ in range(50):
            execution = fill(
                f"x{i}",
                _SIDES[i % len(_SIDES)],
                "0.5",
                str(100 + i % 7),
                fee="0.01",
                symbol=("BTCUSDT", "ETHUSDT")[i // 6 % 2],
                exec_time=i,
                order_link_id=link(_REASONS[i % len(_REASONS)]),
            )
            writer.enqueue(RecordExecution(execution))
            writer.enqueue(RecordExecution(execution))
            i += 1
        await writer.flush()
        if i == 50:
            print("ready", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
