"""Orders that closed, or filled, while nobody listened: a reseed reads their final state from order history.

An order we held open that the reseed's open-orders list lacks closed unseen; an order known only from fills the
reseed found was never seen at all. Unless the query of recent orders already answered them, both are looked up in
order history by id, a bounded number per reseed; the rest wait in `AccountState.unresolved` for the next reseed,
oldest first. Bybit keeps an unfilled Cancelled or Deactivated order in history for 24 hours only, so an order
that history has not returned in MAX_MISSES reseeds is recorded closed that way, with the fills we knew of.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace

from tui_bot.core.state import AccountState, PendingOrder
from tui_bot.domain.enums import ExecType, OrderStatus
from tui_bot.domain.models import Execution, Order

log = logging.getLogger(__name__)
MAX_MISSES = 3
_CREATED_BEFORE_FILL_MS = 7 * 86_400_000 - 60_000  # an order known from a fill is sought this far before it


@dataclass(frozen=True, slots=True)
class LookupPlan:
    """The orders one reseed looks up in order history, and those it leaves for the next reseed."""

    asked: list[PendingOrder]
    deferred: list[PendingOrder]

    @property
    def wanted(self) -> list[tuple[str, str, int]]:
        """(symbol, orderId, earliest createdTime) of each asked order, as the client takes them."""
        return [(p.symbol, p.order_id, p.created_from_ms) for p in self.asked]


NOTHING_TO_LOOK_UP = LookupPlan([], [])


def plan_lookups(
    state: AccountState,
    listed: list[Order],
    executions: list[Execution],
    recent: list[Order],
    as_of_ms: int,
    budget: int,
) -> LookupPlan:
    """What only order history can tell, oldest first, at most budget of it asked now.

    Left out: what the open-orders list (`listed`) or the query of recent orders (`recent`) already answered.
    """
    answered = {o.order_id for o in listed} | {o.order_id for o in recent}
    wanted: dict[str, PendingOrder] = {}
    for pending in _candidates(state, executions, as_of_ms):
        if pending.order_id not in answered:
            wanted.setdefault(pending.order_id, pending)
    queue = list(wanted.values())
    return LookupPlan(queue[:budget], queue[budget:])


def _candidates(state: AccountState, executions: list[Execution], as_of_ms: int) -> Iterator[PendingOrder]:
    """Carried-over orders, then held open ones last heard of before the fetch, then orders seen only in new fills."""
    yield from state.unresolved.values()
    for held in state.open_orders.values():
        if held.updated_time < as_of_ms:
            yield PendingOrder(held.symbol, held.order_id, held.created_time, held)
    for execution in sorted(executions, key=lambda e: (e.exec_time, e.seq)):
        order_id = execution.order_id
        if (
            order_id
            and execution.exec_type is not ExecType.FUNDING
            and execution.exec_id not in state.exec_ids
            and order_id not in state.open_orders
            and order_id not in state.closed_orders
        ):
            yield PendingOrder(execution.symbol, order_id, execution.exec_time - _CREATED_BEFORE_FILL_MS)


def settle_lookups(state: AccountState, plan: LookupPlan, answered: set[str]) -> list[Order]:
    """After the reseed's orders were applied: keep what still waits, count a miss for each asked order that history
    did not return; returns the closes of orders given up on, to apply like any other update."""
    for pending in plan.deferred:
        if not _resolved(state, pending.order_id):
            state.unresolved.setdefault(pending.order_id, pending)
    closes: list[Order] = []
    for pending in plan.asked:
        if pending.order_id in answered or _resolved(state, pending.order_id):
            continue
        current = state.unresolved.get(pending.order_id, pending)
        if current.misses + 1 < MAX_MISSES:
            state.unresolved[pending.order_id] = replace(current, misses=current.misses + 1)
        elif current.held is not None:
            closes.append(_closed_unseen(current.held))
        else:
            state.unresolved.pop(pending.order_id, None)
            log.warning(
                "order %s (%s) has fills but order history never returned it: its row is not recorded",
                pending.order_id,
                pending.symbol,
            )
    return closes


def _resolved(state: AccountState, order_id: str) -> bool:
    """True once the order is known open (listed, or updated after the fetch) or closed."""
    return order_id in state.open_orders or order_id in state.closed_orders


def _closed_unseen(held: Order) -> Order:
    """The order as Bybit forgets it: Cancelled, or Deactivated if it was an untriggered conditional."""
    status = OrderStatus.DEACTIVATED if held.status is OrderStatus.UNTRIGGERED else OrderStatus.CANCELLED
    log.warning(
        "order %s (%s) is neither open nor in order history after %d reseeds: recorded as %s",
        held.order_id,
        held.symbol,
        MAX_MISSES,
        status.value,
    )
    return replace(held, status=status)
