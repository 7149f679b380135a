"""Unit tests of the aggregator package."""
