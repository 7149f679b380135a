# One image per MedChain Python service (ingest, consent, trainer, aggregator), built from the
# repository root:
#
#   docker build -f docker/python.Dockerfile --build-arg SERVICE=ingest \
#     -t ghcr.io/medchain/ingest:0.1.0 .
#
# The image runs `python -m medchain.<SERVICE>` as uid 10001 and writes only to MEDCHAIN_HOME
# (/var/lib/medchain, a volume) and /tmp, so it runs with a read-only root filesystem.
# Base image pinned by exact tag; pin its digest as well when you build (docker buildx imagetools
# inspect python:3.11.13-slim-bookworm) and pass it as --build-arg PYTHON_IMAGE=...@sha256:...

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
RUN case "${SERVICE}" in ingest|consent|trainer|aggregator) ;; \
      *) echo "build with --build-arg SERVICE=ingest|consent|trainer|aggregator" >&2; exit 1 ;; \
    esac
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/medchain
WORKDIR /src
# Dependencies first (pinned in pyproject.toml), so code changes do not reinstall them.
COPY pyproject.toml README.md ./
COPY services ./services
RUN /opt/medchain/bin/pip install --no-compile . \
 && printf '#!/bin/sh\nexec /opt/medchain/bin/python -m medchain.%s "$@"\n' "${SERVICE}" \
      > /opt/medchain/bin/medchain-service \
 && chmod 0555 /opt/medchain/bin/medchain-service

FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
LABEL org.opencontainers.image.title="medchain-${SERVICE}" \
      org.opencontainers.image.source="https://github.com/medchain/medchain" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 medchain \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /var/lib/medchain --shell /usr/sbin/nologin medchain
COPY --from=build /opt/medchain /opt/medchain
ENV PATH=/opt/medchain/bin:/usr/local/bin:/usr/bin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MEDCHAIN_HOME=/var/lib/medchain \
    MEDCHAIN_ENVIRONMENT=production
USER 10001:10001
WORKDIR /var/lib/medchain
EXPOSE 8080 50051
ENTRYPOINT ["/opt/medchain/bin/medchain-service"]
