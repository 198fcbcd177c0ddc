"""One recommendation in full: the idea's levels, the strategy's reasoning, its status; a/d decide, Esc closes."""

from __future__ import annotations

from typing import ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui_bot.domain.models import Instrument
from tui_bot.domain.recommendations import Recommendation
from tui_bot.ui import format as fmt
from tui_bot.ui.screens._fields import FORM_CSS, AnswerOnceModal
from tui_bot.ui.widgets.recommendations import confidence_text

Decision = Literal["approve", "dismiss"]


def detail_lines(rec: Recommendation, inst: Instrument | None = None) -> list[tuple[str, str]]:
    """(label, value) rows of the detail view, in reading order (prices to the instrument's tick when known)."""
    return [
        ("Symbol", rec.symbol),
        ("Side", rec.side.value),
        ("Entry", fmt.price(rec.entry, inst)),
        ("Stop loss", fmt.price(rec.stop_loss, inst)),
        ("Take profit", fmt.price(rec.take_profit, inst)),
        ("R:R", fmt.DASH if rec.rr is None else f"{rec.rr:.2f}"),
        ("Confidence", confidence_text(rec.confidence)),
        ("Strategy", f"{rec.strategy} v{rec.strategy_version}"),
        ("Status", rec.status + (f" — {rec.fate}" if rec.fate else "")),
        ("Cycle", rec.cycle_id or fmt.DASH),
        ("Time", fmt.clock(rec.created_ms)),
    ]


class RecommendationDetail(AnswerOnceModal[Decision | None]):
    """Answers "approve" on a, "dismiss" on d, None on Esc; the caller acts on the answer."""

    DEFAULT_CSS = (
        FORM_CSS
        + """
    RecommendationDetail { align: center middle; }
    RecommendationDetail > #dialog {
        width: 80; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    RecommendationDetail #fields { height: auto; }
    RecommendationDetail #reasoning { height: auto; border-top: hkey $panel; }
    RecommendationDetail #keys { color: $text-muted; height: 1; }
    """
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", show=False),
        Binding("a", "decide('approve')", "Approve", show=False),
        Binding("d", "decide('dismiss')", "Dismiss", show=False),
    ]

    def __init__(self, recommendation: Recommendation, instrument: Instrument | None = None) -> None:
        super().__init__()
        self.recommendation = recommendation
        self.instrument = instrument

    def compose(self) -> ComposeResult:
        rec = self.recommendation
        lines = detail_lines(rec, self.instrument)
        width = max(len(label) for label, _ in lines)
        fields = "\n".join(f"{label:<{width}}  {value}" for label, value in lines)
        with VerticalScroll(id="dialog"):  # scrolls (arrows, PgUp/PgDn) when a long reasoning outgrows the screen
            yield Static(f"Recommendation — {rec.symbol} {rec.side.value}", classes="modal-title", markup=False)
            yield Static("a approve   d dismiss   Esc close", id="keys")
            yield Static(fields, id="fields", markup=False)
            yield Static(rec.reasoning or "(the strategy gave no reasoning)", id="reasoning", markup=False)

    def action_close(self) -> None:
        self.answer(None)

    def action_decide(self, decision: Decision) -> None:
        self.answer(decision)
