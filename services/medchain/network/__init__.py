"""Orchestration of a real Hyperledger Fabric network as native processes on one machine."""
