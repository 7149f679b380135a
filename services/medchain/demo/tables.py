"""How each demo table becomes FHIR: which column is which coded Observation, Condition or
demographic, and the matching study feature section. Pure functions, no I/O."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from medchain.common.datasets import Dataset
from medchain.common.studies import (
    CodedValue,
    ConditionColumn,
    Features,
    Label,
    ObservationColumn,
)

LOCAL_SYSTEM_BASE = "http://medchain.example/fhir/CodeSystem/"
IDENTIFIER_SYSTEM = "urn:medchain:demo:mrn"
#: The local code systems of the demo tables; the local federation's ingest services accept them.
DEMO_CODE_SYSTEMS = sorted(
    LOCAL_SYSTEM_BASE + name for name in ("breast-cancer", "diabetes", "lung")
)
UCUM = "http://unitsofmeasure.org"
#: Observation and reference dates of the demo records; ages are computed at REFERENCE_DATE.
REFERENCE_DATE = dt.date(2026, 1, 1)
EFFECTIVE = "2025-06-01T09:00:00Z"


def column_name(raw: str) -> str:
    """A dataset column as a feature name: lower case, words joined by underscores."""
    return re.sub(r"[^a-z0-9]+", "_", raw.lower()).strip("_")


@dataclass(frozen=True)
class ObservationCoding:
    """A dataset column recorded as an Observation with a code and a UCUM unit."""

    source: str
    feature: str
    code: str
    system: str
    unit: str
    display: str


@dataclass(frozen=True)
class TableCoding:
    """How one dataset maps to FHIR and to a study's feature section."""

    dataset: str
    observations: tuple[ObservationCoding, ...]
    label_feature: str
    label_condition: tuple[CodedValue, ...] = ()
    label_positive: float = 1.0
    label_observation: ObservationCoding | None = None
    age_source: str | None = None
    sex_source: str | None = None
    sex_codes: Mapping[float, str] | None = None

    @property
    def local_system(self) -> str:
        return LOCAL_SYSTEM_BASE + self.dataset.replace("_", "-")

    def features(self) -> Features:
        """The study feature section that reads this table back."""
        observations = [
            ObservationColumn(name=o.feature, code=o.code, system=o.system, unit=o.unit)
            for o in self.observations
        ]
        conditions: list[ConditionColumn] = []
        if self.label_condition:
            conditions.append(ConditionColumn(name=self.label_feature, codes=self.label_condition))
        if self.label_observation is not None:
            o = self.label_observation
            observations.append(
                ObservationColumn(name=o.feature, code=o.code, system=o.system, unit=o.unit)
            )
        return Features(
            observations=tuple(observations),
            conditions=tuple(conditions),
            include_age=self.age_source is not None,
            include_sex=self.sex_source is not None,
            label=Label(name="label", source=self.label_feature),
            reference_date=REFERENCE_DATE,
        )

    def patient_bundle(
        self, dataset: Dataset, rows: Sequence[int], hospital: str
    ) -> dict[str, Any]:
        """A FHIR transaction Bundle with a Patient and its coded resources for each row."""
        columns = {name: i for i, name in enumerate(dataset.feature_names)}
        entries: list[dict[str, Any]] = []
        for row in rows:
            values = dataset.features[row]
            patient_ref = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{hospital}/{row}')}"
            patient: dict[str, Any] = {
                "resourceType": "Patient",
                "identifier": [{"system": IDENTIFIER_SYSTEM, "value": patient_id(hospital, row)}],
                "active": True,
            }
            if self.age_source is not None:
                # Born on 2 July, `age` completed years before the reference date (1 January).
                age = int(values[columns[self.age_source]])
                patient["birthDate"] = dt.date(REFERENCE_DATE.year - age - 1, 7, 2).isoformat()
            if self.sex_source is not None and self.sex_codes is not None:
                patient["gender"] = self.sex_codes[float(values[columns[self.sex_source]])]
            entries.append(_entry(patient_ref, patient, "Patient", patient_id(hospital, row)))
            for coding in self.observations:
                value = float(values[columns[coding.source]])
                entries.append(_observation(coding, value, patient_ref))
            target = float(dataset.targets[row])
            if self.label_observation is not None:
                entries.append(_observation(self.label_observation, target, patient_ref))
            if self.label_condition and target == self.label_positive:
                entries.append(_condition(self.label_condition, patient_ref))
        return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def patient_id(hospital: str, row: int) -> str:
    """The hospital's medical record number of a demo row."""
    return f"{hospital}-{row:05d}"


def _entry(
    full_url: str, resource: dict[str, Any], kind: str, mrn: str | None = None
) -> dict[str, Any]:
    request: dict[str, Any] = {"method": "POST", "url": kind}
    if mrn is not None:
        request["ifNoneExist"] = f"identifier={IDENTIFIER_SYSTEM}|{mrn}"
    return {"fullUrl": full_url, "resource": resource, "request": request}


def _observation(coding: ObservationCoding, value: float, patient_ref: str) -> dict[str, Any]:
    resource = {
        "resourceType": "Observation",
        "status": "final",
        "code": {
            "coding": [{"system": coding.system, "code": coding.code, "display": coding.display}]
        },
        "subject": {"reference": patient_ref},
        "effectiveDateTime": EFFECTIVE,
        "valueQuantity": {"value": value, "unit": coding.unit, "system": UCUM, "code": coding.unit},
    }
    return _entry(f"urn:uuid:{uuid.uuid4()}", resource, "Observation")


def _condition(codes: tuple[CodedValue, ...], patient_ref: str) -> dict[str, Any]:
    resource = {
        "resourceType": "Condition",
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "confirmed",
                }
            ]
        },
        "code": {"coding": [{"system": c.system, "code": c.code} for c in codes]},
        "subject": {"reference": patient_ref},
        "recordedDate": EFFECTIVE[:10],
    }
    return _entry(f"urn:uuid:{uuid.uuid4()}", resource, "Condition")


def _local(dataset: str, source: str, unit: str = "1") -> ObservationCoding:
    system = LOCAL_SYSTEM_BASE + dataset.replace("_", "-")
    feature = column_name(source)
    return ObservationCoding(source, feature, feature.replace("_", "-"), system, unit, source)


def breast_cancer_coding(feature_names: Sequence[str]) -> TableCoding:
    """Wisconsin cytology measurements as local codes; malignancy as an ICD-10/SNOMED Condition."""
    return TableCoding(
        dataset="breast_cancer",
        observations=tuple(_local("breast_cancer", name) for name in feature_names),
        label_feature="malignant",
        label_condition=(
            CodedValue(system="http://hl7.org/fhir/sid/icd-10", code="C50"),
            CodedValue(system="http://snomed.info/sct", code="254837009"),
        ),
        label_positive=0.0,  # scikit-learn's target: 0 = malignant
    )


def diabetes_coding() -> TableCoding:
    """Diabetes (raw units): LOINC-style local codes for labs, age and sex as demographics."""
    observations = tuple(
        _local("diabetes", source, unit)
        for source, unit in (
            ("bmi", "kg/m2"),
            ("bp", "mm[Hg]"),
            ("s1", "mg/dL"),
            ("s2", "mg/dL"),
            ("s3", "mg/dL"),
            ("s4", "1"),
            ("s5", "1"),
            ("s6", "mg/dL"),
        )
    )
    progression = _local("diabetes", "progression")
    return TableCoding(
        dataset="diabetes",
        observations=observations,
        label_feature="progression",
        label_observation=progression,
        age_source="age",
        sex_source="sex",
        sex_codes={1.0: "female", 2.0: "male"},
    )


def lung_coding() -> TableCoding:
    """NCCTG lung: performance scores and weight loss; death within a year as the label."""
    observations = tuple(
        _local("lung", source, unit)
        for source, unit in (
            ("ph.ecog", "1"),
            ("ph.karno", "%"),
            ("pat.karno", "%"),
            ("wt.loss", "[lb_av]"),
        )
    )
    return TableCoding(
        dataset="lung",
        observations=observations,
        label_feature="died_within_1y",
        label_observation=_local("lung", "died_within_1y"),
        age_source="age",
        sex_source="sex",
        sex_codes={1.0: "male", 2.0: "female"},
    )
