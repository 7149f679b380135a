"""`medchain demo`: real medical tables as FHIR, run through the whole federation."""
