"""Builders of domain objects for the store tests."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tui_bot.domain.enums import (
    CreateType,
    ExecType,
    OrderStatus,
    OrderType,
    Side,
    StopOrderType,
    TimeInForce,
)
from tui_bot.domain.models import Execution, Order
from tui_bot.domain.order_ids import OrderIdFactory, OrderReason
from tui_bot.store.db import open_database
from tui_bot.store.ops import WriteOp
from tui_bot.store.writer import StoreWriter

D = Decimal
_IDS = OrderIdFactory("bot1")


def link(reason: OrderReason, now_ms: int = 1_700_000_000_000) -> str:
    """One of our orderLinkIds with reason."""
    return _IDS.new(reason, now_ms)


def fill(
    exec_id: str,
    side: Side,
    qty: str,
    price: str,
    *,
    symbol: str = "BTCUSDT",
    order_link_id: str = "",
    fee: str = "0",
    exec_time: int = 1_700_000_000_000,
    exec_type: ExecType = ExecType.TRADE,
    create_type: CreateType = CreateType.BY_USER,
    stop_order_type: StopOrderType = StopOrderType.NONE,
    closed_size: str = "0",
) -> Execution:
    """A fill (or funding, by exec_type) with value = price * qty."""
    return Execution(
        exec_id=exec_id,
        order_id=f"o-{exec_id}",
        order_link_id=order_link_id,
        symbol=symbol,
        side=side,
        exec_type=exec_type,
        exec_price=D(price),
        exec_qty=D(qty),
        exec_value=D(price) * D(qty),
        exec_fee=D(fee),
        fee_rate=D("0.00055"),
        exec_time=exec_time,
        is_maker=False,
        order_type=OrderType.MARKET,
        order_price=D(price),
        order_qty=D(qty),
        leaves_qty=D(0),
        closed_size=D(closed_size),
        exec_pnl=D(0),
        mark_price=D(price),
        index_price=D(price),
        seq=exec_time,
        create_type=create_type,
        stop_order_type=stop_order_type,
    )


def funding(exec_id: str, fee: str, *, symbol: str = "BTCUSDT", exec_time: int = 1_700_000_000_000) -> Execution:
    """A funding settlement (positive fee = paid)."""
    return fill(exec_id, Side.BUY, "0", "0", symbol=symbol, fee=fee, exec_time=exec_time, exec_type=ExecType.FUNDING)


def order(
    order_id: str,
    status: OrderStatus,
    updated_time: int,
    *,
    cum_exec_qty: str = "0",
    order_link_id: str = "",
) -> Order:
    """A limit buy of 1 BTCUSDT at 100.5 in the given state."""
    return Order(
        order_id=order_id,
        order_link_id=order_link_id,
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("1.000"),
        price=D("100.50"),
        time_in_force=TimeInForce.GTC,
        status=status,
        created_time=1_000,
        updated_time=updated_time,
        cum_exec_qty=D(cum_exec_qty),
    )


async def write_session(path: str | Path, *ops: WriteOp) -> None:
    """One writer session on path (or URL), as a run of the app has: rebuild the ledger, write ops, stop, close."""
    conn = await open_database(path)
    writer = StoreWriter(conn)
    writer.start()
    for op in ops:
        writer.enqueue(op)
    await writer.stop()
    assert writer.errors == 0
    await conn.close()
