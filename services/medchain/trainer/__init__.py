"""The trainer service: local training from the global model on consented patients."""
