"""videos by (job_id, state, row_index): the engine's next pending videos and the table sorted by state walk it

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # the wider index serves every query the old one did (its columns are a prefix)
    op.create_index("ix_videos_job_state_row", "videos", ["job_id", "state", "row_index"])
    op.drop_index("ix_videos_job_state", table_name="videos")


def downgrade() -> None:
    op.create_index("ix_videos_job_state", "videos", ["job_id", "state"])
    op.drop_index("ix_videos_job_state_row", table_name="videos")
