"""Settings of the ingest service (`MEDCHAIN_INGEST_*` plus the shared `MEDCHAIN_*` ones)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from medchain.common.settings import ServiceSettings
from medchain.ingest.features import (
    CodeRef,
    ConditionFlag,
    FeatureSpec,
    LabelDefinition,
    ObservationFeature,
)
from medchain.ingest.terminology import ICD10, ICD10_CM, SNOMED

COMPONENT = "ingest"


def default_feature_spec(reference: date | None = None) -> FeatureSpec:
    """The spec used when a trainer sends none: a type 2 diabetes risk table."""
    return FeatureSpec(
        observations=(
            ObservationFeature("glucose", "2345-7"),
            ObservationFeature("bmi", "39156-5"),
            ObservationFeature("systolic_bp", "8480-6"),
            ObservationFeature("hba1c", "4548-4"),
        ),
        conditions=(
            ConditionFlag(
                "hypertension",
                (CodeRef(ICD10, "I10"), CodeRef(ICD10_CM, "I10"), CodeRef(SNOMED, "38341003")),
            ),
            ConditionFlag(
                "type2_diabetes",
                (CodeRef(ICD10, "E11"), CodeRef(ICD10_CM, "E11"), CodeRef(SNOMED, "44054006")),
            ),
        ),
        include_age=True,
        include_sex=True,
        label=LabelDefinition("diabetic_hba1c", "hba1c", 6.5),
        reference_date=reference,
    )


class IngestSettings(ServiceSettings):
    """Where the ingest service listens, what it accepts, and how it builds features."""

    model_config = SettingsConfigDict(
        env_prefix="MEDCHAIN_INGEST_", env_file=None, extra="ignore", frozen=True
    )

    hospital_id: str = Field(default="h1", pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8081, ge=0, le=65535)
    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(default=50061, ge=0, le=65535)
    max_body_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    max_entries: int = Field(default=5000, gt=0)
    reference_date: date | None = Field(
        default=None,
        description="Date at which ages are computed and after which observations "
        "are ignored; today (UTC) when unset.",
    )
    patient_identifier_system: str | None = Field(
        default=None,
        description="Identifier system whose value is pseudonymized (the hospital's MRN); the "
        "Patient's first identifier when unset.",
    )
    local_code_systems: frozenset[str] = Field(
        default=frozenset(),
        description="Site-local code systems accepted besides the standard ones.",
    )
    feature_batch_size: int = Field(default=512, gt=0, le=65536)
    grpc_grace_seconds: float = Field(default=5.0, ge=0)

    def database(self) -> str:
        """This service's SQLAlchemy URL."""
        return self.database_url_for(COMPONENT)

    def feature_spec(self) -> FeatureSpec:
        return default_feature_spec(self.reference_date)


@lru_cache(maxsize=1)
def get_ingest_settings() -> IngestSettings:
    """Process-wide ingest settings; tests call `get_ingest_settings.cache_clear()`."""
    return IngestSettings()
