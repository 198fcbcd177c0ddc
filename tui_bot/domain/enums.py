"""Enumerations with the exchange's own spellings as values."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    BUY = "Buy"
    SELL = "Sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class OrderType(StrEnum):
    MARKET = "Market"
    LIMIT = "Limit"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    POST_ONLY = "PostOnly"


class OrderStatus(StrEnum):
    NEW = "New"
    PARTIALLY_FILLED = "PartiallyFilled"
    UNTRIGGERED = "Untriggered"
    FILLED = "Filled"
    CANCELLED = "Cancelled"
    REJECTED = "Rejected"
    TRIGGERED = "Triggered"
    DEACTIVATED = "Deactivated"

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.UNTRIGGERED)


class StopOrderType(StrEnum):
    NONE = ""
    TAKE_PROFIT = "TakeProfit"
    STOP_LOSS = "StopLoss"
    TRAILING_STOP = "TrailingStop"
    STOP = "Stop"
    PARTIAL_TAKE_PROFIT = "PartialTakeProfit"
    PARTIAL_STOP_LOSS = "PartialStopLoss"


class CreateType(StrEnum):
    BY_USER = "CreateByUser"
    BY_STOP_ORDER = "CreateByStopOrder"
    BY_TAKE_PROFIT = "CreateByTakeProfit"
    BY_STOP_LOSS = "CreateByStopLoss"
    BY_PARTIAL_TAKE_PROFIT = "CreateByPartialTakeProfit"
    BY_PARTIAL_STOP_LOSS = "CreateByPartialStopLoss"
    BY_TRAILING_STOP = "CreateByTrailingStop"
    BY_CLOSING = "CreateByClosing"
    BY_LIQ = "CreateByLiq"


class CancelType(StrEnum):
    UNKNOWN = "UNKNOWN"
    BY_USER = "CancelByUser"
    BY_REDUCE_ONLY = "CancelByReduceOnly"
    BY_TPSL_CLEAR = "CancelByTpSlTsClear"
    BY_ADMIN = "CancelByAdmin"
    BEFORE_LIQ = "CancelAllBeforeLiq"


class RejectReason(StrEnum):
    NO_ERROR = "EC_NoError"
    OTHERS = "EC_Others"
    POST_ONLY_WILL_TAKE = "EC_PostOnlyWillTakeLiquidity"
    NO_IMMEDIATE_QTY = "EC_NoImmediateQtyToFill"
    CANCEL_FOR_NO_FULL_FILL = "EC_CancelForNoFullFill"


class TriggerBy(StrEnum):
    LAST = "LastPrice"
    INDEX = "IndexPrice"
    MARK = "MarkPrice"


class TpSlMode(StrEnum):
    FULL = "Full"
    PARTIAL = "Partial"


class ExecType(StrEnum):
    TRADE = "Trade"
    FUNDING = "Funding"
    BUST_TRADE = "BustTrade"
    ADL_TRADE = "AdlTrade"


class TickDirection(StrEnum):
    PLUS = "PlusTick"
    ZERO_PLUS = "ZeroPlusTick"
    MINUS = "MinusTick"
    ZERO_MINUS = "ZeroMinusTick"
