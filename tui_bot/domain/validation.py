"""Plain one-line reasons from pydantic's validation errors, for messages that name the input."""

from __future__ import annotations

from decimal import Decimal

from pydantic_core import ErrorDetails

from tui_bot.domain.numbers import plain


def reason(error: ErrorDetails, *, show_input: bool = True) -> str:
    """What was wrong, with the value that was given when it is a single value (unless show_input is off: a secret)."""
    if error["type"] == "extra_forbidden":
        return "not a known key"
    ctx = error.get("ctx") or {}
    message = str(ctx["error"]) if error["type"] == "value_error" and "error" in ctx else error["msg"]
    value = error.get("input")
    if not show_input or error["type"] == "missing" or isinstance(value, dict | list):
        return message
    return f"{message} (got {value!r})"


PLAIN = {
    "greater_than": "must be above {gt}",
    "greater_than_equal": "must be {ge} or more",
    "less_than": "must be below {lt}",
    "less_than_equal": "must be {le} or less",
    "decimal_max_places": "at most {decimal_places} decimal places",
    "decimal_max_digits": "at most {max_digits} digits",
    "decimal_whole_digits": "at most {whole_digits} digits before the point",
    "too_short": "needs at least {min_length}",
    "too_long": "at most {max_length}",
    "literal_error": "one of {expected}",
    "missing": "required",
    "int_parsing": "not a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "not a number",
    "decimal_parsing": "not a number",
    "bool_parsing": "yes or no (true/false)",
}
"""Pydantic's error types said as a form says them beside a field ("must be above 0", not "Input should be ...")."""


def plain_reason(error: ErrorDetails) -> str:
    """What a form shows beside a field: the rule in plain words, or the validator's own sentence."""
    ctx = error.get("ctx") or {}
    if error["type"] == "value_error" and "error" in ctx:
        return str(ctx["error"])
    template = PLAIN.get(error["type"])
    said = {
        k: plain(Decimal(str(v)).normalize()) if isinstance(v, int | float | Decimal) else v for k, v in ctx.items()
    }
    try:
        return template.format(**said) if template else error["msg"]
    except KeyError:
        return error["msg"]
