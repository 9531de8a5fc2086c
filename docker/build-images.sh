#!/bin/sh
# `make images`: the CPU image (sightline:latest) and the CUDA image (sightline:latest-cuda),
# built with no package index (docs/deploy.md, "Building on a closed network"):
#
#   1. the admin's browser libraries vendored on the host (cms/static_vendor.py)
#   2. the base: PYTHON_IMAGE when set; else python:3.11-slim-bookworm when a registry has it;
#      else local/python:3.11-bookworm made with debootstrap (docker/build-base.sh)
#   3. the wheelhouses, by the host's pip (docker/build-wheelhouse.sh, into build/wheels/)
#   4. a wheelhouse image per wheelhouse and base (docker/wheels.Dockerfile), tagged by both
#   5. the two images
#
# Each step is kept when its inputs did not change: a second run only rebuilds what Docker's
# layer cache does not have. Variables: PYTHON_IMAGE, SIGHTLINE_IMAGE (default sightline),
# SIGHTLINE_TAG (default latest), IMAGES ("cpu cuda", the default, or one of them).
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
REGISTRY_PYTHON_IMAGE=python:3.11-slim-bookworm
LOCAL_PYTHON_IMAGE=local/python:3.11-bookworm
SIGHTLINE_IMAGE="${SIGHTLINE_IMAGE:-sightline}"
SIGHTLINE_TAG="${SIGHTLINE_TAG:-latest}"
IMAGES="${IMAGES:-cpu cuda}"

have() { docker image inspect "$1" >/dev/null 2>&1; }
say() { echo "images: $*"; }

# 1. uPlot and friends into cms/static/vendor/ (git-ignored, part of the build context).
"$PYTHON" cms/static_vendor.py

# 2. The base image.
if [ -n "${PYTHON_IMAGE:-}" ]; then
  have "$PYTHON_IMAGE" || docker pull "$PYTHON_IMAGE"
elif have "$REGISTRY_PYTHON_IMAGE" || timeout 120 docker pull -q "$REGISTRY_PYTHON_IMAGE" >/dev/null 2>&1; then
  PYTHON_IMAGE="$REGISTRY_PYTHON_IMAGE"
else
  say "$REGISTRY_PYTHON_IMAGE cannot be pulled: a base made with debootstrap"
  PYTHON_BASE_IMAGE="$LOCAL_PYTHON_IMAGE" docker/build-base.sh
  PYTHON_IMAGE="$LOCAL_PYTHON_IMAGE"
fi
base_id=$(docker image inspect --format '{{.Id}}' "$PYTHON_IMAGE" | sed 's/^sha256://' | cut -c1-12)
say "base $PYTHON_IMAGE ($base_id)"

# 3 and 4. The wheelhouse of a variant and its image's tag. Where the CPU wheelhouse fell
# back to the registry's torch, the CUDA image's requirements are the same: one wheelhouse.
wheels_image() {
  variant="$1"
  dir="build/wheels/$variant"
  if [ "$variant" = cuda ] && [ -f build/wheels/cpu/requirements.txt ] \
    && docker/install-requirements.sh cuda --print | cmp -s - build/wheels/cpu/requirements.txt; then
    dir=build/wheels/cpu
  fi
  PYTHON="$PYTHON" docker/build-wheelhouse.sh "$variant" "$dir" >&2
  tag="sightline-wheels:$(cat "$dir/.stamp")-$base_id"
  if ! have "$tag"; then
    docker build -q -f docker/wheels.Dockerfile --build-arg PYTHON_IMAGE="$PYTHON_IMAGE" \
      -t "$tag" "$dir" >&2
  fi
  # The Dockerfiles' default WHEELS_IMAGE: `docker compose build` works after `make images`.
  docker tag "$tag" "sightline-wheels:$variant"
  echo "$tag"
}

# 5. The images.
for variant in $IMAGES; do
  case "$variant" in
    cpu) dockerfile=docker/Dockerfile image="$SIGHTLINE_IMAGE:$SIGHTLINE_TAG" ;;
    cuda) dockerfile=docker/Dockerfile.cuda image="$SIGHTLINE_IMAGE:$SIGHTLINE_TAG-cuda" ;;
    *) echo "images: unknown image '$variant' (cpu, cuda)" >&2; exit 64 ;;
  esac
  wheels=$(wheels_image "$variant")
  say "$image from $dockerfile ($wheels)"
  docker build -f "$dockerfile" --build-arg PYTHON_IMAGE="$PYTHON_IMAGE" \
    --build-arg WHEELS_IMAGE="$wheels" -t "$image" .
done
