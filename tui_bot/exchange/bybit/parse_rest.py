"""Wire objects to domain models: the REST list-item converters, also used for the private topics.

The private WS topics carry the same objects as REST (position says entryPrice, not avgPrice),
so parse.py reuses these converters (the ticker converter lives beside the hot path, parse_ticker.py).
Policy, applied field by field (the value converters are parse_values.py's):
* A number is a JSON string in the one wire grammar (domain/wire_decimal.py: no exponents, spaces,
  underscores, NaN or infinities) or a JSON int, parsed to an exact Decimal; "" is unset. Each field
  has Bybit's sign rule: `signed` where Bybit sends negatives (closedPnl, execPnl, realised and
  unrealised PnL, fees and fee rates (maker rebates), wallet balances and equity), `positive` for
  instrument filters and candle prices, `dec` (never negative) for the rest. Unset optional fields
  take the model's default (ZERO for money, 10 for leverage); an unset required number is ZERO;
  liqPrice "" / "0" / "0.00" is None. Anything else raises FrameError with its reason.
* Integers (times, seq, positionIdx) are JSON ints or strings of ASCII digits; "" is 0.
* Enums that drive state (side, orderStatus, orderType, timeInForce, execType) raise FrameError
  on an unknown string; "RPI" time in force is read as PostOnly (both rest on the book as maker);
  a position's side "" is None (flat).
* Descriptive enums never fail: unknown createType -> CreateByUser, cancelType -> UNKNOWN,
  rejectReason -> EC_Others, triggerBy/tpslMode -> None (a position's tp/slTriggerBy ->
  LastPrice), a non-empty unknown stopOrderType -> Stop (still conditional), "" / "UNKNOWN"
  stopOrderType -> NONE, an execution's "UNKNOWN" orderType -> None, a closed-PnL record's
  unknown execType -> Trade.
"""

from __future__ import annotations

from decimal import Decimal

from tui_bot.domain.enums import (
    CancelType,
    CreateType,
    ExecType,
    OrderStatus,
    OrderType,
    RejectReason,
    Side,
    StopOrderType,
    TimeInForce,
    TpSlMode,
    TriggerBy,
)
from tui_bot.domain.models import (
    ClosedPnl,
    Execution,
    Instrument,
    Kline,
    LedgerEntry,
    Order,
    Position,
    Wallet,
    WalletCoin,
)
from tui_bot.domain.numbers import ZERO
from tui_bot.exchange.bybit.frames import FrameError
from tui_bot.exchange.bybit.parse_values import (
    KEEP,
    REQUIRED,
    Item,
    Spec,
    build,
    dec,
    dec_or_none,
    flag,
    integer,
    lenient,
    obj,
    objects,
    positive,
    shown,
    signed,
    strict,
    text,
)

SIDE = strict(Side)
ORDER_TYPE = strict(OrderType)
ORDER_STATUS = strict(OrderStatus)
TIME_IN_FORCE = strict(TimeInForce, {"RPI": TimeInForce.POST_ONLY})
EXEC_TYPE = strict(ExecType)
CREATE_TYPE = lenient(CreateType, CreateType.BY_USER)
CANCEL_TYPE = lenient(CancelType, CancelType.UNKNOWN)
REJECT_REASON = lenient(RejectReason, RejectReason.OTHERS)
STOP_ORDER_TYPE = lenient(StopOrderType, StopOrderType.STOP, {"UNKNOWN": StopOrderType.NONE})
TRIGGER_BY = lenient(TriggerBy, None)
POSITION_TRIGGER_BY = lenient(TriggerBy, TriggerBy.LAST)
TPSL_MODE = lenient(TpSlMode, None)
EXEC_ORDER_TYPE = lenient(OrderType, None)
CLOSED_EXEC_TYPE = lenient(ExecType, ExecType.TRADE)

_ORDER: Spec = (
    ("orderId", "order_id", text, REQUIRED),
    ("orderLinkId", "order_link_id", text, ""),
    ("symbol", "symbol", text, REQUIRED),
    ("side", "side", SIDE, REQUIRED),
    ("orderType", "order_type", ORDER_TYPE, REQUIRED),
    ("qty", "qty", dec, REQUIRED),
    ("price", "price", dec, ZERO),
    ("timeInForce", "time_in_force", TIME_IN_FORCE, REQUIRED),
    ("orderStatus", "status", ORDER_STATUS, REQUIRED),
    ("createdTime", "created_time", integer, REQUIRED),
    ("updatedTime", "updated_time", integer, REQUIRED),
    ("createType", "create_type", CREATE_TYPE, KEEP),
    ("cancelType", "cancel_type", CANCEL_TYPE, KEEP),
    ("rejectReason", "reject_reason", REJECT_REASON, KEEP),
    ("avgPrice", "avg_price", dec, KEEP),
    ("cumExecQty", "cum_exec_qty", dec, KEEP),
    ("cumExecValue", "cum_exec_value", dec, KEEP),
    ("closedPnl", "closed_pnl", signed, KEEP),
    ("stopOrderType", "stop_order_type", STOP_ORDER_TYPE, KEEP),
    ("triggerPrice", "trigger_price", dec, KEEP),
    ("triggerBy", "trigger_by", TRIGGER_BY, KEEP),
    ("triggerDirection", "trigger_direction", integer, KEEP),
    ("takeProfit", "take_profit", dec, KEEP),
    ("stopLoss", "stop_loss", dec, KEEP),
    ("tpTriggerBy", "tp_trigger_by", TRIGGER_BY, KEEP),
    ("slTriggerBy", "sl_trigger_by", TRIGGER_BY, KEEP),
    ("tpslMode", "tpsl_mode", TPSL_MODE, KEEP),
    ("tpLimitPrice", "tp_limit_price", dec, KEEP),
    ("slLimitPrice", "sl_limit_price", dec, KEEP),
    ("reduceOnly", "reduce_only", flag, KEEP),
    ("closeOnTrigger", "close_on_trigger", flag, KEEP),
    ("positionIdx", "position_idx", integer, KEEP),
    ("parentOrderLinkId", "parent_order_link_id", text, KEEP),
    ("lastPriceOnCreated", "last_price_on_created", dec, KEEP),
)


def _order_fee(item: Item) -> Decimal:
    """Cumulative fee: the sum of cumFeeDetail (linear settles in one coin), else the deprecated cumExecFee."""
    detail = item.get("cumFeeDetail")
    if detail is not None and detail != "" and obj(detail, "cumFeeDetail"):
        return sum((signed(amount, "cumFeeDetail") for amount in detail.values()), ZERO)
    fee = item.get("cumExecFee", "")
    return signed(fee, "cumExecFee")


def order_from_rest(item: Item) -> Order:
    """An order from a REST order/realtime or order/history item (also the WS order item)."""
    kwargs = build(obj(item, "order"), _ORDER)
    return Order(**kwargs, cum_exec_fee=_order_fee(item))


_EXECUTION: Spec = (
    ("execId", "exec_id", text, REQUIRED),
    ("orderId", "order_id", text, REQUIRED),
    ("orderLinkId", "order_link_id", text, ""),
    ("symbol", "symbol", text, REQUIRED),
    ("side", "side", SIDE, REQUIRED),
    ("execType", "exec_type", EXEC_TYPE, REQUIRED),
    ("execPrice", "exec_price", dec, REQUIRED),
    ("execQty", "exec_qty", dec, REQUIRED),
    ("execValue", "exec_value", dec, ZERO),
    ("execFee", "exec_fee", signed, ZERO),
    ("feeRate", "fee_rate", signed, ZERO),
    ("execTime", "exec_time", integer, REQUIRED),
    ("isMaker", "is_maker", flag, False),
    ("orderType", "order_type", EXEC_ORDER_TYPE, None),
    ("orderPrice", "order_price", dec, ZERO),
    ("orderQty", "order_qty", dec, ZERO),
    ("leavesQty", "leaves_qty", dec, ZERO),
    ("closedSize", "closed_size", dec, ZERO),
    ("execPnl", "exec_pnl", signed, ZERO),
    ("markPrice", "mark_price", dec, ZERO),
    ("indexPrice", "index_price", dec, ZERO),
    ("seq", "seq", integer, 0),
    ("createType", "create_type", CREATE_TYPE, KEEP),
    ("stopOrderType", "stop_order_type", STOP_ORDER_TYPE, KEEP),
)


def execution_from_rest(item: Item) -> Execution:
    """A fill from a REST execution/list item (also the WS execution item); funding has no order type."""
    kwargs = build(obj(item, "execution"), _EXECUTION)
    if kwargs["exec_type"] is ExecType.FUNDING:
        kwargs["order_type"] = None
    return Execution(**kwargs)


_POSITION: Spec = (
    ("symbol", "symbol", text, REQUIRED),
    ("side", "side", SIDE, None),
    ("size", "size", dec, KEEP),
    ("leverage", "leverage", dec, KEEP),
    ("markPrice", "mark_price", dec, KEEP),
    ("liqPrice", "liq_price", dec_or_none, None),
    ("takeProfit", "take_profit", dec, KEEP),
    ("stopLoss", "stop_loss", dec, KEEP),
    ("trailingStop", "trailing_stop", dec, KEEP),
    ("tpTriggerBy", "tp_trigger_by", POSITION_TRIGGER_BY, KEEP),
    ("slTriggerBy", "sl_trigger_by", POSITION_TRIGGER_BY, KEEP),
    ("positionIM", "position_im", dec, KEEP),
    ("positionMM", "position_mm", dec, KEEP),
    ("curRealisedPnl", "cur_realised_pnl", signed, KEEP),
    ("cumRealisedPnl", "cum_realised_pnl", signed, KEEP),
    ("sessionAvgPrice", "session_avg_price", dec, KEEP),
    ("createdTime", "created_time", integer, KEEP),
    ("updatedTime", "updated_time", integer, KEEP),
    ("openTime", "open_time", integer, KEEP),
    ("seq", "seq", integer, KEEP),
)


def position_from_item(item: Item, entry_key: str, other_key: str) -> Position:
    """A position from a wire position object whose entry price is under entry_key (other_key as fallback)."""
    kwargs = build(obj(item, "position"), _POSITION)
    entry = item.get(entry_key, item.get(other_key, ""))
    return Position(**kwargs, entry_price=dec(entry, entry_key))


def position_from_rest(item: Item) -> Position:
    """A position from a REST position/list item (entry price is avgPrice there)."""
    return position_from_item(item, "avgPrice", "entryPrice")


_COIN: Spec = (
    ("coin", "coin", text, REQUIRED),
    ("walletBalance", "wallet_balance", signed, REQUIRED),
    ("equity", "equity", signed, KEEP),
    ("unrealisedPnl", "unrealised_pnl", signed, KEEP),
    ("cumRealisedPnl", "cum_realised_pnl", signed, KEEP),
    ("totalOrderIM", "total_order_im", dec, KEEP),
    ("totalPositionIM", "total_position_im", dec, KEEP),
    ("totalPositionMM", "total_position_mm", dec, KEEP),
    ("locked", "locked", dec, KEEP),
)

_WALLET: Spec = (
    ("totalEquity", "total_equity", signed, REQUIRED),
    ("totalWalletBalance", "total_wallet_balance", signed, REQUIRED),
    ("totalMarginBalance", "total_margin_balance", signed, REQUIRED),
    ("totalAvailableBalance", "total_available_balance", signed, REQUIRED),
    ("totalPerpUPL", "total_perp_upl", signed, REQUIRED),
    ("totalInitialMargin", "total_initial_margin", dec, REQUIRED),
    ("totalMaintenanceMargin", "total_maintenance_margin", dec, REQUIRED),
    ("accountType", "account_type", text, KEEP),
)


def wallet_from_rest(item: Item) -> Wallet:
    """A unified account from a REST wallet-balance list item (also the WS wallet item)."""
    kwargs = build(obj(item, "wallet"), _WALLET)
    coins = tuple(WalletCoin(**build(coin, _COIN)) for coin in objects(item.get("coin", []), "coin"))
    return Wallet(**kwargs, coins=coins)


_INSTRUMENT: Spec = (
    ("symbol", "symbol", text, REQUIRED),
    ("baseCoin", "base_coin", text, REQUIRED),
    ("quoteCoin", "quote_coin", text, REQUIRED),
    ("priceScale", "price_scale", integer, KEEP),
    ("fundingInterval", "funding_interval_min", integer, KEEP),
    ("launchTime", "launch_time", integer, KEEP),
    ("symbolId", "symbol_id", integer, KEEP),
)
_PRICE_FILTER: Spec = (
    ("tickSize", "tick_size", positive, REQUIRED),
    ("minPrice", "min_price", positive, REQUIRED),
    ("maxPrice", "max_price", positive, REQUIRED),
)
_LOT_SIZE_FILTER: Spec = (
    ("qtyStep", "qty_step", positive, REQUIRED),
    ("minOrderQty", "min_qty", positive, REQUIRED),
    ("maxOrderQty", "max_qty", positive, REQUIRED),
    ("minNotionalValue", "min_notional", dec, ZERO),
)
_LEVERAGE_FILTER: Spec = (
    ("minLeverage", "min_leverage", positive, KEEP),
    ("maxLeverage", "max_leverage", positive, KEEP),
    ("leverageStep", "leverage_step", positive, KEEP),
)


def instrument_from_rest(item: Item) -> Instrument:
    """An instrument from an instruments-info item, with its price, lot-size and leverage filters."""
    kwargs = build(obj(item, "instrument"), _INSTRUMENT)
    lots = obj(item.get("lotSizeFilter"), "lotSizeFilter")
    kwargs |= build(obj(item.get("priceFilter"), "priceFilter"), _PRICE_FILTER)
    kwargs |= build(lots, _LOT_SIZE_FILTER)
    kwargs |= build(obj(item.get("leverageFilter", {}), "leverageFilter"), _LEVERAGE_FILTER)
    market_max = lots.get("maxMktOrderQty", "")
    kwargs["max_market_qty"] = kwargs["max_qty"] if market_max == "" else positive(market_max, "maxMktOrderQty")
    return Instrument(**kwargs)


def kline_from_rest(symbol: str, interval: str, row: list[str], *, confirm: bool = False) -> Kline:
    """A candle from a REST kline row [start, open, high, low, close, volume, turnover]."""
    if type(row) is not list or len(row) < 7:
        raise FrameError(f"bad kline row: {shown(row)}")
    start, open_, high, low, close, volume, turnover = row[:7]
    return Kline(
        symbol=symbol,
        interval=interval,
        start=integer(start, "start"),
        open=positive(open_, "open"),
        high=positive(high, "high"),
        low=positive(low, "low"),
        close=positive(close, "close"),
        volume=dec(volume, "volume"),
        turnover=dec(turnover, "turnover"),
        confirm=confirm,
    )


_CLOSED_PNL: Spec = (
    ("symbol", "symbol", text, REQUIRED),
    ("orderId", "order_id", text, REQUIRED),
    ("side", "side", SIDE, REQUIRED),
    ("qty", "qty", dec, REQUIRED),
    ("orderPrice", "order_price", dec, ZERO),
    ("orderType", "order_type", ORDER_TYPE, REQUIRED),
    ("closedSize", "closed_size", dec, REQUIRED),
    ("cumEntryValue", "cum_entry_value", dec, ZERO),
    ("avgEntryPrice", "avg_entry_price", dec, ZERO),
    ("cumExitValue", "cum_exit_value", dec, ZERO),
    ("avgExitPrice", "avg_exit_price", dec, ZERO),
    ("closedPnl", "closed_pnl", signed, REQUIRED),
    ("fillCount", "fill_count", integer, 0),
    ("leverage", "leverage", dec, ZERO),
    ("openFee", "open_fee", signed, ZERO),
    ("closeFee", "close_fee", signed, ZERO),
    ("createdTime", "created_time", integer, REQUIRED),
    ("updatedTime", "updated_time", integer, REQUIRED),
    ("execType", "exec_type", CLOSED_EXEC_TYPE, KEEP),
)


def closed_pnl_from_rest(item: Item) -> ClosedPnl:
    """A closed-PnL record from a REST position/closed-pnl item."""
    return ClosedPnl(**build(obj(item, "closedPnl"), _CLOSED_PNL))


_LEDGER: Spec = (
    ("id", "entry_id", text, REQUIRED),
    ("symbol", "symbol", text, ""),
    ("type", "kind", text, REQUIRED),
    ("transactionTime", "time", integer, REQUIRED),
    ("cashFlow", "cash_flow", signed, ZERO),
    ("funding", "funding", signed, ZERO),
    ("fee", "fee", signed, ZERO),
    ("change", "change", signed, REQUIRED),
    ("cashBalance", "cash_balance", signed, ZERO),
    ("currency", "currency", text, REQUIRED),
    ("tradeId", "trade_id", text, ""),
    ("orderId", "order_id", text, ""),
    ("orderLinkId", "order_link_id", text, ""),
)


def ledger_entry_from_rest(item: Item) -> LedgerEntry:
    """A row of account/transaction-log (type stays the wire's text: TRADE, SETTLEMENT, TRANSFER_IN, ...)."""
    return LedgerEntry(**build(obj(item, "transaction"), _LEDGER))
