"""The one-line header: venue badge, stream/poll mode, stale streams, equity, balance, PnL and tightening."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from tui_bot.domain.events import StreamMode
from tui_bot.domain.market import AccountSummary, DayPnl
from tui_bot.ui import format as fmt

PNL_CLASSES = ("pnl-up", "pnl-down")


class HeaderBar(Horizontal):
    """Account summary across the top; every part is a Static with an id (hdr-*) and state classes."""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.venue_badge = Static(" SIM ", id="hdr-venue", classes="badge", markup=False)
        self.mode_badge = Static("…", id="hdr-mode", classes="badge", markup=False)
        self.stale_badge = Static("", id="hdr-stale", classes="badge", markup=False)
        self.stale_badge.display = False
        self.equity_figure = Static(f"Eq {fmt.DASH}", id="hdr-equity", classes="figure", markup=False)
        self.available_figure = Static(f"Avail {fmt.DASH}", id="hdr-available", classes="figure", markup=False)
        self.upnl_figure = Static(f"uPnL {fmt.DASH}", id="hdr-upnl", classes="figure", markup=False)
        self.realised_figure = Static(f"Day {fmt.DASH}", id="hdr-realised", classes="figure", markup=False)
        self.tightening_badge = Static("Tighten OFF", id="hdr-tightening", classes="badge -off", markup=False)

    def compose(self) -> ComposeResult:
        yield self.venue_badge
        yield self.mode_badge
        yield self.stale_badge
        yield self.equity_figure
        yield self.available_figure
        yield self.upnl_figure
        yield self.realised_figure
        yield self.tightening_badge

    def set_venue(self, label: str, live_money: bool) -> None:
        """Show the venue; real money reads LIVE on the error colour (class -live-money)."""
        self.venue_badge.update(" LIVE " if live_money else f" {label.upper()} ")
        self.venue_badge.set_class(live_money, "-live-money")

    def set_mode(self, mode: StreamMode) -> None:
        """Show whether account state streams or is polled (POLL carries the warning class -poll)."""
        poll = mode is StreamMode.POLL
        self.mode_badge.update(" POLL " if poll else " STREAM ")
        self.mode_badge.set_class(poll, "-poll")
        self.mode_badge.set_class(not poll, "-stream")

    def set_stale(self, ages_ms: Mapping[str, float]) -> None:
        """Say which kind of stream is stale and for how long (the oldest), e.g. 'STALE tickers 12s'; hidden when
        every topic is fresh."""
        self.stale_badge.display = bool(ages_ms)
        if ages_ms:
            kinds = sorted({topic.split(".", 1)[0] for topic in ages_ms})
            self.stale_badge.update(f" STALE {','.join(kinds)} {fmt.age(max(ages_ms.values()))} ")

    def apply_account(self, summary: AccountSummary) -> None:
        """Equity, available balance and unrealised PnL of the account at the current marks."""
        self.equity_figure.update(f"Eq {fmt.money(summary.equity)}")
        self.available_figure.update(f"Avail {fmt.money(summary.available)}")
        self._pnl(self.upnl_figure, "uPnL", summary.unrealised_pnl)

    def apply_day(self, day: DayPnl) -> None:
        """Realised PnL since 00:00 UTC (net of fees and funding), from the exchange's records; a dash until they
        were read (as_of_ms 0)."""
        if not day.as_of_ms:
            self.realised_figure.update(f"Day {fmt.DASH}")
            self.realised_figure.remove_class(*PNL_CLASSES)
            return
        self._pnl(self.realised_figure, "Day", day.net)

    def set_tightening(self, on: bool | None) -> None:
        """Whether automatic stop tightening is enabled (classes -on / -off); None hides it (nothing this console can
        set, e.g. attached to bots that each have their own)."""
        self.tightening_badge.display = on is not None
        if on is None:
            return
        self.tightening_badge.update(f"Tighten {'ON' if on else 'OFF'}")
        self.tightening_badge.set_class(on, "-on")
        self.tightening_badge.set_class(not on, "-off")

    @staticmethod
    def _pnl(part: Static, label: str, value: Decimal) -> None:
        """A signed figure with pnl-up / pnl-down classes."""
        part.update(f"{label} {fmt.signed_money(value)}")
        tone = fmt.tone(value)
        part.set_class(tone == "up", "pnl-up")
        part.set_class(tone == "down", "pnl-down")
