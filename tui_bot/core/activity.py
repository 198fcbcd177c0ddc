"""The activity log: one readable line for each action the trader or the bot takes on the account.

Lines go to the ``tui_bot.activity`` logger, so the console's log pane and ``tui_bot.log`` both get them
(and ``listen``'s log, when it acts). The order service's acts are wrapped once with ``logged``: an act
that succeeds is logged at INFO with its outcome, one that fails at WARNING with the venue's code and words.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from tui_bot.domain.numbers import places_of, plain
from tui_bot.domain.order_ids import parse_order_id
from tui_bot.domain.recommendations import Recommendation
from tui_bot.domain.requests import AmendRequest, OrderAck, OrderRequest, TradingStopRequest
from tui_bot.exchange.errors import ExchangeError, plain_words

if TYPE_CHECKING:
    from tui_bot.core.orders import OrderService

log = logging.getLogger("tui_bot.activity")
P = ParamSpec("P")
R = TypeVar("R")


def why(err: BaseException) -> str:
    """What went wrong, in the venue's words with its code when it has one."""
    if isinstance(err, ExchangeError) and err.code:
        return plain_words(err.code, err.message)
    return str(err) or type(err).__name__


def logged(
    done: str, refused: str, describe: Callable[..., str], outcome: Callable[[Any], str] | None = None
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Wrap an async act: after it, one line "<done>: <what>[<outcome>]", or "<refused>: <what>: <why>" (re-raised)."""

    def wrap(act: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(act)
        async def run(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                result = await act(*args, **kwargs)
            except Exception as err:
                log.warning("%s: %s: %s", refused, describe(*args, **kwargs), why(err))
                raise
            log.info("%s: %s%s", done, describe(*args, **kwargs), outcome(result) if outcome else "")
            return result

        return run

    return wrap


def _price(label: str, value: Decimal | None, places: int | None = None) -> str:
    """' TP 110000.00' for a set leg (to `places`), ' TP removed' for 0, '' when left as it is."""
    if value is None:
        return ""
    return f" {label} {plain(value, places)}" if value else f" {label} removed"


def _places(service: OrderService, symbol: str) -> tuple[int | None, int | None]:
    """Decimal places of the symbol's tick and qty step (None, None before its instrument is known)."""
    inst = service.engine.state.instruments.get(symbol)
    return (places_of(inst.tick_size), places_of(inst.qty_step)) if inst is not None else (None, None)


def who(order_link_id: str) -> str:
    """Why our id says the order was sent ('manual entry', 'take profit' …), or 'external'."""
    parsed = parse_order_id(order_link_id)
    return parsed.reason.name.lower().replace("_", " ") if parsed is not None else "external"


def order_text(service: OrderService, request: OrderRequest) -> str:
    """A new order: side, type, qty, symbol, price, trigger, TP/SL (to the tick), reduce-only, why and its full
    orderLinkId."""
    tick, step = _places(service, request.symbol)
    parts = [f"{request.side.value} {request.order_type.value} {plain(request.qty, step)} {request.symbol}"]
    if request.price is not None:
        parts.append(f" @ {plain(request.price, tick)}")
    if request.trigger_price:
        parts.append(f" trigger {plain(request.trigger_price, tick)}")
    parts += [_price("TP", request.take_profit or None, tick), _price("SL", request.stop_loss or None, tick)]
    if request.reduce_only:
        parts.append(" reduce-only")
    if request.time_in_force is not None:
        parts.append(f" {request.time_in_force.value}")
    parts.append(f" ({who(request.order_link_id)}, id {request.order_link_id})")
    return "".join(parts)


def amend_text(service: OrderService, request: AmendRequest) -> str:
    """An amendment: which order and the fields it changes (prices to the tick, qty to the step)."""
    tick, step = _places(service, request.symbol)
    changes = "".join(
        _price(label, value, places)
        for label, value, places in (
            ("qty", request.qty, step),
            ("price", request.price, tick),
            ("trigger", request.trigger_price, tick),
            ("TP", request.take_profit, tick),
            ("SL", request.stop_loss, tick),
        )
    )
    return f"{request.symbol} order {request.order_id or request.order_link_id}{changes}"


def cancel_text(_service: object, symbol: str, order_id: str) -> str:
    return f"{symbol} order {order_id}"


def cancel_all_text(_service: object, symbol: str | None = None) -> str:
    return f"every open order of {symbol}" if symbol else "every open order"


def trading_stop_text(service: OrderService, request: TradingStopRequest) -> str:
    """A position's new TP / SL / trailing stop, to the tick (legs left as they are are not named)."""
    tick, _step = _places(service, request.symbol)
    legs = _price("TP", request.take_profit, tick) + _price("SL", request.stop_loss, tick)
    legs += _price("trailing", request.trailing_stop, tick) + _price("trailing from", request.active_price, tick)
    return f"{request.symbol}{legs or ' (no change)'}"


def leverage_text(_service: object, symbol: str, leverage: Decimal) -> str:
    return f"{symbol} {plain(leverage)}x"


def panic_text(_service: object, _reason: object = None) -> str:
    return "cancel every order and close every position at market"


def acked(ack: OrderAck) -> str:
    return f" → order {ack.order_id}"


def gone(ack: OrderAck | None) -> str:
    return "" if ack is not None else " (already gone)"


def counted(one: str, many: str) -> Callable[[Sequence[object]], str]:
    """An outcome that counts the results ('→ 1 order', '→ 2 orders')."""
    return lambda results: f" → {len(results)} {one if len(results) == 1 else many}"


def decided(rec: Recommendation, verb: str) -> None:
    """A recommendation the trader approved or dismissed, and what became of it."""
    log.info(
        "recommendation %s: %s %s %s (%s) → %s%s",
        verb,
        rec.side.value,
        rec.symbol,
        rec.strategy,
        rec.id,
        rec.status,
        f": {rec.fate}" if rec.fate else "",
    )
