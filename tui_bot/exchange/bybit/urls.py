"""Base URLs of each Bybit venue (bybit-v5.md §1)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class VenueUrls:
    """Where one venue's REST and streams live; trade_ws is empty where the venue has none (demo)."""

    name: str
    rest: str
    public_ws: str
    private_ws: str
    trade_ws: str
    live_money: bool

    @property
    def label(self) -> str:
        return "LIVE" if self.live_money else self.name.upper()


KNOWN = {
    "mainnet": VenueUrls(
        "mainnet",
        "https://api.bybit.com",
        "wss://stream.bybit.com/v5/public/linear",
        "wss://stream.bybit.com/v5/private",
        "wss://stream.bybit.com/v5/trade",
        True,
    ),
    "testnet": VenueUrls(
        "testnet",
        "https://api-testnet.bybit.com",
        "wss://stream-testnet.bybit.com/v5/public/linear",
        "wss://stream-testnet.bybit.com/v5/private",
        "wss://stream-testnet.bybit.com/v5/trade",
        False,
    ),
    "demo": VenueUrls(
        "demo",
        "https://api-demo.bybit.com",
        "wss://stream.bybit.com/v5/public/linear",
        "wss://stream-demo.bybit.com/v5/private",
        "",
        False,
    ),
}


def venue_urls(
    venue: str,
    *,
    rest: str = "",
    public_ws: str = "",
    private_ws: str = "",
    trade_ws: str = "",
    live_money: bool = False,
) -> VenueUrls:
    """URLs of a known venue, or of `custom` / `sim` from the given ones."""
    if venue in KNOWN:
        return KNOWN[venue]
    if not (rest and public_ws and private_ws):
        raise ValueError(f"venue {venue!r} needs rest, public_ws and private_ws URLs")
    return VenueUrls(venue, rest.rstrip("/"), public_ws, private_ws, trade_ws, live_money)
