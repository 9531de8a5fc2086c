#!/bin/sh
# Installs Sightline's runtime dependencies into the active Python environment (the
# images' builder stage): requirements.txt without its "tests and checks" section,
# then requirements-nodeps.txt with --no-deps (ultralytics; see that file).
#
#   install-requirements.sh cpu    torch and torchvision from PyTorch's CPU-only index
#                                  (`+cpu` builds: no CUDA libraries, about 3 GB smaller)
#   install-requirements.sh cuda   torch and torchvision as pinned: the registry's
#                                  builds, which bring the CUDA 13 runtime as nvidia-* wheels
#   ... --print                    print the requirements instead of installing them
#   install-requirements.sh --wheelhouse DIR
#                                  from a wheelhouse that docker/build-wheelhouse.sh made
#                                  (the images' build): --no-index, no other package source
set -eu
cd "$(dirname "$0")/.."
variant="${1:-}"

check_imports() {
  # Fail the build here, not at the first camera, when a wheel does not fit the base image.
  python -c "import cv2, django, celery, torch, torchvision, ultralytics; print('torch', torch.__version__)"
}

if [ "$variant" = "--wheelhouse" ]; then
  wheels="${2:?usage: install-requirements.sh --wheelhouse DIR}"
  # Only the wheelhouse: no index, and no pip configuration of the build host or base image.
  export PIP_CONFIG_FILE=/dev/null
  pip install --no-index --find-links "$wheels" -r "$wheels/runtime.txt"
  pip install --no-index --find-links "$wheels" --no-deps -r requirements-nodeps.txt
  check_imports
  exit 0
fi
runtime=$(mktemp)
trap 'rm -f "$runtime"' EXIT

sed '/^# --- tests and checks/,$d' requirements.txt >"$runtime"
if ! grep -q '^torch===' "$runtime"; then
  echo "install-requirements: no 'torch===' pin in requirements.txt" >&2
  exit 1
fi
case "$variant" in
  cpu)
    # `===` matches the registry build only; the CPU index names the same release `+cpu`.
    sed -i -e 's/^torch===\([^ ;#]*\).*/torch==\1+cpu/' \
      -e 's/^torchvision==\([^ ;#]*\).*/torchvision==\1+cpu/' "$runtime"
    index="--extra-index-url=https://download.pytorch.org/whl/cpu"
    ;;
  cuda)
    index=""
    ;;
  *)
    echo "usage: install-requirements.sh cpu|cuda [--print]" >&2
    exit 64
    ;;
esac

if [ "${2:-}" = "--print" ]; then
  cat "$runtime" requirements-nodeps.txt
  exit 0
fi
# shellcheck disable=SC2086 # $index is one option or nothing
pip install $index -r "$runtime"
pip install --no-deps -r requirements-nodeps.txt
check_imports
