# Redis from Debian's redis-server package, for the docker smoke test only
# (compose.debian-services.yml), where the official redis image cannot be pulled. The
# command line of docker/compose.yml (password, append-only file) is given as it is.
ARG DEBIAN_IMAGE=local/debian:bookworm
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server redis-tools \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o redis -g redis -m 0750 /data
WORKDIR /data
USER redis
CMD ["redis-server"]
