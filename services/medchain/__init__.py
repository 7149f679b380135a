"""MedChain: federated learning across hospitals with consent and lineage on a Fabric ledger."""

__version__ = "0.1.0"
