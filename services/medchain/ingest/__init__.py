"""The EMR ingestion service: FHIR R4 in, pseudonymized per-patient feature table out."""
