"""What a model-backed recommendation was made from: the prompt, the model, its raw reply and the chart sent.

Revision 0005: the first with no pre-alembic step; the migration runner stamps SQLite's user_version 5 after it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TRACE = ("prompt_name", "prompt_version", "model_name", "raw_response", "chart_path")


def upgrade() -> None:
    """Add the five nullable trace columns to recommendations (NULL for every older row)."""
    with op.batch_alter_table("recommendations") as batch:
        for name in TRACE:
            batch.add_column(sa.Column(name, sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop the trace columns."""
    with op.batch_alter_table("recommendations") as batch:
        for name in reversed(TRACE):
            batch.drop_column(name)
