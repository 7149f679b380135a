"""Initial ingest schema: raw resources, pseudonymized patients, identifiers and feature facts.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("pseudonym", sa.String(64), primary_key=True),
        sa.Column("resource_id", sa.String(64), nullable=False, unique=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("sex", sa.String(16), nullable=True),
    )
    op.create_table(
        "patient_identifiers",
        sa.Column("system", sa.String(512), primary_key=True),
        sa.Column("value", sa.String(512), primary_key=True),
        sa.Column("pseudonym", sa.String(64), sa.ForeignKey("patients.pseudonym"), nullable=False),
    )
    op.create_index("ix_patient_identifiers_pseudonym", "patient_identifiers", ["pseudonym"])
    op.create_table(
        "resources",
        sa.Column("resource_type", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("patient", sa.String(64), nullable=True),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("last_updated", sa.DateTime(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
    )
    op.create_index("ix_resources_patient", "resources", ["patient"])
    op.create_index("ix_resources_type_content", "resources", ["resource_type", "content_hash"])
    op.create_table(
        "resource_identifiers",
        sa.Column("resource_type", sa.String(64), primary_key=True),
        sa.Column("system", sa.String(512), primary_key=True),
        sa.Column("value", sa.String(512), primary_key=True),
        sa.Column("resource_id", sa.String(64), nullable=False),
    )
    op.create_table(
        "observation_facts",
        sa.Column("fact_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("loinc", sa.String(32), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("effective", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_observation_facts_resource_id", "observation_facts", ["resource_id"])
    op.create_index(
        "ix_observation_facts_patient_loinc", "observation_facts", ["pseudonym", "loinc"]
    )
    op.create_table(
        "condition_facts",
        sa.Column("fact_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("system", sa.String(512), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
    )
    op.create_index("ix_condition_facts_resource_id", "condition_facts", ["resource_id"])
    op.create_index("ix_condition_facts_pseudonym", "condition_facts", ["pseudonym"])


def downgrade() -> None:
    op.drop_table("condition_facts")
    op.drop_table("observation_facts")
    op.drop_table("resource_identifiers")
    op.drop_table("resources")
    op.drop_table("patient_identifiers")
    op.drop_table("patients")
