"""An index on candles(start), so the writer's retention prune finds the old candles without reading the table.

Revision 0008: the migration runner stamps SQLite's user_version 8 after it.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the index."""
    op.create_index("candles_start", "candles", ["start"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("candles_start", table_name="candles")
