"""The consent service: consents in (FHIR or compact), recorded on the ledger, filters out."""
