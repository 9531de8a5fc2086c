#!/usr/bin/env bash
# Debian packages the stream tests need: GStreamer's RTSP server (run with Debian's
# /usr/bin/python3) and ffmpeg. Installs them when it can; never fails the build.
set -u
packages=(
  python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly ffmpeg
)
dpkg -s "${packages[@]}" >/dev/null 2>&1 && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: not root or no apt-get: RTSP tests will skip. Install: ${packages[*]}"
  exit 0
fi
echo "installing Debian packages for the RTSP test server: ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${packages[@]}"; } >/tmp/sightline-apt.log 2>&1; then
  echo "warning: apt-get failed (see /tmp/sightline-apt.log): RTSP tests will skip"
fi
exit 0
