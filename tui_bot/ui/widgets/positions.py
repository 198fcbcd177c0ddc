"""Open positions, one row per symbol, re-marked in place at ticker speed; a stale ticker dims the mark."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import ClassVar

from tui_bot.core.state import PositionMarked, unrealised_pct
from tui_bot.domain.metrics import wall_ms
from tui_bot.domain.models import Instrument, Position
from tui_bot.ui import format as fmt
from tui_bot.ui.widgets.cells import LiveTable, ToneCell


class PositionsTable(LiveTable):
    """Positions keyed by symbol: mark, uPnL (theme-coloured), R multiple, stops, age and tightening stage."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("symbol", "Symbol"),
        ("side", "Side"),
        ("size", "Size"),
        ("entry", "Entry"),
        ("mark", "Mark"),
        ("stale", ""),
        ("upnl", "uPnL"),
        ("upnl_pct", "uPnL %"),
        ("r", "R"),
        ("sl", "SL"),
        ("tp", "TP"),
        ("trail", "Trail"),
        ("liq", "Liq"),
        ("age", "Age"),
        ("stage", "Stage"),
    )
    MARK_COLUMNS: ClassVar[frozenset[str]] = frozenset({"mark", "stale", "upnl", "upnl_pct", "r"})

    def __init__(
        self,
        *,
        now_ms: Callable[[], int] = wall_ms,
        initial_risk: Callable[[str], Decimal | None] = lambda _symbol: None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._now_ms = now_ms
        self._initial_risk = initial_risk
        self._positions: dict[str, Position] = {}
        self._instruments: Mapping[str, Instrument] = {}
        self._stages: dict[str, str] = {}
        self._stale: dict[str, float] = {}
        self._all: dict[str, Position] = {}
        self._holders: Callable[[str], list[str]] | None = None
        self.bot_filter: str | None = None

    def on_mount(self) -> None:
        """Start the once-a-second Age refresh (Textual also runs LiveTable.on_mount, which adds the columns)."""
        self.set_interval(1.0, self.refresh_ages)

    @property
    def selected_symbol(self) -> str | None:
        """Symbol of the row under the cursor."""
        return self.selected_key

    def ensure_columns(self) -> None:
        """The declared columns, with a Bot column after Symbol once the table shows several bots' positions."""
        if not self.columns:
            for key, label in self.COLUMNS:
                self.add_column(label, key=key)
                if key == "symbol" and self._holders is not None:
                    self.add_column("Bot", key="bot")

    def show_bots(self, holders: Callable[[str], list[str]]) -> None:
        """Name the bots holding each position (a Bot column) from now on."""
        self._holders = holders
        self.clear(columns=True)
        self.apply_positions(self._all, self._instruments)

    def set_bot_filter(self, bot: str | None) -> None:
        """Show only the positions bot holds (None: every position)."""
        self.bot_filter = bot
        self.apply_positions(self._all, self._instruments)

    def _shown(self, pos: Position) -> bool:
        """Open, and held by the filter's bot when one is set."""
        if pos.side is None or pos.size <= 0:
            return False
        return self.bot_filter is None or self._holders is None or self.bot_filter in self._holders(pos.symbol)

    def apply_positions(self, positions: dict[str, Position], instruments: Mapping[str, Instrument]) -> None:
        """Reconcile rows with the open positions: add new, update changed cells, drop flat or gone ones."""
        self.ensure_columns()
        selected = self.selected_key
        self._instruments = instruments
        self._all = positions
        self._positions = {s: p for s, p in positions.items() if self._shown(p)}
        for symbol, pos in self._positions.items():
            self.set_row(symbol, self._row(pos, instruments.get(symbol)))
        self.prune(self._positions)
        for symbol in [s for s in self._stages if s not in positions]:
            del self._stages[symbol]
        self.restore_cursor(selected)

    def apply_marks(self, marks: list[PositionMarked]) -> None:
        """Update only the mark-derived cells (Mark, uPnL, uPnL %, R) of rows already shown."""
        for mark in marks:
            pos = self._positions.get(mark.symbol)
            if pos is None or not self.has_row(mark.symbol):
                continue
            inst = self._instruments.get(mark.symbol)
            self.set_row(
                mark.symbol, self._mark_cells(pos, inst, mark.mark_price, mark.unrealised_pnl, mark.unrealised_pct)
            )

    def set_stage(self, symbol: str, text: str) -> None:
        """Show the stop-tightening stage of a position (a dash until the engine reports one)."""
        self._stages[symbol] = text or fmt.DASH
        if self.has_row(symbol):
            self.set_row(symbol, {"stage": self._stages[symbol]})

    def set_stale(self, ages_ms: Mapping[str, float]) -> None:
        """Flag the rows of symbols whose ticker is stale ('stale 12s', the mark dimmed); fresh rows lose the flag."""
        was, self._stale = self._stale, {s: a for s, a in ages_ms.items() if s in self._positions}
        for symbol in set(was) | set(self._stale):
            if self.has_row(symbol):
                stale = symbol in self._stale
                self.set_row(
                    symbol,
                    {
                        "mark": self.toned(self.cell(symbol, "mark"), "muted" if stale else ""),
                        "stale": self._flag(symbol),
                    },
                )

    def _flag(self, symbol: str) -> ToneCell | str:
        """The Stale cell: how long the symbol's ticker has been silent, or nothing while it streams."""
        age = self._stale.get(symbol)
        return self.toned(f"stale {fmt.age(age)}", "warn") if age is not None else ""

    def refresh_ages(self) -> None:
        """Re-render the Age column (called every second by the table's own timer)."""
        now = self._now_ms()
        for symbol, pos in self._positions.items():
            if self.has_row(symbol):
                self.set_row(symbol, {"age": fmt.age_since(pos.open_time or pos.created_time, now)})

    def _mark_cells(
        self, pos: Position, inst: Instrument | None, mark: Decimal, upnl: Decimal, pct: Decimal
    ) -> dict[str, object]:
        """Cells that move with the mark price (the mark dimmed and flagged while its ticker is stale)."""
        flag = self._flag(pos.symbol)
        if mark <= 0:
            return {"mark": fmt.DASH, "stale": flag, "upnl": fmt.DASH, "upnl_pct": fmt.DASH, "r": fmt.DASH}
        return {
            "mark": self.toned(fmt.price(mark, inst), "muted" if pos.symbol in self._stale else ""),
            "stale": flag,
            "upnl": self.toned(fmt.signed_money(upnl), fmt.tone(upnl)),
            "upnl_pct": self.toned(fmt.percent(pct), fmt.tone(pct)),
            "r": fmt.r_multiple(pos.side, pos.entry_price, mark, self._r_stop(pos)),
        }

    def _r_stop(self, pos: Position) -> Decimal:
        """The stop R is measured from: the first stop protection saw (the live one may have moved), else that."""
        risk = self._initial_risk(pos.symbol)
        if risk and pos.side is not None:
            return pos.entry_price - risk * pos.side.sign
        return pos.stop_loss

    def _row(self, pos: Position, inst: Instrument | None) -> dict[str, object]:
        """All cells of one position."""
        side_tone = "up" if pos.side is not None and pos.side.sign > 0 else "down"
        cells: dict[str, object] = {
            "symbol": pos.symbol,
            "side": self.toned(fmt.side_label(pos.side), side_tone),
            "size": fmt.qty(pos.size, inst),
            "entry": fmt.price(pos.entry_price, inst),
            "sl": fmt.price(pos.stop_loss, inst),
            "tp": fmt.price(pos.take_profit, inst),
            "trail": fmt.price(pos.trailing_stop, inst),
            "liq": fmt.price(pos.liq_price, inst),
            "age": fmt.age_since(pos.open_time or pos.created_time, self._now_ms()),
            "stage": self._stages.get(pos.symbol, fmt.DASH),
        }
        if self._holders is not None:
            cells["bot"] = ", ".join(self._holders(pos.symbol)) or fmt.DASH
        cells.update(self._mark_cells(pos, inst, pos.mark_price, pos.unrealised_pnl, unrealised_pct(pos)))
        return cells
