"""Generated gRPC and protobuf code for medchain.v1; regenerate with `make protos`."""
