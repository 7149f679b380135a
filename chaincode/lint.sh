#!/usr/bin/env bash
# Static checks for the chaincode module: go vet and staticcheck (installed on first use).
set -euo pipefail
cd "$(dirname "$0")"

STATICCHECK_VERSION="${STATICCHECK_VERSION:-v0.6.1}" # 2025.1.1; builds and runs with Go 1.26
GOBIN_DIR="$(go env GOPATH | cut -d: -f1)/bin"
STATICCHECK="$GOBIN_DIR/staticcheck"

if ! "$STATICCHECK" -version 2>/dev/null | grep -qF "(${STATICCHECK_VERSION#v})"; then
	echo "lint.sh: installing staticcheck $STATICCHECK_VERSION into $GOBIN_DIR" >&2
	GOBIN="$GOBIN_DIR" go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi

unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
	echo "lint.sh: gofmt needed on:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
"$STATICCHECK" ./...
echo "lint.sh: gofmt, go vet and $("$STATICCHECK" -version) clean"
