"""Unit tests of the trainer package."""
