"""Review, approval and the bank: a run's release state and its record, the bank batches, their files.

The runs already computed become 草稿 (a draft nobody has submitted), the failed ones keep no state.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("release_state", sa.String(16), nullable=True))
        batch.add_column(sa.Column("replaces", sa.String(32), nullable=True))
        batch.add_column(sa.Column("submitted_by", sa.Integer, nullable=True))
        batch.add_column(sa.Column("submitted_at", WHEN, nullable=True))
        batch.add_column(sa.Column("approved_by", sa.Integer, nullable=True))
        batch.add_column(sa.Column("approved_at", WHEN, nullable=True))
        batch.add_column(sa.Column("returned_reason", sa.Text, nullable=True))
        batch.add_column(sa.Column("released_at", WHEN, nullable=True))
        for name in ("warnings", "acknowledged", "release_files", "locked_files", "written_off"):
            batch.add_column(sa.Column(name, sa.JSON, nullable=True))
        batch.add_column(sa.Column("release_history", sa.JSON, nullable=True))
        batch.create_foreign_key("fk_runs_replaces_runs", "runs", ["replaces"], ["id"])
        batch.create_foreign_key("fk_runs_submitted_by_users", "users", ["submitted_by"], ["id"])
        batch.create_foreign_key("fk_runs_approved_by_users", "users", ["approved_by"], ["id"])
        batch.create_index("ix_runs_release_state", ["release_state"])
    op.execute("UPDATE runs SET release_state = '草稿' WHERE status = 'done'")
    op.create_table(
        "bank_batches",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("reissue_of", sa.String(32), sa.ForeignKey("bank_batches.id"), nullable=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("lines", sa.Integer, nullable=False),
        sa.Column("total", sa.String(32), nullable=False),
        sa.Column("held", sa.Integer, nullable=False),
        sa.Column("held_total", sa.String(32), nullable=False),
        sa.Column("reconciled_by", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("reconciled_at", WHEN, nullable=True),
        sa.Column("summary", sa.JSON, nullable=True),
        sa.UniqueConstraint("run_id", "seq", name="uq_bank_batches_run_seq"),
    )
    op.create_index("ix_bank_batches_run_id", "bank_batches", ["run_id"])
    with op.batch_alter_table("files") as batch:
        batch.add_column(sa.Column("batch_id", sa.String(32), nullable=True))
        batch.create_foreign_key("fk_files_batch_id_bank_batches", "bank_batches", ["batch_id"], ["id"])
        batch.create_index("ix_files_batch_id", ["batch_id"])


def downgrade() -> None:
    with op.batch_alter_table("files") as batch:
        batch.drop_index("ix_files_batch_id")
        batch.drop_constraint("fk_files_batch_id_bank_batches", type_="foreignkey")
        batch.drop_column("batch_id")
    op.drop_table("bank_batches")
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_release_state")
        for fk in ("fk_runs_approved_by_users", "fk_runs_submitted_by_users", "fk_runs_replaces_runs"):
            batch.drop_constraint(fk, type_="foreignkey")
        for name in (
            "release_history",
            "written_off",
            "locked_files",
            "release_files",
            "acknowledged",
            "warnings",
            "released_at",
            "returned_reason",
            "approved_at",
            "approved_by",
            "submitted_at",
            "submitted_by",
            "replaces",
            "release_state",
        ):
            batch.drop_column(name)
