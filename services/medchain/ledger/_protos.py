"""The one door to Fabric's generated protobuf modules (and `google.rpc`), which lack type stubs.

`fabric_protos` builds its message classes at import time, so mypy cannot see them; loading the
modules through `importlib` types them as plain modules whose attributes are `Any`. Only
`transaction.py`, `_translate.py` and the event code touch these messages; everything they hand to
the rest of the package is a plain Python value.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def _load(name: str, package: str = "fabric_protos") -> ModuleType:
    return importlib.import_module(f"{package}.{name}")


common_pb2 = _load("common.common_pb2")
gateway_pb2 = _load("gateway.gateway_pb2")
identities_pb2 = _load("msp.identities_pb2")
ab_pb2 = _load("orderer.ab_pb2")
chaincode_pb2 = _load("peer.chaincode_pb2")
chaincode_event_pb2 = _load("peer.chaincode_event_pb2")
proposal_pb2 = _load("peer.proposal_pb2")
proposal_response_pb2 = _load("peer.proposal_response_pb2")
transaction_pb2 = _load("peer.transaction_pb2")
status_pb2 = _load("rpc.status_pb2", package="google")
gateway_pb2_grpc = _load("gateway.gateway_pb2_grpc")
