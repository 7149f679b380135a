"""Index resources by id alone, so one query finds the stored versions of a whole bundle.

Revision ID: 0002_resource_id_index
Revises: 0001_initial
"""

from __future__ import annotations

from alembic import op

revision = "0002_resource_id_index"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_resources_id", "resources", ["id"])


def downgrade() -> None:
    op.drop_index("ix_resources_id", table_name="resources")
