"""The header's account figures at the current marks, computed when read (nothing per ticker)."""

from __future__ import annotations

from collections.abc import Iterable

from tui_bot.core.state import AccountState
from tui_bot.domain.market import AccountSummary
from tui_bot.domain.models import Position, Wallet
from tui_bot.domain.numbers import ZERO


def account_summary(state: AccountState) -> AccountSummary | None:
    """The figures of the engine's account state (None before a wallet)."""
    return summary_of(state.wallet, state.positions.values())


def summary_of(wallet: Wallet | None, positions: Iterable[Position]) -> AccountSummary | None:
    """Equity = wallet balance + the positions' uPnL at their marks (re-marked at ticker speed); available moves by
    the uPnL change since the wallet was reported, as the exchange's margin balance does. None before a wallet."""
    if wallet is None:
        return None
    held = list(positions)
    upnl = sum((position.unrealised_pnl for position in held), ZERO)
    return AccountSummary(
        wallet_balance=wallet.total_wallet_balance,
        unrealised_pnl=upnl,
        equity=wallet.total_wallet_balance + upnl,
        available=wallet.total_available_balance + upnl - wallet.total_perp_upl,
        initial_margin=wallet.total_initial_margin,
        positions=len(held),
    )
