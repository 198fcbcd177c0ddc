"""argparse types the commands share: each turns a bad value into argparse's one-line refusal."""

from __future__ import annotations

import argparse

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def port(text: str) -> int:
    """A TCP port, 0 for any free one."""
    try:
        number = int(text)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port 0-65535 (0 = any free port), got {text!r}")
    return number


def redis_url(text: str) -> str:
    """A Redis URL (never echoed back: it may hold a password)."""
    if not text.startswith(REDIS_SCHEMES):
        raise argparse.ArgumentTypeError("expected redis://HOST:PORT/DB, rediss://HOST:PORT/DB or unix:///PATH")
    return text
