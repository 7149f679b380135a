"""Shared building blocks of every MedChain service: settings, logging, storage, hashing, errors."""
