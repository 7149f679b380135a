"""`/stats`: counts per resource type, patients, and feature completeness."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from medchain.ingest.api.deps import ServiceDep

router = APIRouter(tags=["operations"])


class FeatureSpecSummary(BaseModel):
    columns: list[str]
    label: str


class StatsPublic(BaseModel):
    """What `/stats` reports; no pseudonyms and nothing per patient."""

    hospital: str
    resources: dict[str, int] = Field(description="Stored resources per type")
    resources_not_used: int = Field(description="Stored raw, not used for features")
    patients: int
    feature_spec: FeatureSpecSummary = Field(description="The default feature spec")
    reference_date: str
    completeness: dict[str, float] = Field(
        description="Fraction of patients with a value, per column, `label` and `complete_rows`"
    )
    cohort_size: int = Field(description="Patients complete for the default feature spec")


@router.get("/stats", summary="Counts per resource type, patients and feature completeness")
def stats(service: ServiceDep) -> StatsPublic:
    return StatsPublic.model_validate(service.stats())
