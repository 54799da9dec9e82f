"""music uploads and avatars

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

`music` joins the upload purposes (operators upload library tracks) and users get the
storage prefix of their avatar's renditions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PostgreSQL before 12 refuses ADD VALUE inside a transaction block, and no version
    # lets the same transaction use the new value; its own block sidesteps both.
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE upload_purpose ADD VALUE IF NOT EXISTS 'music'")
    op.add_column("users", sa.Column("avatar_key", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "avatar_key")
    # An enum value cannot be dropped: the type is rebuilt without it, and the music
    # uploads (pending library tracks, nothing a user made) go with it.
    op.execute("DELETE FROM uploads WHERE purpose = 'music'")
    op.execute("ALTER TYPE upload_purpose RENAME TO upload_purpose_old")
    op.execute("CREATE TYPE upload_purpose AS ENUM ('clip', 'avatar')")
    op.execute(
        "ALTER TABLE uploads ALTER COLUMN purpose TYPE upload_purpose "
        "USING purpose::text::upload_purpose"
    )
    op.execute("DROP TYPE upload_purpose_old")
