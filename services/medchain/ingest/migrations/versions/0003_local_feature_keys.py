"""Widen observation fact keys: local codes are keyed `system|code|unit`, longer than LOINC codes.

Revision ID: 0003_local_feature_keys
Revises: 0002_resource_id_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_local_feature_keys"
down_revision = "0002_resource_id_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("observation_facts") as batch:
        batch.alter_column("loinc", type_=sa.String(600), existing_type=sa.String(32))


def downgrade() -> None:
    with op.batch_alter_table("observation_facts") as batch:
        batch.alter_column("loinc", type_=sa.String(32), existing_type=sa.String(600))
