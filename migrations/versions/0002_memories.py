"""memories

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 22:42:20.811389
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "music_tracks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("artist", sa.String(length=200), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_music_tracks")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("operation", sa.String(length=60), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_idempotency_keys_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "operation", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "memories",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status", sa.Enum("processing", "ready", "failed", name="memory_status"), nullable=False
        ),
        sa.Column("failure_code", sa.String(length=40), nullable=True),
        sa.Column("failure_detail", sa.String(length=300), nullable=True),
        sa.Column("caption", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "visibility",
            sa.Enum("only_me", "close_friends", "followers", "public", name="memory_visibility"),
            nullable=False,
        ),
        sa.Column("music_track_id", sa.Uuid(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("processing_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_memories_author_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["music_track_id"],
            ["music_tracks.id"],
            name=op.f("fk_memories_music_track_id_music_tracks"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memories")),
    )
    op.create_index(
        "ix_memories_author_created", "memories", ["author_id", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_memories_processing_deadline",
        "memories",
        ["processing_deadline"],
        unique=False,
        postgresql_where=sa.text("status = 'processing'"),
    )
    op.create_index(
        "ix_memories_public_ready_created",
        "memories",
        ["created_at", "id"],
        unique=False,
        postgresql_where=sa.text("visibility = 'public' AND status = 'ready'"),
    )
    op.create_table(
        "uploads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.Enum("clip", "avatar", name="upload_purpose"), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_uploads_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_uploads_storage_key")),
    )
    op.create_index(op.f("ix_uploads_owner_id"), "uploads", ["owner_id"], unique=False)
    op.create_index(
        "ix_uploads_unused_expiry",
        "uploads",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("used_at IS NULL"),
    )
    op.create_table(
        "clips",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("memory_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("upload_id", sa.Uuid(), nullable=False),
        sa.Column("source_key", sa.String(length=300), nullable=False),
        sa.Column("source_content_type", sa.String(length=100), nullable=False),
        sa.Column("still_seconds", sa.Float(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("video_key", sa.String(length=300), nullable=True),
        sa.Column("poster_key", sa.String(length=300), nullable=True),
        sa.CheckConstraint("position BETWEEN 0 AND 9", name=op.f("ck_clips_position_range")),
        sa.ForeignKeyConstraint(
            ["memory_id"],
            ["memories.id"],
            name=op.f("fk_clips_memory_id_memories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clips")),
        sa.UniqueConstraint("memory_id", "position", name=op.f("uq_clips_memory_id_position")),
    )
    op.create_table(
        "memory_hashtags",
        sa.Column("memory_id", sa.Uuid(), nullable=False),
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["memory_id"],
            ["memories.id"],
            name=op.f("fk_memory_hashtags_memory_id_memories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("memory_id", "tag", name=op.f("pk_memory_hashtags")),
    )
    op.create_index(
        "ix_memory_hashtags_tag_created",
        "memory_hashtags",
        ["tag", "created_at", "memory_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_memory_hashtags_tag_created", table_name="memory_hashtags")
    op.drop_table("memory_hashtags")
    op.drop_table("clips")
    op.drop_index(
        "ix_uploads_unused_expiry",
        table_name="uploads",
        postgresql_where=sa.text("used_at IS NULL"),
    )
    op.drop_index(op.f("ix_uploads_owner_id"), table_name="uploads")
    op.drop_table("uploads")
    op.drop_index(
        "ix_memories_public_ready_created",
        table_name="memories",
        postgresql_where=sa.text("visibility = 'public' AND status = 'ready'"),
    )
    op.drop_index(
        "ix_memories_processing_deadline",
        table_name="memories",
        postgresql_where=sa.text("status = 'processing'"),
    )
    op.drop_index("ix_memories_author_created", table_name="memories")
    op.drop_table("memories")
    op.drop_table("idempotency_keys")
    op.drop_table("music_tracks")
    for enum in ("upload_purpose", "memory_visibility", "memory_status"):
        op.execute(f"DROP TYPE {enum}")
