"""Plain one-line reasons from pydantic's validation errors, for messages that name the input."""

from __future__ import annotations

from pydantic_core import ErrorDetails


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
