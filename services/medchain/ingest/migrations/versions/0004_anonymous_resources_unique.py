"""Store a resource sent without any identity at most once per content, even under races.

Revision ID: 0004_anonymous_resources_unique
Revises: 0003_local_feature_keys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_anonymous_resources_unique"
down_revision = "0003_local_feature_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("resources", sa.Column("anonymous_digest", sa.String(64), nullable=True))
    op.create_index(
        "ux_resources_anonymous", "resources", ["resource_type", "anonymous_digest"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ux_resources_anonymous", table_name="resources")
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("anonymous_digest")
