"""Tabular exports to a FHIR transaction Bundle, by a fixed column grammar (docs/ingest.md).

    patient_id              required; the identifier value (its system comes with the upload)
    birth_date, sex         optional demographics (YYYY-MM-DD; male|female|other|unknown)
    date                    when the row's measurements were taken; required with LOINC columns
    loinc:<code>[<ucum>]    a numeric result of a catalogued LOINC code in a UCUM unit
    icd10:<code>, icd10cm:<code>, snomed:<code>
                            condition flags: 1/true/yes records the Condition, 0/false/no/empty not

Ids are derived from the pseudonym, so importing the same file twice updates, never duplicates.
"""

from __future__ import annotations

import csv
import io
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from medchain.common.fhir import Issue, IssueType, error
from medchain.ingest.clinical import JSON, parse_fhir_date, parse_fhir_datetime
from medchain.ingest.errors import InvalidContentError, UnparseableBodyError
from medchain.ingest.terminology import CATALOGUE, ICD10, ICD10_CM, LOINC, SNOMED, UCUM

_LOINC_COLUMN = re.compile(r"^loinc:([0-9]{1,7}-[0-9])\[(.+)\]$")
_CONDITION_COLUMN = re.compile(r"^(icd10|icd10cm|snomed):([A-Za-z0-9.]{1,32})$")
CONDITION_SYSTEMS = {"icd10": ICD10, "icd10cm": ICD10_CM, "snomed": SNOMED}
DEMOGRAPHIC_COLUMNS = ("patient_id", "birth_date", "sex", "date")
_TRUE, _FALSE = {"1", "true", "yes"}, {"0", "false", "no", ""}
_NAMESPACE = uuid.UUID("5d0b7f0e-6f1c-4f5e-9a43-0c1a8f0e2b11")


@dataclass(frozen=True)
class CsvMapping:
    """How to read an upload: the identifier system of `patient_id`, and the delimiter."""

    identifier_system: str
    delimiter: str = ","


@dataclass(frozen=True)
class _Column:
    name: str
    kind: str
    system: str
    code: str
    unit: str = ""


def _columns(header: list[str]) -> tuple[list[_Column], list[Issue]]:
    columns, issues = [], []
    for name in header:
        loinc, condition = _LOINC_COLUMN.match(name), _CONDITION_COLUMN.match(name)
        if name in DEMOGRAPHIC_COLUMNS:
            columns.append(_Column(name, name, "", ""))
        elif loinc and loinc.group(1) in CATALOGUE:
            code, unit = loinc.groups()
            if unit not in CATALOGUE[code].accepted_units():
                accepted = sorted(CATALOGUE[code].accepted_units())
                issues.append(
                    error(
                        IssueType.VALUE,
                        f"unit {unit!r} of LOINC {code} is not one of {accepted}",
                        f"csv.header[{name!r}]",
                    )
                )
            columns.append(_Column(name, "loinc", LOINC, code, unit))
        elif condition:
            columns.append(
                _Column(
                    name, "condition", CONDITION_SYSTEMS[condition.group(1)], condition.group(2)
                )
            )
        else:
            issues.append(
                error(
                    IssueType.NOT_SUPPORTED,
                    f"column {name!r} is not in the CSV column grammar (docs/ingest.md)",
                    f"csv.header[{name!r}]",
                )
            )
    if "patient_id" not in header:
        issues.append(error(IssueType.REQUIRED, "a patient_id column is required", "csv.header"))
    if any(c.kind == "loinc" for c in columns) and "date" not in header:
        issues.append(error(IssueType.REQUIRED, "LOINC columns need a date column", "csv.header"))
    if len(set(header)) != len(header):
        issues.append(error(IssueType.DUPLICATE, "column names repeat", "csv.header"))
    return columns, issues


def _id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "|".join(parts)))


def csv_to_bundle(
    text: bytes, mapping: CsvMapping, pseudonymize: Callable[[str, str], str]
) -> JSON:
    """A transaction Bundle with one Patient per patient_id and one Observation or Condition per
    filled cell; raises with every problem found, named by line and column."""
    if "|" in mapping.identifier_system:
        raise InvalidContentError(
            "identifier_system must not contain '|'",
            [error(IssueType.VALUE, "contains '|'", "csv.identifier_system")],
        )
    try:
        rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig")), delimiter=mapping.delimiter))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UnparseableBodyError(f"not a UTF-8 CSV file: {exc}") from exc
    if not rows:
        raise UnparseableBodyError("the CSV file is empty")
    columns, issues = _columns([h.strip() for h in rows[0]])
    entries: dict[str, JSON] = {}
    patients: dict[str, JSON] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            issues.append(
                error(
                    IssueType.STRUCTURE,
                    f"{len(row)} cells for {len(columns)} columns",
                    f"csv.line[{line}]",
                )
            )
            continue
        cells = {c.name: v.strip() for c, v in zip(columns, row, strict=True)}
        issues += _row(line, cells, columns, mapping, pseudonymize, patients, entries)
    if issues:
        raise InvalidContentError(
            f"{len(issues)} problem(s) in the CSV file; nothing was stored", issues
        )
    ordered = list(patients.values()) + list(entries.values())
    return {"resourceType": "Bundle", "type": "transaction", "entry": ordered}


def _row(
    line: int,
    cells: dict[str, str],
    columns: list[_Column],
    mapping: CsvMapping,
    pseudonymize: Callable[[str, str], str],
    patients: dict[str, JSON],
    entries: dict[str, JSON],
) -> list[Issue]:
    where = f"csv.line[{line}]"
    if not cells.get("patient_id"):
        return [error(IssueType.REQUIRED, "patient_id is empty", f"{where}.patient_id")]
    issues: list[Issue] = []
    pseudonym = pseudonymize(mapping.identifier_system, cells["patient_id"])
    patient_url = f"urn:uuid:{_id('patient', pseudonym)}"
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": mapping.identifier_system, "value": cells["patient_id"]}],
    }
    try:
        if cells.get("birth_date"):
            patient["birthDate"] = parse_fhir_date(cells["birth_date"]).isoformat()
        if cells.get("date"):
            parse_fhir_datetime(cells["date"])
    except ValueError as exc:
        issues.append(error(IssueType.VALUE, str(exc), where))
    if cells.get("sex"):
        patient["gender"] = cells["sex"].lower()
    previous = patients.get(pseudonym)
    if previous and previous["resource"] != patient:
        issues.append(
            error(
                IssueType.CONFLICT,
                "demographics differ from an earlier line of this patient",
                where,
            )
        )
    patients[pseudonym] = {
        "fullUrl": patient_url,
        "resource": patient,
        "request": {"method": "POST", "url": "Patient"},
    }
    for column in columns:
        value = cells[column.name]
        if column.kind == "loinc" and value:
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                issues.append(
                    error(IssueType.VALUE, f"{value!r} is not a number", f"{where}.{column.name}")
                )
                continue
            rid = _id("obs", pseudonym, column.code, cells.get("date", ""))
            entries[rid] = _put(
                "Observation",
                rid,
                {
                    "status": "final",
                    "code": {"coding": [{"system": LOINC, "code": column.code}]},
                    "subject": {"reference": patient_url},
                    "effectiveDateTime": cells.get("date"),
                    "valueQuantity": {
                        "value": number,
                        "unit": column.unit,
                        "system": UCUM,
                        "code": column.unit,
                    },
                },
            )
        elif column.kind == "condition":
            if value.lower() not in _TRUE | _FALSE:
                issues.append(
                    error(
                        IssueType.VALUE,
                        f"{value!r} is not a flag (1/0, true/false, yes/no)",
                        f"{where}.{column.name}",
                    )
                )
            elif value.lower() in _TRUE:
                rid = _id("condition", pseudonym, column.system, column.code)
                entries[rid] = _put(
                    "Condition",
                    rid,
                    {
                        "code": {"coding": [{"system": column.system, "code": column.code}]},
                        "subject": {"reference": patient_url},
                    },
                )
    return issues


def _put(resource_type: str, rid: str, body: JSON) -> JSON:
    resource = {"resourceType": resource_type, "id": rid, **body}
    return {
        "fullUrl": f"urn:uuid:{rid}",
        "resource": resource,
        "request": {"method": "PUT", "url": f"{resource_type}/{rid}"},
    }
