"""Town settings for the 公示: the 公示期 and the 监督电话 of each 乡镇.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("towns") as batch:
        batch.add_column(sa.Column("publicity", sa.String(100), nullable=True))
        batch.add_column(sa.Column("hotline", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("towns") as batch:
        batch.drop_column("hotline")
        batch.drop_column("publicity")
