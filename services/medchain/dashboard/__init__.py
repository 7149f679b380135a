"""The aggregator's web dashboard: studies, rounds, models and their audit, consent, the network."""
