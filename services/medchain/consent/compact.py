"""The compact JSON form of `POST /consents`: a batch of decisions, validated into changes."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from medchain.consent.fhir_consent import PURPOSES, PatientIdentifier, purpose_key, study_problem
from medchain.consent.periods import Validity

#: Most items one request may carry, whatever the settings say.
HARD_LIMIT = 100_000


class PatientIn(BaseModel):
    """A patient identifier; `system|value` is pseudonymized, never stored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: str = Field(min_length=1, max_length=512, pattern=r"^[^|]+$")
    value: str = Field(min_length=1, max_length=512)


class PeriodIn(BaseModel):
    """FHIR-style dates or dateTimes; `end` is inclusive at its precision, as in FHIR."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str | None = Field(default=None, examples=["2026-01-01"])
    end: str | None = Field(default=None, examples=["2027-12-31"])


class ConsentItemIn(BaseModel):
    """One decision of one patient about one study, or about a purpose of use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    patient: PatientIn
    study: str | None = Field(default=None, description="A study id (exclusive with purpose)")
    purpose: str | None = Field(
        default=None, description="A v3 ActReason purpose of use, e.g. HRESCH"
    )
    decision: Literal["permit", "deny"]
    period: PeriodIn | None = None
    _validity: Validity = PrivateAttr(default_factory=Validity)

    @model_validator(mode="after")
    def _one_target_and_a_valid_period(self) -> Self:
        if (self.study is None) == (self.purpose is None):
            raise ValueError("give exactly one of study and purpose")
        if self.study is not None and (problem := study_problem(self.study)):
            raise ValueError(problem)
        if self.purpose is not None and self.purpose not in PURPOSES:
            raise ValueError(f"purpose must be one of {sorted(PURPOSES)}")
        period = self.period or PeriodIn()
        self._validity = Validity.from_fhir(period.start, period.end)
        return self

    @property
    def key_study(self) -> str:
        """The ledger study key: the study id or `purpose:<code>`."""
        return self.study if self.study is not None else purpose_key(str(self.purpose))

    @property
    def identifier(self) -> PatientIdentifier:
        return PatientIdentifier(self.patient.system, self.patient.value)

    def validity(self) -> Validity:
        """The period as instants (parsed and checked when the item was validated)."""
        return self._validity


class ConsentBatchIn(BaseModel):
    """Body of `POST /consents`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    consents: list[ConsentItemIn] = Field(min_length=1, max_length=HARD_LIMIT)
