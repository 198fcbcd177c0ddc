"""The header's account figures at the current marks, computed when read (nothing per ticker)."""

from __future__ import annotations

from tui_bot.core.state import AccountState
from tui_bot.domain.market import AccountSummary
from tui_bot.domain.numbers import ZERO


def account_summary(state: AccountState) -> AccountSummary | None:
    """Equity = wallet balance + the positions' uPnL at their marks (re-marked at ticker speed); available moves by
    the uPnL change since the wallet was reported, as the exchange's margin balance does. None before a wallet."""
    wallet = state.wallet
    if wallet is None:
        return None
    upnl = ZERO
    for position in state.positions.values():
        upnl += position.unrealised_pnl
    return AccountSummary(
        wallet_balance=wallet.total_wallet_balance,
        unrealised_pnl=upnl,
        equity=wallet.total_wallet_balance + upnl,
        available=wallet.total_available_balance + upnl - wallet.total_perp_upl,
        initial_margin=wallet.total_initial_margin,
        positions=len(state.positions),
    )
