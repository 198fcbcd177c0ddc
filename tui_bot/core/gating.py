"""Which of a cycle's proposals may trade: thresholds, one idea per symbol, symbols other bots hold, free slots,
intelligent replacement."""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from typing import Protocol

from tui_bot.domain.models import Order
from tui_bot.domain.order_ids import parse_order_id
from tui_bot.domain.recommendations import Direction, Proposal
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.store.attribution import EXTERNAL
from tui_bot.store.rows import Trade

ENTRIES_PAUSED = "entries are paused (pause_entries)"


@dataclass(frozen=True, slots=True)
class Verdict:
    """A gate's answer: passed (maybe by replacing a weaker position) or rejected with the reason in words."""

    passed: bool
    reason: str
    replaces: str | None = None
    blocked_by_guard: bool = False
    """Rejected only because the win-rate guard blocks the idea's strategy."""


@dataclass
class GateBook:
    """What the gates know of the account while one cycle decides, updated as ideas pass."""

    settings: TradingSettings
    free_slots: int
    symbols_taken: set[str]
    replaceable: dict[str, float] = field(default_factory=dict)
    """Open positions the bot opened itself, by symbol, with the confidence they were opened on."""
    blocked: dict[str, str] = field(default_factory=dict)
    """Strategies whose real entries the win-rate guard blocks, with its reason."""
    min_ml_score: float | None = None
    """Ideas the learned score rates below this are rejected (None: the score does not gate)."""
    held_by: dict[str, str] = field(default_factory=dict)
    """Symbols another of our bots holds on the account, with that bot (see holders())."""
    closed: str | None = None
    """Why no entry may open now, beside pause_entries (a headless bot's listener is gone); None: entries may open."""


class SharedAccount(Protocol):
    """What the other processes on the account add to a bot's gates (tui_bot.live.bot_gates on Redis)."""

    def restrict(self, book: GateBook) -> None:
        """Close entries in book, or add the symbols other bots hold, as the shared state says."""


def holders(open_trades: Iterable[Trade], entry_orders: Iterable[Order], occupied: Set[str], me: str) -> dict[str, str]:
    """Symbols bots other than me hold, with the bot: its open entry order, or its open trade in a symbol the account
    still has a position or entry order in (a trade the exchange no longer shows holds nothing)."""
    held: dict[str, str] = {}
    for order in entry_orders:
        parsed = parse_order_id(order.order_link_id)
        if parsed is not None and parsed.bot != me:
            held[order.symbol] = parsed.bot
    for trade in open_trades:
        if trade.bot not in (None, me, EXTERNAL) and trade.symbol in occupied:
            held.setdefault(trade.symbol, trade.bot)
    return held


def score(proposal: Proposal) -> float:
    """How strong an idea is, 0-1: its confidence (the same measure stored for each position's entry)."""
    return proposal.confidence


def check_thresholds(proposal: Proposal, settings: TradingSettings) -> str | None:
    """The reason a proposal fails the confidence or reward:risk threshold, or None."""
    if proposal.direction is Direction.HOLD:
        return "no trade proposed (HOLD)"
    if proposal.confidence < settings.min_confidence_threshold:
        return f"confidence {proposal.confidence:.2f} below the minimum {settings.min_confidence_threshold:.2f}"
    rr = proposal.rr
    if rr is None:
        return "stop loss or take profit on the wrong side of the entry"
    if rr < settings.min_rr:
        return f"reward:risk {rr} below the minimum {settings.min_rr}"
    return None


def check_ml_score(proposal: Proposal, minimum: float | None) -> str | None:
    """The reason the learned score keeps a proposal out (scored below the minimum), or None."""
    ml = proposal.ml
    if minimum is None or ml is None or ml.score >= minimum:
        return None
    return f"ML score {ml.score:.2f} below min_ml_score {minimum:.2f} (model v{ml.model_version})"


def strongest_per_symbol(proposals: list[Proposal]) -> tuple[list[Proposal], list[tuple[Proposal, str]]]:
    """Keep the highest-scoring trade idea for each symbol; the others are rejected, naming the winner."""
    best: dict[str, Proposal] = {}
    for proposal in proposals:
        held = best.get(proposal.symbol)
        if held is None or score(proposal) > score(held):
            best[proposal.symbol] = proposal
    losers = [
        (p, f"a stronger idea for {p.symbol} came from {best[p.symbol].strategy}")
        for p in proposals
        if best[p.symbol] is not p
    ]
    kept = sorted(best.values(), key=score, reverse=True)
    return kept, losers


def gate(proposal: Proposal, book: GateBook) -> Verdict:
    """Thresholds, the win-rate guard, the learned score, no other bot holding the symbol, then no position or entry
    order in the symbol yet, then a free slot or a weaker position to swap; nothing passes while entries are paused."""
    if book.settings.pause_entries:
        return Verdict(False, ENTRIES_PAUSED)
    if book.closed is not None:
        return Verdict(False, book.closed)
    reason = check_thresholds(proposal, book.settings)
    if reason is not None:
        return Verdict(False, reason)
    if proposal.strategy in book.blocked:
        return Verdict(False, book.blocked[proposal.strategy], blocked_by_guard=True)
    reason = check_ml_score(proposal, book.min_ml_score)
    if reason is not None:
        return Verdict(False, reason)
    holder = book.held_by.get(proposal.symbol)
    if holder is not None:
        return Verdict(False, f"{proposal.symbol} is held by bot {holder}")
    if proposal.symbol in book.symbols_taken:
        return Verdict(False, f"already trading {proposal.symbol}")
    if book.free_slots > 0:
        return Verdict(True, "passed every gate")
    in_use = book.settings.max_concurrent_trades - book.free_slots
    full = f"no free slot ({in_use} of {book.settings.max_concurrent_trades} in use)"
    if not book.settings.enable_intelligent_replacement or not book.replaceable:
        return Verdict(False, full)
    weakest = min(book.replaceable, key=lambda s: book.replaceable[s])
    needed = book.replaceable[weakest] + book.settings.min_score_improvement
    if score(proposal) < needed:
        return Verdict(
            False,
            f"{full}; score {score(proposal):.2f} does not beat {weakest} "
            f"({book.replaceable[weakest]:.2f}) by {book.settings.min_score_improvement:.2f}",
        )
    return Verdict(True, f"replaces {weakest} (score {book.replaceable[weakest]:.2f} → {score(proposal):.2f})", weakest)


def take(book: GateBook, proposal: Proposal, verdict: Verdict) -> None:
    """Account for a passed idea so the next one in the same cycle sees the slot and the symbol as used."""
    book.symbols_taken.add(proposal.symbol)
    if verdict.replaces is not None:
        book.replaceable.pop(verdict.replaces, None)
        book.symbols_taken.discard(verdict.replaces)
    else:
        book.free_slots -= 1
