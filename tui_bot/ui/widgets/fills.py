"""Recent fills, newest first, capped, deduplicated by execution id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from tui_bot.domain.enums import ExecType, Side
from tui_bot.domain.models import Execution, Instrument
from tui_bot.ui import format as fmt
from tui_bot.ui.widgets.cells import LiveTable

SortKey = tuple[int, int, str]


class TimeStamp(str):
    """An HH:MM:SS cell that also carries the fill's ordering key (DataTable sorts by cell values)."""

    sort_key: SortKey

    def __new__(cls, text: str, sort_key: SortKey) -> TimeStamp:
        stamp = super().__new__(cls, text)
        stamp.sort_key = sort_key
        return stamp


class FillsTable(LiveTable):
    """Executions keyed by exec id; a closing fill's gross PnL (before fees; the Fee column beside it) is
    theme-coloured and the reason comes from the order id."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("time", "Time"),
        ("symbol", "Symbol"),
        ("side", "Side"),
        ("qty", "Qty"),
        ("price", "Price"),
        ("fee", "Fee"),
        ("gross", "Gross PnL"),
        ("reason", "Reason"),
    )

    def __init__(
        self, *, max_rows: int = 200, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.max_rows = max_rows
        self._order: dict[str, SortKey] = {}

    @property
    def selected_exec_id(self) -> str | None:
        """Execution id of the row under the cursor."""
        return self.selected_key

    def add_fills(self, executions: list[Execution], instruments: Mapping[str, Instrument]) -> None:
        """Add unseen fills, keep rows newest first and drop the oldest beyond max_rows."""
        self.ensure_columns()
        fresh = [e for e in executions if e.exec_id not in self._order]
        if not fresh:
            return
        selected = self.selected_key
        was_at_top = self.cursor_row == 0
        for execution in fresh:
            key = (execution.exec_time, execution.seq, execution.exec_id)
            self._order[execution.exec_id] = key
            self.set_row(execution.exec_id, self._row(execution, instruments.get(execution.symbol), key))
        excess = len(self._order) - self.max_rows
        if excess > 0:
            oldest = sorted(self._order, key=self._order.__getitem__)[:excess]
            for exec_id in oldest:
                del self._order[exec_id]
                if self.has_row(exec_id):
                    self.remove_row(exec_id)
        self.sort("time", key=lambda stamp: stamp.sort_key, reverse=True)
        if not was_at_top:
            self.restore_cursor(selected)

    def _row(self, e: Execution, inst: Instrument | None, key: SortKey) -> dict[str, object]:
        """All cells of one fill."""
        pnl = fmt.gross_pnl(e)
        funding = e.exec_type is ExecType.FUNDING
        return {
            "time": TimeStamp(fmt.clock(e.exec_time), key),
            "symbol": e.symbol,
            "side": "Funding" if funding else self.toned(str(e.side), "up" if e.side is Side.BUY else "down"),
            "qty": fmt.qty(e.exec_qty, inst),
            "price": fmt.price(e.exec_price, inst),
            "fee": fmt.fee(e.exec_fee),
            "gross": fmt.DASH if pnl is None else self.toned(fmt.signed_money(pnl), fmt.tone(pnl)),
            "reason": fmt.fill_reason(e),
        }
