# The MedChain chaincode server (chaincode as a service), built from the repository root:
#
#   docker build -f docker/chaincode.Dockerfile -t ghcr.io/medchain/chaincode:0.1.0 .
#
# A static binary on an empty base image, run as uid 10001. It reads CHAINCODE_ID,
# CHAINCODE_SERVER_ADDRESS and the optional CHAINCODE_TLS_* variables.
# Base image pinned by exact tag (Go as in chaincode/go.mod); pin its digest as well when you build
# and pass it as --build-arg GO_IMAGE=golang:1.26.8-bookworm@sha256:...

ARG GO_IMAGE=golang:1.26.8-bookworm

FROM ${GO_IMAGE} AS build
ENV CGO_ENABLED=0 \
    GOFLAGS=-buildvcs=false
WORKDIR /src
COPY chaincode/go.mod chaincode/go.sum ./
RUN go mod download
COPY chaincode/ ./
RUN go vet ./... \
 && go build -trimpath -ldflags="-s -w" -o /out/medchain-chaincode ./cmd/medchain

FROM scratch AS runtime
LABEL org.opencontainers.image.title="medchain-chaincode" \
      org.opencontainers.image.source="https://github.com/medchain/medchain" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/medchain-chaincode /medchain-chaincode
USER 10001:10001
EXPOSE 9999
ENTRYPOINT ["/medchain-chaincode"]
