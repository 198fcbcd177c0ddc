"""Which orders a reseed looks up in order history, in what order, and what it carries to the next reseed."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from tui_bot.core.order_reconcile import MAX_MISSES, plan_lookups, settle_lookups
from tui_bot.core.state import AccountState, PendingOrder
from tui_bot.domain.enums import ExecType, OrderStatus, OrderType, Side, TimeInForce
from tui_bot.domain.events import ExecutionReceived, OrderUpdated
from tui_bot.domain.models import Execution, Order

WEEK_MS = 7 * 86_400_000


def _order(order_id: str, status: OrderStatus = OrderStatus.NEW, updated: int = 10, created: int = 5) -> Order:
    return Order(
        order_id,
        "",
        "BTCUSDT",
        Side.BUY,
        OrderType.LIMIT,
        D("0.010"),
        D("100000"),
        TimeInForce.GTC,
        status,
        created,
        updated,
    )


def _fill(exec_id: str, order_id: str, t: int, exec_type: ExecType = ExecType.TRADE) -> Execution:
    return Execution(
        exec_id,
        order_id,
        "",
        "ETHUSDT",
        Side.BUY,
        exec_type,
        D("3000"),
        D("0.1"),
        D("300"),
        D("0.165"),
        D("0.00055"),
        t,
        False,
        OrderType.MARKET,
        D("0"),
        D("0.1"),
        D("0"),
        D("0"),
        D("0"),
        D("3000"),
        D("3000"),
        1,
    )


def _holding(*orders: Order) -> AccountState:
    state = AccountState()
    for order in orders:
        state.apply(OrderUpdated(order=order, exchange_ts=order.updated_time, received_ns=1))
    return state


def test_plan_asks_carried_orders_first_then_vanished_then_unseen_fills_within_the_budget() -> None:
    state = _holding(_order("listed"), _order("vanished"), _order("after-fetch", updated=200))
    state.unresolved["carried"] = PendingOrder("BTCUSDT", "carried", 1, _order("carried"), misses=1)
    state.apply(ExecutionReceived(execution=_fill("seen", "known-fill", 50), exchange_ts=50, received_ns=1))
    fills = [
        _fill("e2", "unseen", 90),
        _fill("e1", "recent", 80),
        _fill("seen", "known-fill", 50),
        _fill("funding", "funding-id", 70, ExecType.FUNDING),
    ]
    plan = plan_lookups(state, [_order("listed")], fills, [_order("recent")], as_of_ms=100, budget=2)
    assert [p.order_id for p in plan.asked] == ["carried", "vanished"]
    assert [p.order_id for p in plan.deferred] == ["unseen"], "listed, recent, seen and funding need no lookup"
    assert plan.deferred[0] == PendingOrder("ETHUSDT", "unseen", 90 - WEEK_MS + 60_000)
    assert plan.wanted == [("BTCUSDT", "carried", 1), ("BTCUSDT", "vanished", 5)]


def test_settle_carries_the_deferred_counts_misses_and_gives_up_after_the_last() -> None:
    state = _holding(_order("vanished"), _order("cond", OrderStatus.UNTRIGGERED))
    state.replace_open_orders([], as_of_ms=100)
    plan = plan_lookups(state, [], [_fill("e1", "fill-only", 90)], [], as_of_ms=100, budget=2)
    assert settle_lookups(state, plan, set()) == []
    assert {i: p.misses for i, p in state.unresolved.items()} == {"vanished": 1, "cond": 1, "fill-only": 0}
    for _ in range(MAX_MISSES - 1):
        closes = settle_lookups(state, plan_lookups(state, [], [], [], as_of_ms=100, budget=3), set())
    assert [(o.order_id, o.status) for o in closes] == [
        ("vanished", OrderStatus.CANCELLED),
        ("cond", OrderStatus.DEACTIVATED),
    ]
    assert closes[0] == replace(_order("vanished"), status=OrderStatus.CANCELLED), "what we knew, closed"
    for order in closes:
        state.apply(OrderUpdated(order=order, exchange_ts=order.updated_time, received_ns=1))
    assert list(state.unresolved) == ["fill-only"] and state.unresolved["fill-only"].misses == MAX_MISSES - 1


def test_settle_leaves_alone_what_history_answered_or_the_stream_settled() -> None:
    state = _holding(_order("answered"), _order("streamed"))
    state.replace_open_orders([], as_of_ms=100)
    plan = plan_lookups(state, [], [], [], as_of_ms=100, budget=5)
    state.apply(
        OrderUpdated(order=_order("streamed", OrderStatus.CANCELLED, updated=150), exchange_ts=150, received_ns=1)
    )
    assert settle_lookups(state, plan, {"answered"}) == []
    assert list(state.unresolved) == ["answered"] and state.unresolved["answered"].misses == 0
