"""Business errors of the embedded exchange, carrying Bybit's retCode and retMsg."""

from __future__ import annotations


class SimError(Exception):
    """A request the exchange rejects with a non-zero retCode."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(f"{msg} ({code})")
        self.code = code
        self.msg = msg


def params_error(detail: str) -> SimError:
    """A 10001 parameter error."""
    return SimError(10001, detail)


class Codes:
    """retCodes the embedded exchange emits."""

    OK = 0
    PARAMS = 10001
    RECV_WINDOW = 10002
    INVALID_KEY = 10003
    BAD_SIGN = 10004
    RATE_LIMIT = 10006
    SERVER_ERROR = 10016
    ROUTE_NOT_FOUND = 10017
    ORDER_NOT_FOUND = 110001
    PRICE_RANGE = 110003
    INSUFFICIENT_BALANCE = 110007
    REDUCE_ONLY = 110017
    LEVERAGE_NOT_MODIFIED = 110043
    DUPLICATE_LINK_ID = 110072
    TRIGGER_RISING = 110092
    TRIGGER_FALLING = 110093
    MIN_NOTIONAL = 110094
    NOT_MODIFIED = 34040
