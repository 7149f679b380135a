"""Code systems the service recognises, FHIR status bindings, and the LOINC feature catalogue.

The catalogue lists every LOINC code the service can turn into a feature, with its canonical UCUM
unit and the other UCUM units it converts from. An Observation with a catalogued code must carry a
`valueQuantity` in one of those units (UCUM system), or it is rejected: a feature in the wrong unit
is silently wrong, which is worse than missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"

#: Systems accepted in a resource's `code` (and a MedicationRequest's medication) without being
#: declared by the hospital in `MEDCHAIN_INGEST_LOCAL_CODE_SYSTEMS`.
RECOGNISED_CODE_SYSTEMS = frozenset(
    {
        LOINC,
        SNOMED,
        ICD10,
        ICD10_CM,
        RXNORM,
        "http://hl7.org/fhir/sid/ndc",
        "http://www.whocc.no/atc",
        "http://hl7.org/fhir/sid/cvx",
        "http://terminology.hl7.org/CodeSystem/v2-0074",
        "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "http://terminology.hl7.org/CodeSystem/data-absent-reason",
    }
)

#: ICD-10 flavours: their codes match descendants by prefix (E11 covers E11.9).
ICD10_SYSTEMS = frozenset({ICD10, ICD10_CM})

#: Required code bindings that the `fhir.resources` models do not enforce: FHIRPath -> codes.
REQUIRED_BINDINGS: dict[str, frozenset[str]] = {
    "Observation.status": frozenset(
        {"registered", "preliminary", "final", "amended", "corrected", "cancelled"}
        | {"entered-in-error", "unknown"}
    ),
    "Encounter.status": frozenset(
        {"planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled"}
        | {"entered-in-error", "unknown"}
    ),
    "MedicationRequest.status": frozenset(
        {"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft"}
        | {"unknown"}
    ),
    "MedicationRequest.intent": frozenset(
        {"proposal", "plan", "order", "original-order", "reflex-order", "filler-order"}
        | {"instance-order", "option"}
    ),
    "Patient.gender": frozenset({"male", "female", "other", "unknown"}),
}

#: Required bindings on CodeableConcepts: FHIRPath -> (system, codes).
REQUIRED_CONCEPT_BINDINGS: dict[str, tuple[str, frozenset[str]]] = {
    "Condition.clinicalStatus": (
        "http://terminology.hl7.org/CodeSystem/condition-clinical",
        frozenset({"active", "recurrence", "relapse", "inactive", "remission", "resolved"}),
    ),
    "Condition.verificationStatus": (
        "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        frozenset(
            {"unconfirmed", "provisional", "differential", "confirmed", "refuted"}
            | {"entered-in-error"}
        ),
    ),
}

#: Observation statuses whose value must not be used as a feature.
UNUSABLE_OBSERVATION_STATUSES = frozenset({"cancelled", "entered-in-error", "registered"})


@dataclass(frozen=True)
class LoincFeature:
    """A LOINC code the service can pivot into a feature column."""

    code: str
    name: str
    unit: str
    conversions: dict[str, float] = field(default_factory=dict)

    def accepted_units(self) -> frozenset[str]:
        return frozenset({self.unit, *self.conversions})

    def to_canonical(self, value: float, unit: str) -> float:
        """The value in the canonical unit; the caller has checked the unit is accepted."""
        return value if unit == self.unit else value * self.conversions[unit]


_MG_DL_GLUCOSE = {"mmol/L": 18.016}
_MG_DL_CHOLESTEROL = {"mmol/L": 38.67}
CATALOGUE: dict[str, LoincFeature] = {
    f.code: f
    for f in (
        LoincFeature("2345-7", "glucose", "mg/dL", _MG_DL_GLUCOSE),
        LoincFeature("4548-4", "hba1c", "%"),
        LoincFeature("2160-0", "creatinine", "mg/dL", {"umol/L": 1 / 88.42}),
        LoincFeature("98979-8", "egfr", "mL/min/{1.73_m2}"),
        LoincFeature("2093-3", "cholesterol", "mg/dL", _MG_DL_CHOLESTEROL),
        LoincFeature("2085-9", "hdl", "mg/dL", _MG_DL_CHOLESTEROL),
        LoincFeature("13457-7", "ldl", "mg/dL", _MG_DL_CHOLESTEROL),
        LoincFeature("2571-8", "triglycerides", "mg/dL", {"mmol/L": 88.57}),
        LoincFeature("2951-2", "sodium", "mmol/L", {"meq/L": 1.0}),
        LoincFeature("2823-3", "potassium", "mmol/L", {"meq/L": 1.0}),
        LoincFeature("2075-0", "chloride", "mmol/L", {"meq/L": 1.0}),
        LoincFeature("2028-9", "co2", "mmol/L", {"meq/L": 1.0}),
        LoincFeature("17861-6", "calcium", "mg/dL", {"mmol/L": 4.008}),
        LoincFeature("1751-7", "albumin", "g/dL", {"g/L": 0.1}),
        LoincFeature("3094-0", "bun", "mg/dL", {"mmol/L": 2.801}),
        LoincFeature("1742-6", "alt", "U/L"),
        LoincFeature("1920-8", "ast", "U/L"),
        LoincFeature("6768-6", "alp", "U/L"),
        LoincFeature("1975-2", "bilirubin", "mg/dL", {"umol/L": 1 / 17.1}),
        LoincFeature("718-7", "hemoglobin", "g/dL", {"g/L": 0.1}),
        LoincFeature("4544-3", "hematocrit", "%"),
        LoincFeature("789-8", "erythrocytes", "10*6/uL", {"10*12/L": 1.0}),
        LoincFeature("6690-2", "leukocytes", "10*3/uL", {"10*9/L": 1.0}),
        LoincFeature("777-3", "platelets", "10*3/uL", {"10*9/L": 1.0}),
        LoincFeature("9318-7", "uacr", "mg/g"),
        LoincFeature("14957-5", "microalbumin", "mg/dL", {"mg/L": 0.1}),
        LoincFeature("8302-2", "height", "cm", {"m": 100.0, "[in_i]": 2.54}),
        LoincFeature("29463-7", "weight", "kg", {"g": 0.001, "[lb_av]": 0.45359237}),
        LoincFeature("39156-5", "bmi", "kg/m2"),
        LoincFeature("8867-4", "heart_rate", "/min"),
        LoincFeature("9279-1", "respiratory_rate", "/min"),
        LoincFeature("8310-5", "temperature", "Cel"),
        LoincFeature("59408-5", "spo2", "%"),
        LoincFeature("2708-6", "sao2", "%"),
        LoincFeature("8480-6", "systolic_bp", "mm[Hg]"),
        LoincFeature("8462-4", "diastolic_bp", "mm[Hg]"),
    )
}
