#!/usr/bin/env bash
# make test: runs every test against a real Cassandra and a real Redis. Starts
# each server when it is not already running and stops only what it started,
# so the machine is left as it was found. Integration tests fail (not skip)
# when a server is missing: PVJOBS_TEST_DISALLOW_SKIP=1.
set -euo pipefail
cd "$(dirname "$0")/.."

started=()
cleanup() {
  local rc=$?
  for s in "${started[@]}"; do
    bash "testdata/$s/$s.sh" down || true
  done
  exit $rc
}
trap cleanup EXIT

for s in cassandra redis; do
  if bash "testdata/$s/$s.sh" status >/dev/null 2>&1; then
    echo "test.sh: $s already running; leaving it running"
  else
    bash "testdata/$s/$s.sh" up
    started+=("$s")
  fi
done

export PVJOBS_TEST_DISALLOW_SKIP=1
export PVJOBS_CASSANDRA_ADDR="127.0.0.1:${PVJOBS_CASSANDRA_PORT:-9042}"
PVJOBS_REDIS_ADDR="$(bash testdata/redis/redis.sh addr)"
export PVJOBS_REDIS_ADDR

# Debian's chromium for the browser tests (the collector's, the HTML report's; installed when missing).
PVJOBS_CHROMIUM="$(bash testdata/chromium/chromium.sh up)"
export PVJOBS_CHROMIUM

# The second Cassandra client (the Python driver) that one integration test
# writes rows with, installed into a venv outside the repository.
bash testdata/cassandra/python/setup.sh >/dev/null

go vet ./...
go test -count=1 -timeout 20m ./...
