"""What the ticket tells the trader before sending: the order in one line, its value, margin, and the gain at TP,
loss at SL and R:R with both taker fees in, by the same formula the bot sizes with (core.risk.pnl_per_unit)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tui_bot.core.risk import pnl_per_unit
from tui_bot.domain.enums import OrderType, TriggerBy
from tui_bot.domain.intents import PlaceOrderIntent
from tui_bot.domain.models import Instrument
from tui_bot.domain.numbers import plain
from tui_bot.ui import format as fmt
from tui_bot.ui.screens.ticket import RISING


@dataclass(frozen=True, slots=True)
class Outcome:
    """The order's value and margin, and what it makes at the TP and loses at the SL after both fees."""

    notional: Decimal
    margin: Decimal
    gain_at_tp: Decimal | None
    loss_at_sl: Decimal | None

    @property
    def reward_to_risk(self) -> Decimal | None:
        if self.gain_at_tp is None or not self.loss_at_sl:
            return None
        return self.gain_at_tp / self.loss_at_sl


def outcome(intent: PlaceOrderIntent, entry: Decimal, leverage: Decimal, fee_rate: Decimal) -> Outcome:
    """The figures at the entry used for validation (taker fees on entry and exit, as the bot counts them)."""
    notional = intent.qty * entry
    gain = loss = None
    if intent.take_profit:
        gain = intent.qty * pnl_per_unit(intent.side, entry, intent.take_profit, fee_rate)
    if intent.stop_loss:
        loss = -intent.qty * pnl_per_unit(intent.side, entry, intent.stop_loss, fee_rate)
    return Outcome(notional, notional / leverage, gain, loss)


def preview(intent: PlaceOrderIntent, entry: Decimal, leverage: Decimal, fee_rate: Decimal) -> str:
    """Order value and margin; then gain at TP, loss at SL and R:R, both fees included."""
    figures = outcome(intent, entry, leverage, fee_rate)
    text = f"≈ {figures.notional:,.2f} USDT · margin {figures.margin:,.2f} at {plain(leverage)}x"
    parts = []
    if figures.gain_at_tp is not None:
        parts.append(f"gain at TP {figures.gain_at_tp:+,.2f} USDT")
    if figures.loss_at_sl is not None:
        parts.append(f"loss at SL {figures.loss_at_sl:,.2f} USDT")
    if (rr := figures.reward_to_risk) is not None:
        parts.append(f"R:R {rr:.2f}")
    if parts:
        text += "\n" + " · ".join(parts) + " (both fees in)"
    return text


def describe(intent: PlaceOrderIntent, inst: Instrument) -> str:
    """One line a trader reads before confirming: 'BUY 0.010 BTCUSDT @ market, TP 110000, SL 100000'."""
    where = "market" if intent.order_type is OrderType.MARKET else fmt.price(intent.price, inst)
    text = f"{intent.side.value.upper()} {plain(intent.qty.quantize(inst.qty_step))} {intent.symbol} @ {where}"
    if intent.time_in_force is not None:
        text += f" {intent.time_in_force.value}"
    if intent.trigger_price is not None:
        text += f", {trigger_words(intent, inst)}"
    if intent.reduce_only:
        text += ", reduce-only"
    for name, value in (("TP", intent.take_profit), ("SL", intent.stop_loss)):
        if value is not None:
            text += f", {name} {fmt.price(value, inst)}"
    if intent.leverage is not None:
        text += f", leverage {plain(intent.leverage)}x"
    return text


def trigger_words(intent: PlaceOrderIntent, inst: Instrument) -> str:
    """'when last rises to 101000' / 'when mark falls to 99000'."""
    price = "mark" if intent.trigger_by is TriggerBy.MARK else "last"
    moves = "rises" if intent.trigger_direction == RISING else "falls"
    return f"when {price} {moves} to {fmt.price(intent.trigger_price, inst)}"
