"""The `medchain` command line."""
