"""Feature specs and the pure pivot from per-patient facts to feature rows (no I/O)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from medchain.common.tensors import NamedTensor
from medchain.ingest.clinical import local_feature_key
from medchain.ingest.errors import FeatureSpecError
from medchain.ingest.terminology import CATALOGUE, ICD10_SYSTEMS, LOINC

MISSING = math.nan
AGE = "age"
SEX = "sex"
#: `sex` column encoding; every other administrative gender is missing.
SEX_CODES: Mapping[str, float] = {"female": 0.0, "male": 1.0}


@dataclass(frozen=True)
class CodeRef:
    """A code in a code system."""

    system: str
    code: str


@dataclass(frozen=True)
class ObservationFeature:
    """A column: the latest value of a LOINC code in its canonical unit, or of a code of one of
    the hospital's declared local code systems in the given UCUM unit."""

    name: str
    loinc: str
    system: str = LOINC
    unit: str = ""

    @property
    def key(self) -> str:
        """How this column's values are keyed among the stored observation facts."""
        if self.system == LOINC:
            return self.loinc
        return local_feature_key(self.system, self.loinc, self.unit)


@dataclass(frozen=True)
class ConditionFlag:
    """A 0/1 column: does the patient have a Condition coded in `codes`?"""

    name: str
    codes: tuple[CodeRef, ...]

    def matches(self, system: str, code: str) -> bool:
        """ICD-10 codes match their descendants by prefix; other systems match exactly."""
        for ref in self.codes:
            if ref.system != system:
                continue
            if code == ref.code or (system in ICD10_SYSTEMS and code.startswith(ref.code)):
                return True
        return False


@dataclass(frozen=True)
class LabelDefinition:
    """The label: column `source` itself, or 1/0 for `source >= threshold`."""

    name: str
    source: str
    threshold: float | None = None


@dataclass(frozen=True)
class FeatureSpec:
    """What a study reads: observation columns, condition flags, demographics and the label."""

    observations: tuple[ObservationFeature, ...]
    conditions: tuple[ConditionFlag, ...]
    include_age: bool
    include_sex: bool
    label: LabelDefinition
    reference_date: date | None = None

    @property
    def source_columns(self) -> tuple[str, ...]:
        """Every pivoted column in its fixed order: observations, conditions, age, sex."""
        names = [f.name for f in self.observations] + [c.name for c in self.conditions]
        return (*names, *([AGE] if self.include_age else []), *([SEX] if self.include_sex else []))

    @property
    def columns(self) -> tuple[str, ...]:
        """The feature columns a model sees: every column but the label's source, which would
        otherwise hand the model its own answer."""
        return tuple(c for c in self.source_columns if c != self.label.source)

    def check(self) -> None:
        """Refuse a spec that cannot be pivoted: unknown LOINC, clashing names, dangling label."""
        columns = self.source_columns
        if not columns:
            raise FeatureSpecError("a feature spec needs at least one column", "spec")
        if len(set(columns)) != len(columns):
            raise FeatureSpecError(f"feature column names repeat: {list(columns)}", "spec")
        for i, feature in enumerate(self.observations):
            if feature.system == LOINC and feature.loinc not in CATALOGUE:
                raise FeatureSpecError(
                    f"LOINC {feature.loinc} is not in the feature catalogue",
                    f"spec.observations[{i}].loinc",
                )
            if feature.system != LOINC and not feature.unit:
                raise FeatureSpecError(
                    f"local code {feature.system}|{feature.loinc} needs a UCUM unit",
                    f"spec.observations[{i}].unit",
                )
        for i, flag in enumerate(self.conditions):
            if not flag.codes:
                raise FeatureSpecError(
                    f"condition flag {flag.name!r} has no codes", f"spec.conditions[{i}]"
                )
        if not self.label.name or self.label.source not in columns:
            raise FeatureSpecError(
                f"label source {self.label.source!r} is not a column of the spec", "spec.label"
            )
        if self.label.name in columns:
            raise FeatureSpecError(
                f"label name {self.label.name!r} clashes with a column", "spec.label"
            )
        if not self.columns:
            raise FeatureSpecError("a feature spec needs a column besides the label's", "spec")


@dataclass(frozen=True)
class ObservationFact:
    """One usable observation value, already in its code's canonical unit."""

    loinc: str
    value: float
    effective: datetime
    resource_id: str


@dataclass(frozen=True)
class PatientFacts:
    """Everything the pivot needs about one patient; no names, addresses or contacts."""

    pseudonym: str
    birth_date: date | None
    sex: str | None
    observations: tuple[ObservationFact, ...]
    conditions: tuple[CodeRef, ...]


@dataclass(frozen=True)
class FeatureRow:
    """One patient's feature values (NaN when missing) and label."""

    pseudonym: str
    values: tuple[float, ...]
    label: float

    @property
    def complete(self) -> bool:
        return not any(math.isnan(v) for v in self.values) and not math.isnan(self.label)


def age_in_years(birth: date, reference: date) -> float:
    """Completed years at the reference date; missing when born after it."""
    if birth > reference:
        return MISSING
    before_birthday = (reference.month, reference.day) < (birth.month, birth.day)
    return float(reference.year - birth.year - before_birthday)


def _latest(facts: Iterable[ObservationFact], loinc: str, reference: date) -> float:
    candidates = [f for f in facts if f.loinc == loinc and f.effective.date() <= reference]
    if not candidates:
        return MISSING
    # ties on time are broken by resource id so the result never depends on input order
    return max(candidates, key=lambda f: (f.effective, f.resource_id)).value


def pivot_patient(facts: PatientFacts, spec: FeatureSpec, reference: date) -> FeatureRow:
    """One patient's row: latest value per LOINC column up to the reference date, condition flags,
    age at the reference date, sex."""
    values: dict[str, float] = {}
    for feature in spec.observations:
        values[feature.name] = _latest(facts.observations, feature.key, reference)
    for flag in spec.conditions:
        present = any(flag.matches(c.system, c.code) for c in facts.conditions)
        values[flag.name] = 1.0 if present else 0.0
    if spec.include_age:
        values[AGE] = age_in_years(facts.birth_date, reference) if facts.birth_date else MISSING
    if spec.include_sex:
        values[SEX] = SEX_CODES.get(facts.sex or "", MISSING)
    source = values[spec.label.source]
    threshold = spec.label.threshold
    label = source if threshold is None or math.isnan(source) else float(source >= threshold)
    return FeatureRow(facts.pseudonym, tuple(values[c] for c in spec.columns), label)


def pivot(facts: Iterable[PatientFacts], spec: FeatureSpec, reference: date) -> list[FeatureRow]:
    """Rows for many patients, sorted by pseudonym."""
    rows = [pivot_patient(f, spec, reference) for f in facts]
    return sorted(rows, key=lambda row: row.pseudonym)


def completeness(rows: Iterable[FeatureRow], columns: tuple[str, ...]) -> dict[str, float]:
    """Fraction of rows with a value, per column and for the label (`label`) and whole rows."""
    materialised = list(rows)
    if not materialised:
        return {**dict.fromkeys(columns, 0.0), "label": 0.0, "complete_rows": 0.0}
    n = len(materialised)
    out = {
        name: sum(not math.isnan(r.values[i]) for r in materialised) / n
        for i, name in enumerate(columns)
    }
    out["label"] = sum(not math.isnan(r.label) for r in materialised) / n
    out["complete_rows"] = sum(r.complete for r in materialised) / n
    return out


@dataclass(frozen=True)
class FeatureBatch:
    """Rows for the trainer: one float tensor of shape [rows] per column, plus the label tensor."""

    pseudonyms: tuple[str, ...]
    features: tuple[NamedTensor, ...]
    label: NamedTensor


def batches(rows: list[FeatureRow], spec: FeatureSpec, size: int) -> Iterator[FeatureBatch]:
    """Split rows into batches of at most `size`, keeping their order."""
    if size <= 0:
        raise ValueError("batch size must be positive")
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        matrix = np.array([row.values for row in chunk], dtype=np.float64).reshape(
            len(chunk), len(spec.columns)
        )
        yield FeatureBatch(
            pseudonyms=tuple(row.pseudonym for row in chunk),
            features=tuple(
                NamedTensor.from_numpy(name, matrix[:, i]) for i, name in enumerate(spec.columns)
            ),
            label=NamedTensor.from_numpy(spec.label.name, [row.label for row in chunk]),
        )
