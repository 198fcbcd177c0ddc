"""Errors an exchange client raises, grouped by what the caller should do about them (DESIGN §4)."""

from __future__ import annotations


class ExchangeError(Exception):
    """A request the exchange did not carry out as asked; `code` is the venue's own (retCode)."""

    def __init__(self, code: int, message: str, *, request: str = "") -> None:
        super().__init__(f"{message} ({code})" if code else message)
        self.code = code
        self.message = message
        self.request = request


class RetryableError(ExchangeError):
    """Transient: clock drift (10002), rate limit (10006), server busy (10000, 10016), network."""


class AlreadyDoneError(ExchangeError):
    """The desired state already holds: not modified (110043, 34040), already flat/cancelled (110017, 110001)."""


class DuplicateError(ExchangeError):
    """The orderLinkId was used before (110072): the earlier order exists and must be queried."""


class FatalError(ExchangeError):
    """Credentials or permissions are wrong (10003, 10004, 10005, 10010): stop and tell the user."""


class RejectedError(ExchangeError):
    """The exchange refused the request on its merits (balance, filters, parameters)."""


class SendTimeoutError(ExchangeError):
    """No answer in time: the request may or may not have been applied."""


RETRYABLE = frozenset({10000, 10002, 10006, 10016, 10019, 10429})
FATAL = frozenset({10003, 10004, 10005, 10010, 10027})
DUPLICATE = frozenset({110072})
NOT_MODIFIED = frozenset({110043, 34040, 110025, 110026})

PLAIN_WORDS = {
    10001: "Invalid request parameters",
    10002: "Request timestamp outside the receive window",
    10003: "Invalid API key",
    10004: "Invalid signature",
    10005: "API key lacks permission",
    10006: "Rate limit exceeded",
    10016: "Exchange server error",
    110001: "Order not found",
    110007: "Insufficient balance",
    110017: "Reduce-only order rejected: no position to reduce",
    110043: "Leverage not modified",
    110072: "Duplicate order id",
    110092: "Trigger price must be above the current price",
    110093: "Trigger price must be below the current price",
    110094: "Order value below the minimum",
    34040: "Not modified",
}


def classify(code: int, message: str, *, operation: str = "", request: str = "") -> ExchangeError:
    """The error class for a retCode; 'already done' depends on the operation (110017 on close, 110001 on cancel)."""
    if code in RETRYABLE:
        return RetryableError(code, message, request=request)
    if code in FATAL:
        return FatalError(code, message, request=request)
    if code in DUPLICATE:
        return DuplicateError(code, message, request=request)
    if code in NOT_MODIFIED or (code == 110017 and operation == "close") or (code == 110001 and operation == "cancel"):
        return AlreadyDoneError(code, message, request=request)
    return RejectedError(code, message, request=request)


def plain_words(code: int, message: str) -> str:
    """A short human sentence with the code, e.g. 'Insufficient balance (110007)'."""
    return f"{PLAIN_WORDS.get(code, message or 'Request failed')} ({code})"
