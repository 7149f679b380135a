"""The consent service's gRPC filter, as the trainer's consent gate."""

from __future__ import annotations

import grpc

from medchain.common.tls import TLSFiles, channel_credentials
from medchain.trainer.errors import DataSourceUnavailableError
from medchain.v1 import consent_pb2, consent_pb2_grpc


class ConsentServiceGate:
    """Which patients may train a study now, per the hospital's consent service (ledger-backed)."""

    def __init__(self, address: str, tls: TLSFiles | None, timeout: float = 60.0) -> None:
        channel = (
            grpc.secure_channel(address, channel_credentials(tls))
            if tls
            else grpc.insecure_channel(address)
        )
        self._stub = consent_pb2_grpc.ConsentServiceStub(channel)
        self._address = address
        self._timeout = timeout

    def permitted(self, study_id: str, pseudonyms: list[str]) -> tuple[list[str], int]:
        request = consent_pb2.FilterPermittedRequest(study=study_id, pseudonyms=pseudonyms)
        try:
            reply = self._stub.FilterPermitted(request, timeout=self._timeout)
        except grpc.RpcError as exc:
            raise DataSourceUnavailableError(f"consent at {self._address}: {exc}") from exc
        return list(reply.permitted), int(reply.block_height)
