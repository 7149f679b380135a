"""From a request body to stored documents and pending changes, in one database transaction.

Every document is validated completely before anything is written, so bad input changes nothing.
Each stored document keeps its canonical JSON; its SHA-256 is the `documentHash` on the ledger, so
anyone holding the document can check it against the ledger.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session, sessionmaker

from medchain.common.db import transaction
from medchain.common.fhir import IssueType, error
from medchain.common.hashing import canonical_json, sha256_hex
from medchain.consent.changes import EPOCH, NewChange
from medchain.consent.compact import ConsentBatchIn
from medchain.consent.errors import InvalidConsentError, PayloadTooLargeError, UnparseableBodyError
from medchain.consent.fhir_consent import PatientIdentifier, parse_consent
from medchain.consent.store import ConsentStore
from medchain.consent.tables import to_db

JSON = dict[str, Any]
Pseudonymize = Callable[[str, str], str]
_BATCH = TypeAdapter(ConsentBatchIn)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A stored request: its submission, and the id of each document in order."""

    submission_id: str
    document_ids: tuple[str, ...]
    change_count: int


@dataclass(frozen=True, slots=True)
class Document:
    """A document to store: its kind and content (canonical JSON is hashed)."""

    kind: str
    content: JSON


def parse_json_object(body: bytes) -> JSON:
    """A JSON object, or UnparseableBodyError (HTTP 400)."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnparseableBodyError(f"body is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise UnparseableBodyError("body is not a JSON object")
    return document


def fhir_documents(body: bytes, pseudonymize: Pseudonymize) -> tuple[Document, list[NewChange]]:
    """A FHIR Consent as one document and one record change per study or purpose it decides."""
    document = parse_json_object(body)
    parsed = parse_consent(document)
    pseudonym = _pseudonym(parsed.patient, pseudonymize)
    changes = [
        NewChange(
            pseudonym, d.study, "record", d.decision, d.validity.start or EPOCH, d.validity.end, 0
        )
        for d in parsed.decisions
    ]
    return Document("fhir", document), changes


def compact_documents(
    body: bytes, pseudonymize: Pseudonymize, limit: int
) -> tuple[list[Document], list[NewChange]]:
    """Each item of a compact batch as its own document and record change."""
    try:
        batch = _BATCH.validate_json(body)
    except PydanticValidationError as exc:
        issues = [
            error(IssueType.INVALID, str(e["msg"]), _json_path(e["loc"]))
            for e in exc.errors(include_url=False)
        ]
        raise InvalidConsentError(f"{len(issues)} problem(s); nothing recorded", issues) from exc
    if len(batch.consents) > limit:
        raise PayloadTooLargeError(f"{len(batch.consents)} consents exceed the limit of {limit}")
    documents, changes = [], []
    for i, item in enumerate(batch.consents):
        validity = item.validity()
        pseudonym = _pseudonym(item.identifier, pseudonymize)
        documents.append(Document("compact", item.model_dump(mode="json", exclude_none=True)))
        changes.append(
            NewChange(
                pseudonym,
                item.key_study,
                "record",
                item.decision,
                validity.start or EPOCH,
                validity.end,
                i,
            )
        )
    return documents, changes


def revocation_document(
    org: str, pseudonym: str, study: str, client: str, now: dt.datetime
) -> Document:
    """The record of a revocation request: what is revoked, by which client, when."""
    return Document(
        "revocation",
        {
            "action": "revoke",
            "org": org,
            "pseudonym": pseudonym,
            "study": study,
            "client": client,
            "requestedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )


def _pseudonym(patient: PatientIdentifier, pseudonymize: Pseudonymize) -> str:
    return pseudonymize(patient.system, patient.value)


def _json_path(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def store_request(
    store: ConsentStore,
    sessions: sessionmaker[Session],
    *,
    kind: str,
    org: str,
    client: str,
    documents: Sequence[Document],
    changes: Sequence[NewChange],
    now: dt.datetime,
) -> Accepted:
    """Store the documents and their pending changes atomically."""
    submission_id = uuid.uuid4().hex
    # Ids within a submission extend its random prefix (96 bits) with a counter: unique, and
    # cheaper than a random id for each of 10,000 rows.
    prefix = submission_id[:24]
    document_ids = [f"{prefix}{i:08x}" for i in range(len(documents))]
    rows, hashes = [], []
    for document_id, document in zip(document_ids, documents, strict=True):
        content = dict(document.content)
        if document.kind == "fhir":
            content["id"] = document_id
        text = canonical_json(content)
        hashes.append(sha256_hex(text))
        rows.append(
            {
                "id": document_id,
                "submission_id": submission_id,
                "kind": document.kind,
                "sha256": hashes[-1],
                "content": text.decode("utf-8"),
            }
        )
    created = to_db(now)
    change_rows = [
        {
            "change_id": f"{prefix}{position:08x}",
            "submission_id": submission_id,
            "position": position,
            "document_id": document_ids[change.document],
            "org": org,
            "pseudonym": change.pseudonym,
            "study": change.study,
            "action": change.action,
            "decision": change.decision,
            "valid_from": to_db(change.valid_from),
            "valid_until": to_db(change.valid_until),
            "document_hash": hashes[change.document],
            "state": "pending",
            "attempts": 0,
            "doubt_checks": 0,
            "created_at": created,
        }
        for position, change in enumerate(changes)
    ]
    submission = {
        "id": submission_id,
        "kind": kind,
        "client": client[:256],
        "received_at": created,
        "change_count": len(change_rows),
    }
    with transaction(sessions) as session:
        store.add_submission(session, submission, rows, change_rows)
    return Accepted(submission_id, tuple(document_ids), len(change_rows))
