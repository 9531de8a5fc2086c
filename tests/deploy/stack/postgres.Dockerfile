# PostgreSQL from Debian's package, for the docker smoke test only (compose.debian-services.yml),
# where the official postgres image cannot be pulled. Behaves as the official image does for
# what docker/compose.yml uses: POSTGRES_DB, POSTGRES_USER and POSTGRES_PASSWORD, read when the
# container first starts (never at build time), data under /var/lib/postgresql, pg_isready.
ARG DEBIAN_IMAGE=local/debian:bookworm
FROM ${DEBIAN_IMAGE}
# No cluster of Debian's own (pg_createcluster): the entrypoint makes one in the volume.
RUN mkdir -p /etc/postgresql-common/createcluster.d \
    && echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/no-main.conf \
    && apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o postgres -g postgres -m 2775 /run/postgresql \
    && install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
USER postgres
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]
