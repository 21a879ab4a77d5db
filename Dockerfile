# ingopay-emulator: a local, offline emulator of Ingo Payments' IngoPay API.
#
#   docker build -t ingopay-emulator .        (Docker 25 or later: the HEALTHCHECK uses --start-interval)
#   docker run --rm -p 8080:8080 ingopay-emulator
#
# Configure it with the same INGOPAY_EMULATOR_* variables as the command line (`docker run -e ...`), or pass
# flags after the image name (`docker run ingopay-emulator --rate-limit 0`). State is kept in SQLite under
# /data (a volume); your scenario files go under /scenarios (a volume, loaded at start). Change the port with
# INGOPAY_EMULATOR_PORT, not --port, so that the health check follows it.

# -- build: install the package from the source tree into a virtual environment ---------------------------
FROM python:3.11-slim AS build

WORKDIR /src
# .dockerignore lets only pyproject.toml, README.md, LICENSE, emulator/ and scenarios/ into the context.
COPY . .
# The venv has no pip of its own; the base image's pip installs into it (and is left behind with this stage).
# ".[fast]" is this source tree with its uvloop extra, not a registry package to pin (pyproject.toml bounds versions).
# Then everything in the venv is compiled to bytecode here, whatever the pip settings (PIP_NO_COMPILE), since the
# runtime never writes it (PYTHONDONTWRITEBYTECODE): each start imports compiled modules.
# hadolint ignore=DL3013
RUN python -m venv --without-pip /opt/venv \
    && pip --python /opt/venv/bin/python install --no-cache-dir --disable-pip-version-check ".[fast]" \
    && /opt/venv/bin/python -m compileall -q -j 0 /opt/venv/lib

# -- runtime --------------------------------------------------------------------------------------------
FROM python:3.11-slim

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="ingopay-emulator" \
      org.opencontainers.image.description="A local, offline emulator of Ingo Payments' IngoPay API (HMAC-signed gateway, sessions) for integration tests and development" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="ingopay-emulator developers" \
      org.opencontainers.image.documentation="README.md in the source tree" \
      org.opencontainers.image.base.name="python:3.11-slim"

# A fixed, non-root user; /data belongs to it so a fresh named volume is writable.
RUN groupadd --system --gid 10001 emulator \
    && useradd --system --uid 10001 --gid emulator --no-log-init --no-create-home \
               --home-dir /nonexistent --shell /usr/sbin/nologin emulator \
    && mkdir -p /data /scenarios \
    && chown emulator:emulator /data

COPY --from=build /opt/venv /opt/venv

ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    INGOPAY_EMULATOR_HOST=0.0.0.0 \
    INGOPAY_EMULATOR_PORT=8080 \
    INGOPAY_EMULATOR_DATA_DIR=/data \
    INGOPAY_EMULATOR_SCENARIOS=/scenarios

USER 10001:10001
WORKDIR /data
# /data: durable state (tokens, transactions, sessions) in SQLite; mount a named volume to keep it.
# /scenarios: your scenario files, loaded at start (INGOPAY_EMULATOR_SCENARIOS; empty is fine).
VOLUME ["/data", "/scenarios"]
EXPOSE 8080

# `healthcheck` reads the same INGOPAY_EMULATOR_* variables, so it follows the port and TLS (with
# INGOPAY_EMULATOR_TLS=true it probes https and trusts the CA the emulator made in /data/tls). While starting it
# probes every half second, so the container is healthy about half a second after the emulator's ready line; then
# every 30 s. --start-interval needs Docker 25 or later to build (older ones: "Unknown flag: start-interval").
HEALTHCHECK --start-period=60s --start-interval=0.5s --interval=30s --timeout=3s --retries=3 \
    CMD ["ingopay-emulator", "healthcheck"]

# The emulator is PID 1 (exec form, no shell): it handles SIGTERM itself and stops within a few seconds.
STOPSIGNAL SIGTERM
ENTRYPOINT ["ingopay-emulator"]
CMD ["serve"]
