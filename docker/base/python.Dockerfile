# Python 3.11 on Debian bookworm without a registry: Debian's own python3 (3.11) on the base
# that docker/build-base.sh made with debootstrap. What the images need of python:3.11-slim:
# python3 with venv, CA certificates, and tini (PID 1 of every Sightline container).
ARG DEBIAN_IMAGE=local/debian:bookworm
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates tini \
    && rm -rf /var/lib/apt/lists/*
