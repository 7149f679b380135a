"""Initial consent schema: submissions, documents, the change outbox, proofs, permission cache.

Revision ID: consent_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "consent_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_submissions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("client", sa.String(256), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("change_count", sa.Integer(), nullable=False),
    )
    op.create_table(
        "consent_documents",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("submission_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
    )
    op.create_index("ix_consent_documents_submission_id", "consent_documents", ["submission_id"])
    op.create_table(
        "consent_changes",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("change_id", sa.String(32), nullable=False, unique=True),
        sa.Column("submission_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.String(32), nullable=False),
        sa.Column("org", sa.String(128), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("study", sa.String(128), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("decision", sa.String(8), nullable=True),
        sa.Column("valid_from", sa.DateTime(), nullable=True),
        sa.Column("valid_until", sa.DateTime(), nullable=True),
        sa.Column("document_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("doubt_checks", sa.Integer(), nullable=False),
        sa.Column("last_tx_id", sa.String(64), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("tx_id", sa.String(64), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("ledger_version", sa.Integer(), nullable=True),
        sa.Column("reason_code", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_consent_changes_state_seq", "consent_changes", ["state", "seq"])
    op.create_index("ix_consent_changes_key", "consent_changes", ["pseudonym", "study"])
    op.create_index("ix_consent_changes_submission_id", "consent_changes", ["submission_id"])
    op.create_index("ix_consent_changes_tx_id", "consent_changes", ["tx_id"])
    op.create_table(
        "consent_transactions",
        sa.Column("tx_id", sa.String(64), primary_key=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("endorsers", sa.Text(), nullable=True),
    )
    op.create_table(
        "consent_permissions",
        sa.Column("pseudonym", sa.String(64), primary_key=True),
        sa.Column("study", sa.String(128), primary_key=True),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("valid_from", sa.DateTime(), nullable=False),
        sa.Column("valid_until", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tx_id", sa.String(64), nullable=False),
    )
    op.create_table(
        "consent_checkpoints",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("checkpoint", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("consent_checkpoints")
    op.drop_table("consent_permissions")
    op.drop_table("consent_transactions")
    op.drop_table("consent_changes")
    op.drop_table("consent_documents")
    op.drop_table("consent_submissions")
