"""Generated gRPC code for medchain.v1; regenerate with `make protos`."""
