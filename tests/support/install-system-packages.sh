#!/usr/bin/env bash
# Debian packages some tests need, installed when this machine allows it (root with
# apt-get). Never fails the build: without them those tests skip and say what to install.
#   - the stream tests: GStreamer's RTSP server (run with Debian's /usr/bin/python3), ffmpeg
#   - the compose file check (tests/deploy): Debian's docker-compose, unless a
#     `docker compose` plugin or a docker-compose is already there
#   - the browser tests (tests/browser): Debian's chromium and chromium-driver
#   - the docker smoke test (tests/deploy/test_docker_stack.py, `pytest -m docker`): Debian's
#     docker.io (dockerd) and debootstrap (the base image where no registry can be reached)
set -u
rtsp=(
  python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly ffmpeg
)
compose=(docker-compose)
browser=(chromium chromium-driver)
docker=(docker.io debootstrap)

want_rtsp=()
dpkg -s "${rtsp[@]}" >/dev/null 2>&1 || want_rtsp=("${rtsp[@]}")
want_compose=()
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
  want_compose=("${compose[@]}")
fi
want_browser=()
dpkg -s "${browser[@]}" >/dev/null 2>&1 || want_browser=("${browser[@]}")
want_docker=()
if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
  want_docker=("${docker[@]}")
fi
missing=("${want_rtsp[@]}" "${want_compose[@]}" "${want_browser[@]}" "${want_docker[@]}")
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: not root or no apt-get: RTSP, compose, browser and docker tests will skip. Install: ${missing[*]}"
  exit 0
fi
log=/tmp/sightline-apt.log
export DEBIAN_FRONTEND=noninteractive
echo "installing Debian packages for tests: ${missing[*]}"
if ! apt-get update -q >"$log" 2>&1; then
  echo "warning: apt-get update failed (see $log): RTSP, compose, browser and docker tests will skip"
  exit 0
fi
# One install per group, so that one missing package does not cost the other group.
install() {
  local what=$1
  shift
  [ "$#" -eq 0 ] && return 0
  if ! apt-get install -y -q --no-install-recommends "$@" >>"$log" 2>&1; then
    echo "warning: apt-get could not install $* (see $log): $what tests will skip"
  fi
}
install RTSP "${want_rtsp[@]}"
install compose "${want_compose[@]}"
install browser "${want_browser[@]}"
install docker "${want_docker[@]}"
exit 0
