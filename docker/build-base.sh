#!/bin/sh
# Base images without a registry (Docker Hub unreachable, closed networks):
#
#   docker/build-base.sh    makes, when missing,
#     local/debian:bookworm        debootstrap --variant=minbase bookworm, imported
#     local/python:3.11-bookworm   that + Debian's python3 (3.11), venv, tini (base/python.Dockerfile)
#
# An image already there is kept (`docker image inspect`): the debootstrap runs once per
# Docker host. Remove the images to make them again. Needs root and debootstrap (Debian's
# package); the packages come from DEBIAN_MIRROR (default: the one apt uses here).
set -eu
cd "$(dirname "$0")"
DEBIAN_IMAGE="${DEBIAN_IMAGE:-local/debian:bookworm}"
PYTHON_BASE_IMAGE="${PYTHON_BASE_IMAGE:-local/python:3.11-bookworm}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-$(
  sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources \
    2>/dev/null | head -n1
)}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

have() { docker image inspect "$1" >/dev/null 2>&1; }

if have "$DEBIAN_IMAGE"; then
  echo "base: $DEBIAN_IMAGE is there"
else
  command -v debootstrap >/dev/null || {
    echo "base: debootstrap is missing (apt-get install debootstrap)" >&2
    exit 1
  }
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' EXIT
  echo "base: debootstrap --variant=minbase bookworm from $DEBIAN_MIRROR"
  debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" >"$rootfs.log" 2>&1 || {
    tail -n 20 "$rootfs.log" >&2
    exit 1
  }
  rm -f "$rootfs.log"
  # Security updates too, as in Debian's own images; no package lists or caches kept.
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s-security bookworm-security main\n' \
    "$DEBIAN_MIRROR" "$DEBIAN_MIRROR" "$DEBIAN_MIRROR" >"$rootfs/etc/apt/sources.list"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -c . | docker import --change 'CMD ["bash"]' - "$DEBIAN_IMAGE"
fi

if have "$PYTHON_BASE_IMAGE"; then
  echo "base: $PYTHON_BASE_IMAGE is there"
else
  docker build -q -f base/python.Dockerfile --build-arg DEBIAN_IMAGE="$DEBIAN_IMAGE" \
    -t "$PYTHON_BASE_IMAGE" base
fi
