"""profiles choose whether search engines may index their share pages

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-05

Share pages (`/m/{id}`, `/u/{handle}`) say `noindex` unless their author set
`discoverable`; off by default, so nobody's memories reach search engines unasked.
Operators enrol a TOTP second factor for the console (`keepsake admin totp-enroll`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("discoverable", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column("users", sa.Column("totp_secret", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "totp_secret")
    op.drop_column("users", "discoverable")
