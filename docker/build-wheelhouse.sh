#!/bin/sh
# Fills a wheelhouse with every runtime requirement of the images, using this host's pip and
# its configuration (index, find-links, constraints): the images install from it with
# `pip install --no-index --find-links`, so their build needs no package index.
#
#   docker/build-wheelhouse.sh cpu|cuda DIR
#
# The wheels are for the images' platform: CPython 3.11 on Linux x86_64 (glibc 2.28 or newer;
# Debian bookworm has 2.36), whatever the host is. The file DIR/requirements.txt lists what the
# image installs; DIR/.stamp holds the hash of that list and the platform, and a wheelhouse
# whose stamp matches is kept as it is (a second run downloads nothing).
#
# cpu: torch and torchvision `+cpu` from PyTorch's CPU index (no CUDA libraries, about 3 GB
# smaller). Where that index cannot be reached, the registry's builds instead, which bring the
# CUDA runtime as nvidia-* wheels (the same as cuda); the script says so.
set -eu
cd "$(dirname "$0")/.."
variant="${1:?usage: build-wheelhouse.sh cpu|cuda DIR}"
dest="${2:?usage: build-wheelhouse.sh cpu|cuda DIR}"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
TORCH_CPU_INDEX="${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"
# The oldest Python of a base image (Debian bookworm's 3.11.2; python:3.11-slim is newer):
# requirements whose markers hold for it are downloaded too (docker/wheelhouse_markers.py).
IMAGE_PYTHON_VERSION="${IMAGE_PYTHON_VERSION:-3.11.2}"

# Every manylinux tag that Debian bookworm's glibc (2.36) runs.
platform="--only-binary=:all: --implementation cp --python-version 3.11 --abi cp311
  --platform linux_x86_64 --platform manylinux1_x86_64 --platform manylinux2010_x86_64
  --platform manylinux2014_x86_64"
for minor in $(seq 5 36); do
  platform="$platform --platform manylinux_2_${minor}_x86_64"
done
download() {
  # shellcheck disable=SC2086 # $platform is a list of options
  "$PYTHON" -m pip download --disable-pip-version-check --progress-bar off -q \
    --dest "$dest.partial" $platform "$@"
}

rm -rf "$dest.partial"
mkdir -p "$dest.partial"
list="$dest.partial/requirements.txt"
index=""
if [ "$variant" = cpu ]; then
  docker/install-requirements.sh cpu --print >"$list"
  if "$PYTHON" - "$TORCH_CPU_INDEX" <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1].rstrip("/") + "/torch/", timeout=10).close()
except Exception:
    sys.exit(1)
PY
  then
    index="--extra-index-url=$TORCH_CPU_INDEX"
  else
    echo "wheelhouse: $TORCH_CPU_INDEX cannot be reached: the CPU image gets the registry's" \
      "torch and torchvision (with their nvidia-* CUDA wheels, about 3 GB more)" >&2
    docker/install-requirements.sh cuda --print >"$list"
  fi
else
  docker/install-requirements.sh "$variant" --print >"$list"
fi
# The stamp: what is installed (the list, the --no-deps pins) and for which platform.
# Not the variant: a CPU wheelhouse that fell back to the registry's torch serves the CUDA image.
# (A change of these scripts alone does not count: `rm -r build/wheels` makes it anew.)
stamp=$({ cat "$list" requirements-nodeps.txt; echo "$platform $IMAGE_PYTHON_VERSION"; } \
  | sha256sum | cut -c1-16)
if [ -f "$dest/.stamp" ] && [ "$(cat "$dest/.stamp")" = "$stamp" ]; then
  rm -rf "$dest.partial"
  echo "wheelhouse $dest is up to date ($stamp)"
  exit 0
fi
# The runtime requirements with their dependencies, then the --no-deps ones (ultralytics).
grep -v -x -F -f requirements-nodeps.txt "$list" >"$dest.partial/runtime.txt" || true
# shellcheck disable=SC2086 # $index is one option or nothing
download $index -r "$dest.partial/runtime.txt"
download --no-deps -r requirements-nodeps.txt
# pip evaluates markers for the host's Python: what the image's Python needs besides.
"$PYTHON" docker/wheelhouse_markers.py "$dest.partial" "$IMAGE_PYTHON_VERSION" >"$dest.partial/markers.txt"
if [ -s "$dest.partial/markers.txt" ]; then
  download -r "$dest.partial/markers.txt"
fi
echo "$stamp" >"$dest.partial/.stamp"
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "wheelhouse $dest: $(ls "$dest"/*.whl | wc -l) wheels, $(du -sh "$dest" | cut -f1)"
