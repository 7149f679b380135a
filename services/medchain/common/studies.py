"""The study specification all parties agree on; its canonical JSON hash is the specHash."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from medchain.common.hashing import canonical_json, sha256_hex

LOINC = "http://loinc.org"
STUDY_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
MSP_ID = re.compile(r"^[A-Za-z0-9.-]{1,64}MSP$")

Task = Literal["binary", "multiclass", "regression"]
ModelKind = Literal["logistic_regression", "linear_regression", "mlp"]
StrategyName = Literal[
    "fedavg", "fedprox", "median", "trimmed_mean", "krum", "multi_krum", "fedadam"
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ObservationColumn(_Frozen):
    """A column: the latest value of a coded observation (LOINC, or a declared local system)."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    code: str = Field(min_length=1, max_length=64)
    system: str = LOINC
    #: UCUM unit the values must carry; LOINC columns use the ingest catalogue's canonical unit.
    unit: str = ""


class CodedValue(_Frozen):
    system: str = Field(min_length=1)
    code: str = Field(min_length=1)


class ConditionColumn(_Frozen):
    """A 0/1 column: does the patient have a condition coded in `codes`?"""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    codes: tuple[CodedValue, ...] = Field(min_length=1)


class Label(_Frozen):
    """The label: column `source`, or 1/0 for `source >= threshold`."""

    name: str = Field(min_length=1, max_length=64)
    source: str = Field(min_length=1, max_length=64)
    threshold: float | None = None


class Features(_Frozen):
    """Which columns of each hospital's feature table the study reads."""

    observations: tuple[ObservationColumn, ...] = ()
    conditions: tuple[ConditionColumn, ...] = ()
    include_age: bool = False
    include_sex: bool = False
    label: Label
    reference_date: date | None = None

    @model_validator(mode="after")
    def _columns_unique(self) -> Self:
        names = [c.name for c in self.observations] + [c.name for c in self.conditions]
        if self.include_age:
            names.append("age")
        if self.include_sex:
            names.append("sex")
        if len(set(names)) != len(names):
            raise ValueError("feature column names must be unique")
        if not names:
            raise ValueError("a study needs at least one feature column")
        return self


class ModelConfig(_Frozen):
    """The model every hospital trains, and how long it trains locally per round."""

    kind: ModelKind = "logistic_regression"
    hidden_units: int = Field(default=16, ge=1, le=1024)
    learning_rate: float = Field(default=0.1, gt=0, le=10)
    local_epochs: int = Field(default=5, ge=1, le=100)
    batch_size: int = Field(default=32, ge=1, le=65536)
    l2: float = Field(default=1e-4, ge=0)


class StrategyConfig(_Frozen):
    """How the aggregator combines updates; options are strategy-specific numbers."""

    name: StrategyName = "fedavg"
    options: dict[str, float] = Field(default_factory=dict)

    @property
    def proximal_mu(self) -> float:
        """FedProx's proximal term for the trainers (0 for every other strategy)."""
        return float(self.options.get("proximal_mu", 0.0)) if self.name == "fedprox" else 0.0

    def typed_options(self) -> dict[str, float | int]:
        """Options with whole numbers as ints (Krum counts updates)."""
        return {
            k: int(v) if float(v).is_integer() and k.startswith("num_") else v
            for k, v in self.options.items()
        }


class PrivacyConfig(_Frozen):
    """Differential privacy of the updates (DP-FedAvg): clipping, noise, and the total budget."""

    enabled: bool = False
    clip_norm: float = Field(default=1.0, gt=0)
    noise_multiplier: float = Field(default=0.0, ge=0)
    epsilon: float = Field(default=0.0, ge=0)
    delta: float = Field(default=1e-5, gt=0, lt=1)

    @model_validator(mode="after")
    def _budget_when_enabled(self) -> Self:
        if self.enabled and (self.epsilon <= 0 or self.noise_multiplier <= 0):
            raise ValueError("differential privacy needs epsilon > 0 and noise_multiplier > 0")
        return self


class Standardization(_Frozen):
    """Pooled per-column mean and scale every site applies (from sums, never rows)."""

    columns: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]

    @model_validator(mode="after")
    def _aligned(self) -> Self:
        if not len(self.columns) == len(self.mean) == len(self.scale):
            raise ValueError("standardization columns, mean and scale must have equal length")
        if any(s <= 0 for s in self.scale):
            raise ValueError("standardization scales must be positive")
        return self


class StudySpec(_Frozen):
    """A federated study: task, features, model, strategy, rounds, participants, privacy."""

    id: str
    title: str = Field(default="", max_length=200)
    task: Task = "binary"
    features: Features
    model: ModelConfig = ModelConfig()
    strategy: StrategyConfig = StrategyConfig()
    rounds: int = Field(default=5, ge=1, le=1000)
    participants: tuple[str, ...] = Field(min_length=1)
    min_participants: int = Field(default=1, ge=1)
    privacy: PrivacyConfig = PrivacyConfig()
    holdout_fraction: float = Field(default=0.2, gt=0, lt=1)
    round_deadline_s: float = Field(default=120.0, gt=0)
    seed: int = Field(default=0, ge=0)
    #: Resolved by the aggregator from the sites' feature statistics before the study is created
    #: on the ledger, so the hash covers them: the label classes and the pooled standardization.
    classes: tuple[int, ...] = ()
    standardization: Standardization | None = None

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not STUDY_ID.match(value):
            raise ValueError("study id must be 1-128 of [A-Za-z0-9._:-]")
        return value

    @field_validator("participants")
    @classmethod
    def _participants_shape(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [p for p in value if not MSP_ID.match(p)]
        if bad:
            raise ValueError(f"participants must be MSP ids like h1MSP, got {bad}")
        if len(set(value)) != len(value):
            raise ValueError("participants must be unique")
        return tuple(sorted(value))

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.min_participants > len(self.participants):
            raise ValueError("min_participants cannot exceed the number of participants")
        if self.task == "regression" and self.model.kind == "logistic_regression":
            raise ValueError("a regression task needs linear_regression or mlp")
        if self.task != "regression" and self.model.kind == "linear_regression":
            raise ValueError("a classification task needs logistic_regression or mlp")
        return self

    @property
    def resolved(self) -> bool:
        """Whether the classes (classification) and standardization have been filled in."""
        has_classes = self.task == "regression" or len(self.classes) >= 2
        return has_classes and self.standardization is not None

    def canonical(self) -> bytes:
        """The bytes every party hashes."""
        return canonical_json(self.model_dump(mode="json"))

    def model_kind(self) -> str:
        """The trainer's model kind for this task (an MLP regresses or classifies by task)."""
        if self.model.kind == "mlp":
            return "mlp_regressor" if self.task == "regression" else "mlp_classifier"
        return self.model.kind

    @property
    def spec_hash(self) -> str:
        return sha256_hex(self.canonical())

    @classmethod
    def from_canonical(cls, data: bytes | str) -> StudySpec:
        return cls.model_validate_json(data)
