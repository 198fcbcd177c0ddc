"""What an idea was made on and how the learned score rated it: the features JSON on recommendations and phantoms,
and the score with its model's version, training size and held-out AUC and Brier on recommendations.

Revision 0007: the migration runner stamps SQLite's user_version 7 after it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

RECOMMENDATION_COLUMNS = (
    ("features", sa.Text()),
    ("ml_score", sa.Float()),
    ("ml_model_version", sa.Text()),
    ("ml_train_size", sa.Integer()),
    ("ml_auc", sa.Float()),
    ("ml_brier", sa.Float()),
)


def upgrade() -> None:
    """Add the nullable columns (NULL for every older row)."""
    with op.batch_alter_table("recommendations") as batch:
        for name, kind in RECOMMENDATION_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table("phantoms") as batch:
        batch.add_column(sa.Column("features", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop the columns."""
    with op.batch_alter_table("phantoms") as batch:
        batch.drop_column("features")
    with op.batch_alter_table("recommendations") as batch:
        for name, _ in reversed(RECOMMENDATION_COLUMNS):
            batch.drop_column(name)
