"""The operators' views: `fills` (one row per fill with bot, reason and close reason) and `trades_pnl` (one row
per closed trade with net PnL, R and duration), and the indexes behind "by bot", "by reason" and "by day".

Revision 0006. The view SQL is plain SQL both backends read alike: money stays TEXT decimals on SQLite and
NUMERIC on PostgreSQL (CAST(... AS NUMERIC) only where a value is compared with zero, so SQLite compares
numbers, not text).
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_INDEXES = (
    ("executions_bot_time", "executions", ["bot", "exec_time"]),
    ("executions_reason_time", "executions", ["reason", "exec_time"]),
    ("executions_time", "executions", ["exec_time"]),
    ("trades_bot_reason", "trades", ["bot", "exit_reason"]),
    ("trades_exit_reason", "trades", ["exit_reason"]),
    ("trades_exit_time", "trades", ["exit_time"]),
)

# A fill's close reason follows the trade ledger's rule (tui_bot.store.trades.exit_reason) for fills that closed
# something: our order's reason (a ticket entry that reduced is a manual exit), else the exchange's own kind.
_FILLS = """
CREATE VIEW fills AS
SELECT e.id, e.exec_id, e.bot, e.reason, e.exec_time, e.symbol, e.side, e.qty, e.price, e.fee,
       e.exec_type, e.order_id, e.order_link_id,
       CASE
         WHEN CAST(e.closed_size AS NUMERIC) <= 0 THEN NULL
         WHEN e.reason = 'manual_entry' THEN 'manual_exit'
         WHEN e.reason IS NOT NULL THEN e.reason
         WHEN e.exec_type = 'BustTrade' THEN 'liquidation'
         WHEN e.exec_type = 'AdlTrade' THEN 'adl'
         WHEN e.create_type IN ('CreateByTakeProfit', 'CreateByPartialTakeProfit') THEN 'take_profit'
         WHEN e.create_type IN ('CreateByStopLoss', 'CreateByPartialStopLoss') THEN 'stop_loss'
         WHEN e.create_type = 'CreateByTrailingStop' THEN 'trailing_stop'
         WHEN e.create_type = 'CreateByLiq' THEN 'liquidation'
         WHEN e.stop_order_type IN ('TakeProfit', 'PartialTakeProfit') THEN 'take_profit'
         WHEN e.stop_order_type IN ('StopLoss', 'PartialStopLoss') THEN 'stop_loss'
         WHEN e.stop_order_type = 'TrailingStop' THEN 'trailing_stop'
         ELSE 'external'
       END AS close_reason
FROM executions e
WHERE e.exec_type IN ('Trade', 'BustTrade', 'AdlTrade')
"""

# R = net PnL / (|entry order's fill price - its stop loss| x the quantity closed), as tui_bot.core.stats works it
# out; NULL when the entry order carried no stop (or is not stored).
_TRADES_PNL = """
CREATE VIEW trades_pnl AS
SELECT t.id, t.bot, t.symbol, t.side, t.exit_reason AS close_reason, t.pnl AS net_pnl, t.fees,
       t.qty, t.exit_qty, t.entry_price, t.exit_price, t.entry_time, t.exit_time,
       t.exit_time - t.entry_time AS duration_ms,
       CASE WHEN CAST(t.pnl AS NUMERIC) > 0 THEN 1 ELSE 0 END AS win,
       t.pnl / NULLIF(risk.per_unit * CASE
           WHEN CAST(t.exit_qty AS NUMERIC) > 0 AND CAST(t.exit_qty AS NUMERIC) < CAST(t.qty AS NUMERIC)
           THEN t.exit_qty ELSE t.qty END, 0) AS r
FROM trades t
LEFT JOIN (
  SELECT o.order_link_id,
         MAX(ABS(CASE WHEN CAST(o.avg_price AS NUMERIC) > 0 THEN o.avg_price ELSE o.price END - o.stop_loss))
           AS per_unit
  FROM orders o
  WHERE o.order_link_id <> '' AND NOT o.reduce_only AND CAST(o.stop_loss AS NUMERIC) > 0
  GROUP BY o.order_link_id
) risk ON risk.order_link_id = t.entry_order_link_id
WHERE t.status = 'closed' AND t.pnl IS NOT NULL
"""


def upgrade() -> None:
    """Create the lookup indexes, then the two views."""
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns)
    op.execute(_FILLS)
    op.execute(_TRADES_PNL)


def downgrade() -> None:
    """Drop the views, then the indexes."""
    op.execute("DROP VIEW trades_pnl")
    op.execute("DROP VIEW fills")
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
