"""Where a trainer's rows come from: the hospital's ingest (cohort, features) and consent filter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import grpc
import numpy as np

from medchain.common.serde import feature_batch_from_proto, feature_spec_to_proto
from medchain.common.studies import LOINC, Features
from medchain.common.tls import TLSFiles, channel_credentials
from medchain.ingest.features import (
    CodeRef,
    ConditionFlag,
    FeatureSpec,
    LabelDefinition,
    ObservationFeature,
)
from medchain.ledger import ConsentLedger
from medchain.trainer.errors import DataSourceUnavailableError, StudyMismatchError
from medchain.trainer.objective import FloatArray
from medchain.v1 import ingest_pb2, ingest_pb2_grpc


def ingest_feature_spec(features: Features) -> FeatureSpec:
    """The ingest service's feature spec for a study's feature section."""
    missing_units = [c.name for c in features.observations if c.system != LOINC and not c.unit]
    if missing_units:
        raise StudyMismatchError(f"local-coded columns {missing_units} need a UCUM unit")
    return FeatureSpec(
        observations=tuple(
            ObservationFeature(c.name, c.code, c.system, c.unit if c.system != LOINC else "")
            for c in features.observations
        ),
        conditions=tuple(
            ConditionFlag(c.name, tuple(CodeRef(v.system, v.code) for v in c.codes))
            for c in features.conditions
        ),
        include_age=features.include_age,
        include_sex=features.include_sex,
        label=LabelDefinition(features.label.name, features.label.source, features.label.threshold),
        reference_date=features.reference_date,
    )


@dataclass(frozen=True)
class Rows:
    """Feature matrix and labels of some patients, in the order of `pseudonyms`."""

    pseudonyms: tuple[str, ...]
    columns: tuple[str, ...]
    features: FloatArray
    labels: FloatArray


class CohortSource(Protocol):
    """The hospital's EMR feature store."""

    def cohort(self, features: Features) -> list[str]: ...

    def rows(self, features: Features, pseudonyms: list[str]) -> Rows: ...


class ConsentGate(Protocol):
    """Which patients' consent permits a study now, and the ledger height that answer reflects."""

    def permitted(self, study_id: str, pseudonyms: list[str]) -> tuple[list[str], int]: ...


def _channel(address: str, tls: TLSFiles | None) -> grpc.Channel:
    if tls is None:
        return grpc.insecure_channel(address)
    return grpc.secure_channel(address, channel_credentials(tls))


class IngestCohortSource:
    """The ingest service's gRPC API."""

    def __init__(self, address: str, tls: TLSFiles | None, timeout: float = 60.0) -> None:
        self._stub = ingest_pb2_grpc.IngestServiceStub(_channel(address, tls))
        self._address = address
        self._timeout = timeout

    def cohort(self, features: Features) -> list[str]:
        spec = feature_spec_to_proto(ingest_feature_spec(features))
        try:
            reply = self._stub.ListCohort(
                ingest_pb2.CohortRequest(spec=spec), timeout=self._timeout
            )
        except grpc.RpcError as exc:
            raise DataSourceUnavailableError(f"ingest at {self._address}: {exc}") from exc
        return list(reply.pseudonyms)

    def rows(self, features: Features, pseudonyms: list[str]) -> Rows:
        spec = ingest_feature_spec(features)
        request = ingest_pb2.FeatureRowsRequest(
            spec=feature_spec_to_proto(spec), pseudonyms=pseudonyms
        )
        ids: list[str] = []
        blocks: list[FloatArray] = []
        labels: list[FloatArray] = []
        try:
            for message in self._stub.StreamFeatures(request, timeout=self._timeout):
                batch = feature_batch_from_proto(message)
                ids.extend(batch.pseudonyms)
                blocks.append(np.stack([t.to_numpy() for t in batch.features], axis=1))
                labels.append(batch.label.to_numpy())
        except grpc.RpcError as exc:
            raise DataSourceUnavailableError(f"ingest at {self._address}: {exc}") from exc
        width = len(spec.columns)
        return Rows(
            pseudonyms=tuple(ids),
            columns=spec.columns,
            features=np.concatenate(blocks) if blocks else np.zeros((0, width)),
            labels=np.concatenate(labels) if labels else np.zeros(0),
        )


class LedgerConsentGate:
    """Ask the ledger's FilterPermitted directly (the consent service answers the same, cached)."""

    def __init__(self, consents: ConsentLedger, msp_id: str, chunk: int = 5000) -> None:
        self._consents = consents
        self._msp_id = msp_id
        self._chunk = chunk

    def permitted(self, study_id: str, pseudonyms: list[str]) -> tuple[list[str], int]:
        allowed: list[str] = []
        for start in range(0, len(pseudonyms), self._chunk):
            part = pseudonyms[start : start + self._chunk]
            allowed += self._consents.filter_permitted(self._msp_id, study_id, part).permitted
        return allowed, 0
