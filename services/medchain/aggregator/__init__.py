"""The aggregator service: studies, rounds, aggregation strategies and privacy accounting."""
