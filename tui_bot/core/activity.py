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
from typing import Any, ParamSpec, TypeVar

from tui_bot.domain.numbers import plain
from tui_bot.domain.order_ids import parse_order_id
from tui_bot.domain.recommendations import Recommendation
from tui_bot.domain.requests import AmendRequest, OrderAck, OrderRequest, TradingStopRequest
from tui_bot.exchange.errors import ExchangeError, plain_words

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


def _price(label: str, value: Decimal | None) -> str:
    """' TP 110000' for a set leg, ' TP removed' for 0, '' when left as it is."""
    if value is None:
        return ""
    return f" {label} {plain(value)}" if value else f" {label} removed"


def who(order_link_id: str) -> str:
    """Why our id says the order was sent ('manual entry', 'take profit' …), or 'external'."""
    parsed = parse_order_id(order_link_id)
    return parsed.reason.name.lower().replace("_", " ") if parsed is not None else "external"


def order_text(_service: object, request: OrderRequest) -> str:
    """A new order: side, type, qty, symbol, price, trigger, TP/SL, reduce-only, why and its full orderLinkId."""
    parts = [f"{request.side.value} {request.order_type.value} {plain(request.qty)} {request.symbol}"]
    if request.price is not None:
        parts.append(f" @ {plain(request.price)}")
    if request.trigger_price:
        parts.append(f" trigger {plain(request.trigger_price)}")
    parts += [_price("TP", request.take_profit or None), _price("SL", request.stop_loss or None)]
    if request.reduce_only:
        parts.append(" reduce-only")
    if request.time_in_force is not None:
        parts.append(f" {request.time_in_force.value}")
    parts.append(f" ({who(request.order_link_id)}, id {request.order_link_id})")
    return "".join(parts)


def amend_text(_service: object, request: AmendRequest) -> str:
    """An amendment: which order and the fields it changes."""
    changes = "".join(
        _price(label, value)
        for label, value in (
            ("qty", request.qty),
            ("price", request.price),
            ("trigger", request.trigger_price),
            ("TP", request.take_profit),
            ("SL", request.stop_loss),
        )
    )
    return f"{request.symbol} order {request.order_id or request.order_link_id}{changes}"


def cancel_text(_service: object, symbol: str, order_id: str) -> str:
    return f"{symbol} order {order_id}"


def cancel_all_text(_service: object, symbol: str | None = None) -> str:
    return f"every open order of {symbol}" if symbol else "every open order"


def trading_stop_text(_service: object, request: TradingStopRequest) -> str:
    """A position's new TP / SL / trailing stop (legs left as they are are not named)."""
    legs = _price("TP", request.take_profit) + _price("SL", request.stop_loss)
    legs += _price("trailing", request.trailing_stop) + _price("trailing from", request.active_price)
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
