"""Performance of closed trades beside closed phantoms: headline figures, breakdowns and the equity curve."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui_bot.core.ml_report import CalibrationRow
from tui_bot.core.stats import PHANTOM_NOTIONAL, Breakdown, GuardLine, StatsReport, Summary
from tui_bot.ui import format as fmt
from tui_bot.ui.styles import STATS_CSS
from tui_bot.ui.widgets.cells import LiveTable
from tui_bot.ui.widgets.equity_curve import EquityCurve

log = logging.getLogger(__name__)
FIGURES = (
    ("count", "Closed"),
    ("wins", "Wins / losses"),
    ("win_rate", "Win rate"),
    ("profit_factor", "Profit factor"),
    ("avg_r", "Average R"),
    ("avg_pnl", "Average PnL"),
    ("best", "Best"),
    ("worst", "Worst"),
    ("total", "Total PnL"),
)
BREAKDOWNS = (
    ("by_bot", "Bot", "By bot (the bot whose order opened the trade; phantoms have none)"),
    ("by_reason", "Close reason", "By close reason (phantoms: outcome)"),
    ("by_symbol", "Symbol", "By symbol"),
    ("by_day", "Day (UTC)", "By day of close (UTC)"),
)


def percent_of(fraction: Decimal | None) -> str:
    """A 0–1 fraction as a percentage with one decimal ('66.7%')."""
    return fmt.DASH if fraction is None else f"{(fraction * 100).quantize(Decimal('0.1'))}%"


def r_text(value: Decimal | None) -> str:
    """An R multiple with its sign ('+0.35R')."""
    if value is None:
        return fmt.DASH
    text = f"{value.quantize(Decimal('0.01')):f}"
    return f"{text}R" if text.startswith("-") or text.strip("0.") == "" else f"+{text}R"


def figures(s: Summary) -> dict[str, tuple[str, str]]:
    """Each headline figure of a summary as (text, tone) by FIGURES key."""
    money = {"avg_pnl": s.avg_pnl, "best": s.best, "worst": s.worst, "total": s.total_pnl if s.count else None}
    shown = {key: (fmt.signed_money(value), fmt.tone(value)) for key, value in money.items()}
    return {
        "count": (str(s.count), ""),
        "wins": (f"{s.wins} / {s.losses}", ""),
        "win_rate": (percent_of(s.win_rate), ""),
        "profit_factor": (fmt.DASH if s.profit_factor is None else f"{s.profit_factor.quantize(Decimal('0.01'))}", ""),
        "avg_r": (r_text(s.avg_r), fmt.tone(s.avg_r)),
        **shown,
    }


def breakdown_rows(trades: Breakdown, phantoms: Breakdown, *, newest_first: bool = False) -> list[tuple[str, ...]]:
    """(key, trade count, trade PnL, phantom count, phantom PnL) texts for every key of either breakdown."""
    rows: list[tuple[str, ...]] = []
    for key in sorted(set(trades) | set(phantoms), reverse=newest_first):
        t_count, t_pnl = trades.get(key, (0, None))
        p_count, p_pnl = phantoms.get(key, (0, None))
        rows.append(
            (key, str(t_count or fmt.DASH), fmt.signed_money(t_pnl), str(p_count or fmt.DASH), fmt.signed_money(p_pnl))
        )
    return rows


class FiguresTable(LiveTable):
    """Headline figures: one row per figure, trades beside phantoms."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("figure", "Figure"),
        ("trades", "Trades"),
        ("phantoms", "Phantoms"),
    )

    def show(self, report: StatsReport) -> None:
        """Write every figure of both summaries."""
        ours, theirs = figures(report.trades), figures(report.phantoms)
        for key, label in FIGURES:
            self.set_row(key, {"figure": label, "trades": self.toned(*ours[key]), "phantoms": self.toned(*theirs[key])})


class BreakdownTable(LiveTable):
    """Count and net PnL per key (close reason, symbol or day), trades beside phantoms."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("key", "Key"),
        ("trades", "Trades"),
        ("trade_pnl", "PnL"),
        ("phantoms", "Phantoms"),
        ("phantom_pnl", "PnL"),
    )

    def __init__(self, field: str, key_label: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="stats-table")
        self.field = field
        self.key_label = key_label

    def ensure_columns(self) -> None:
        """The declared columns, the first one titled after what the rows are keyed by."""
        if not self.columns:
            for key, label in self.COLUMNS:
                self.add_column(self.key_label if key == "key" else label, key=key)

    def show(self, report: StatsReport) -> None:
        """Replace the rows with this breakdown of both summaries."""
        rows = breakdown_rows(
            getattr(report.trades, self.field),
            getattr(report.phantoms, self.field),
            newest_first=self.field == "by_day",
        )
        self.clear()
        for key, t_count, t_pnl, p_count, p_pnl in rows:
            self.add_row(
                key,
                t_count,
                self.toned(t_pnl, _sign_tone(t_pnl)),
                p_count,
                self.toned(p_pnl, _sign_tone(p_pnl)),
                key=key,
            )


def guard_row(line: GuardLine) -> dict[str, str]:
    """A strategy's win-rate guard figures as texts by GuardTable column."""
    rate = None if line.win_rate is None else Decimal(repr(line.win_rate))
    return {
        "strategy": line.strategy,
        "win_rate": percent_of(rate),
        "sample": str(line.sample),
        "state": "blocked" if line.blocked else "trading",
        "blocked_today": str(line.blocked_today or fmt.DASH),
    }


class GuardTable(LiveTable):
    """The win-rate guard per strategy: rolling win rate, outcomes it is over, blocked or not, ideas blocked today."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("strategy", "Strategy"),
        ("win_rate", "Win rate"),
        ("sample", "Over"),
        ("state", "Entries"),
        ("blocked_today", "Blocked today"),
    )

    def show(self, report: StatsReport) -> None:
        """One row per strategy of the report's guard (a blocked one in the down tone)."""
        for line in report.guard:
            row: dict[str, object] = dict(guard_row(line))
            row["state"] = self.toned(str(row["state"]), "down" if line.blocked else "")
            self.set_row(line.strategy, row)
        self.prune(line.strategy for line in report.guard)


def calibration_row(row: CalibrationRow) -> dict[str, str]:
    """A score bucket's figures as texts by CalibrationTable column."""
    return {
        "bucket": f"{row.low:.1f}-{row.high:.1f}",
        "count": str(row.count),
        "predicted": percent_of(Decimal(repr(row.predicted))),
        "realised": percent_of(Decimal(repr(row.realised))),
    }


class CalibrationTable(LiveTable):
    """The learned score's calibration: per score bucket, closed ideas, mean predicted and realised win rate."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("bucket", "Score"),
        ("count", "Closed"),
        ("predicted", "Predicted"),
        ("realised", "Realised"),
    )

    def show(self, rows: tuple[CalibrationRow, ...]) -> None:
        """One row per score bucket with closed ideas."""
        for row in rows:
            self.set_row(f"{row.low:.1f}", dict(calibration_row(row)))
        self.prune(f"{row.low:.1f}" for row in rows)


def _sign_tone(signed: str) -> str:
    """The tone of a signed_money text: '+' is up, '-' is down, anything else plain."""
    return {"+": "up", "-": "down"}.get(signed[:1], "")


class StatsScreen(ModalScreen[None]):
    """Loads the figures (the console backend's stats report) in a worker when opened (r reloads); Esc or q closes."""

    CSS_PATH = STATS_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", show=False),
        Binding("r", "reload", "Reload", show=False),
    ]

    def __init__(self, load: Callable[[], Awaitable[StatsReport]]) -> None:
        super().__init__()
        self.load = load
        self.report: StatsReport | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="stats-dialog"):
            yield Static("Performance", id="stats-title")
            hint = f"Phantoms are sized to {PHANTOM_NOTIONAL} USDT each · r reloads · Esc / q closes"
            yield Static(hint, id="stats-hint", markup=False)
            with VerticalScroll(id="stats-body"):
                yield FiguresTable(id="stats-figures", classes="stats-table")
                yield Static(
                    "Win-rate guard: rolling win rate per strategy", id="stats-guard-heading", classes="stats-heading"
                )
                yield GuardTable(id="stats-guard", classes="stats-table")
                yield Static(
                    "Learned score: predicted vs realised win rate", id="stats-ml-heading", classes="stats-heading"
                )
                yield Static("", id="stats-ml-status", markup=False)
                yield CalibrationTable(id="stats-ml", classes="stats-table")
                yield Static("Equity: cumulative net PnL of closed trades", classes="stats-heading")
                yield EquityCurve(id="stats-curve")
                for field, label, heading in BREAKDOWNS:
                    yield Static(heading, classes="stats-heading")
                    yield BreakdownTable(field, label, id=f"stats-{field.replace('_', '-')}")

    def on_mount(self) -> None:
        for table in self.query(LiveTable):
            table.can_focus = False
        self.query_one("#stats-body").focus()
        self.reload()

    @work(group="stats-load", exclusive=True, exit_on_error=False)
    async def reload(self) -> None:
        """Read and show the figures; a failure is shown in the hint line, not raised."""
        body = self.query_one("#stats-body")
        body.loading = True
        try:
            report = await self.load()
        except Exception as err:
            log.exception("could not load the statistics")
            self.query_one("#stats-hint", Static).update(f"Could not load the statistics: {err}")
            return
        finally:
            body.loading = False
        self.show(report)

    def show(self, report: StatsReport) -> None:
        """Fill the tables and the curve from a report."""
        self.report = report
        self.query_one(FiguresTable).show(report)
        self.query_one(GuardTable).show(report)
        for part in self.query("#stats-guard-heading, #stats-guard"):
            part.display = bool(report.guard)
        self._show_ml(report)
        for table in self.query(BreakdownTable):
            table.show(report)
        self.query_one(EquityCurve).set_points(report.curve)

    def _show_ml(self, report: StatsReport) -> None:
        """The learned score's status line and calibration table (hidden without a trading bot)."""
        ml = report.ml
        for part in self.query("#stats-ml-heading, #stats-ml-status, #stats-ml"):
            part.display = ml is not None
        if ml is not None:
            self.query_one("#stats-ml-status", Static).update(ml.status)
            self.query_one(CalibrationTable).show(ml.calibration)
            self.query_one(CalibrationTable).display = bool(ml.calibration)

    def action_reload(self) -> None:
        self.reload()

    def action_close(self) -> None:
        self.dismiss(None)
