"""Unit tests of the dashboard package."""
