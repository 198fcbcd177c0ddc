"""Position sizing from risk settings and the count of trade slots in use (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tui_bot.core.state import AccountState
from tui_bot.domain.enums import CreateType, Side, StopOrderType
from tui_bot.domain.models import Instrument, Order
from tui_bot.domain.numbers import ZERO, ceil_to_step, floor_to_step, plain
from tui_bot.domain.trading_settings import TradingSettings

FEE_BUFFER_RATE = Decimal("0.002")
"""Share of the notional kept free for the opening and closing taker fees (2 × 0.055%) plus slippage."""

_ENTRY_STOP_TYPES = frozenset({StopOrderType.NONE, StopOrderType.STOP})
_ENTRY_CREATE_TYPES = frozenset({CreateType.BY_USER, CreateType.BY_STOP_ORDER})


class SizingRefused(Exception):
    """No valid order exists for this proposal; the message says why in plain words."""


@dataclass(frozen=True, slots=True)
class Sizing:
    """A sized order: quantity, its value, the loss at the stop, the margin it takes and which caps applied."""

    qty: Decimal
    notional: Decimal
    risk_usd: Decimal
    margin: Decimal
    notes: tuple[str, ...]


def _usd(value: Decimal) -> str:
    return plain(value, 2)


def _check_inputs(side: Side, entry: Decimal, stop_loss: Decimal, equity: Decimal) -> None:
    """Refuse impossible proposals: no entry or stop, a stop on the wrong side, nothing to risk."""
    if entry <= 0:
        raise SizingRefused("the entry price must be positive")
    if stop_loss <= 0:
        raise SizingRefused("a stop loss is required to size a position")
    if (entry - stop_loss) * side.sign <= 0:
        raise SizingRefused("stop loss is on the wrong side of the entry")
    if equity <= 0:
        raise SizingRefused("the account has no equity to risk")


def pnl_per_unit(side: Side, entry: Decimal, exit_price: Decimal, fee_rate: Decimal) -> Decimal:
    """What one unit gains (negative: loses) from entry to exit after the entry's and the exit's taker fees."""
    return (exit_price - entry) * side.sign - (entry + exit_price) * fee_rate


def max_notional(available: Decimal, leverage: Decimal) -> Decimal:
    """The largest order value the available balance carries at leverage, keeping the fee buffer free."""
    if available <= 0:
        return ZERO
    return available / (1 / leverage + FEE_BUFFER_RATE)


def _minimum_qty(inst: Instrument, entry: Decimal, settings: TradingSettings) -> tuple[Decimal, str]:
    """The smallest qty this order may have and a phrase saying which minimum sets it."""
    candidates = [
        (inst.min_qty, f"the minimum quantity {plain(inst.min_qty)} {inst.base_coin}"),
        (
            ceil_to_step(inst.min_notional / entry, inst.qty_step),
            f"the minimum order value {_usd(inst.min_notional)} USDT",
        ),
    ]
    if settings.use_enhanced_position_sizing and settings.min_position_value_usd > 0:
        candidates.append(
            (
                ceil_to_step(settings.min_position_value_usd / entry, inst.qty_step),
                f"the minimum position value {_usd(settings.min_position_value_usd)} USDT",
            )
        )
    return max(candidates, key=lambda c: c[0])


def _raise_to_minimum(
    inst: Instrument,
    qty: Decimal,
    distance: Decimal,
    entry: Decimal,
    settings: TradingSettings,
    notional_cap: Decimal,
    budget_text: str,
) -> tuple[Decimal, str | None]:
    """Raise qty to the binding minimum when enhanced sizing allows and max loss and margin permit; else refuse."""
    minimum, why = _minimum_qty(inst, entry, settings)
    if qty >= minimum:
        return qty, None
    if minimum * entry > notional_cap:
        raise SizingRefused(
            f"not enough available margin for the minimum order ({plain(minimum)} {inst.base_coin}, "
            f"{_usd(minimum * entry)} USDT at {plain(settings.leverage)}x)"
        )
    if not settings.use_enhanced_position_sizing:
        if qty <= 0:
            raise SizingRefused(
                f"{budget_text}, below one qty step ({plain(inst.qty_step)} {inst.base_coin}) at this stop distance"
            )
        raise SizingRefused(
            f"{budget_text}: {plain(qty)} {inst.base_coin} is below {why} (enhanced position sizing is off)"
        )
    risk = minimum * distance
    if risk > settings.max_loss_usd:
        raise SizingRefused(
            f"raising to {why} ({plain(minimum)} {inst.base_coin}) would risk {_usd(risk)} USDT, "
            f"above the max loss of {_usd(settings.max_loss_usd)} USDT"
        )
    if minimum > inst.max_market_qty:
        raise SizingRefused(f"{why} exceeds the largest market order {plain(inst.max_market_qty)} {inst.base_coin}")
    return minimum, f"raised to {why}"


def size_position(
    inst: Instrument,
    side: Side,
    entry: Decimal,
    stop_loss: Decimal,
    *,
    equity: Decimal,
    available: Decimal,
    settings: TradingSettings,
) -> Sizing:
    """Size an entry so the loss at the stop, fees included, is risk_percentage of equity, within max loss,
    margin and filters.

    With use_enhanced_position_sizing the qty is raised to min_position_value_usd and to the
    instrument's minimums when that still respects max_loss_usd and the margin; without it a
    size below a minimum is refused rather than raised.
    """
    _check_inputs(side, entry, stop_loss, equity)
    distance = -pnl_per_unit(side, entry, stop_loss, settings.taker_fee_rate)  # the move to the stop and both fees
    if not inst.min_price <= entry <= inst.max_price:
        raise SizingRefused(f"the entry {plain(entry)} is outside {inst.symbol}'s price range")
    if not inst.min_price <= stop_loss <= inst.max_price:
        raise SizingRefused(f"the stop loss {plain(stop_loss)} is outside {inst.symbol}'s price range")
    notes: list[str] = []
    budget = equity * settings.risk_percentage / 100
    budget_text = f"{plain(settings.risk_percentage)}% of {_usd(equity)} USDT equity risks {_usd(budget)} USDT"
    if budget > settings.max_loss_usd:
        budget = settings.max_loss_usd
        notes.append(f"risk capped at the max loss of {_usd(budget)} USDT")
    qty = budget / distance
    notional_cap = max_notional(available, settings.leverage)
    if qty * entry > notional_cap:
        qty = notional_cap / entry
        notes.append(f"capped by available margin ({_usd(available)} USDT at {plain(settings.leverage)}x)")
    if qty > inst.max_market_qty:
        qty = inst.max_market_qty
        notes.append(f"capped at the largest market order {plain(inst.max_market_qty)} {inst.base_coin}")
    qty = floor_to_step(qty, inst.qty_step)
    qty, raised = _raise_to_minimum(inst, qty, distance, entry, settings, notional_cap, budget_text)
    if raised:
        notes.append(raised)
    notional = qty * entry
    return Sizing(
        qty=qty, notional=notional, risk_usd=qty * distance, margin=notional / settings.leverage, notes=tuple(notes)
    )


def is_entry_order(order: Order) -> bool:
    """True for an open order that would open or add to a position (not a TP/SL/trailing or reducing order)."""
    return (
        order.status.is_open
        and not order.reduce_only
        and not order.close_on_trigger
        and order.stop_order_type in _ENTRY_STOP_TYPES
        and order.create_type in _ENTRY_CREATE_TYPES
    )


def entry_orders(state: AccountState) -> list[Order]:
    """Open orders that would open a position."""
    return [o for o in state.open_orders.values() if is_entry_order(o)]


def occupied_symbols(state: AccountState) -> set[str]:
    """Symbols with an open position or an open entry order: each takes one slot."""
    return {s for s, p in state.positions.items() if p.size > 0} | {o.symbol for o in entry_orders(state)}


def slots_used(state: AccountState) -> int:
    """Slots in use (a position and its entry order count once)."""
    return len(occupied_symbols(state))


def free_slots(state: AccountState, settings: TradingSettings) -> int:
    """How many more trades max_concurrent_trades allows now."""
    return max(0, settings.max_concurrent_trades - slots_used(state))
