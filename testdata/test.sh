#!/usr/bin/env bash
# make test: runs every test against a real Cassandra and a real Redis. Starts
# each server when it is not already running and stops only what it started,
# so the machine is left as it was found. Integration tests fail (not skip)
# when a server is missing: PVJOBS_TEST_DISALLOW_SKIP=1.
#
# The tests' Cassandra is their own: port PVJOBS_TEST_CASSANDRA_PORT (default
# 9142) and state directory PVJOBS_TEST_CASSANDRA_STATE (default
# $PVJOBS_CACHE/cassandra-test-state), apart from the one of `make
# cassandra-up` (9042, cassandra-state), so data loaded by hand never slows
# the tests' start and the tests may restart their node.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${PVJOBS_CACHE:-$HOME/.cache/pvjobs}
export PVJOBS_CASSANDRA_PORT=${PVJOBS_TEST_CASSANDRA_PORT:-9142}
export PVJOBS_CASSANDRA_STATE=${PVJOBS_TEST_CASSANDRA_STATE:-$CACHE/cassandra-test-state}
if [[ -n ${PVJOBS_TEST_CASSANDRA_STORAGE_PORT:-} ]]; then
  export PVJOBS_CASSANDRA_STORAGE_PORT=$PVJOBS_TEST_CASSANDRA_STORAGE_PORT
else
  unset PVJOBS_CASSANDRA_STORAGE_PORT # derived from the port by cassandra.sh
fi

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
export PVJOBS_CASSANDRA_ADDR="127.0.0.1:$PVJOBS_CASSANDRA_PORT"
PVJOBS_REDIS_ADDR="$(bash testdata/redis/redis.sh addr)"
export PVJOBS_REDIS_ADDR

# Debian's chromium for the browser tests (the collector's, the HTML report's; installed when missing).
PVJOBS_CHROMIUM="$(bash testdata/chromium/chromium.sh up)"
export PVJOBS_CHROMIUM

# The second Cassandra client (the Python driver) that one integration test
# writes rows with, installed into a venv outside the repository.
bash testdata/cassandra/python/setup.sh >/dev/null

go vet ./...
# Tests that stop and start the Cassandra node run alone afterwards.
go test -count=1 -timeout 20m -skip '^TestNodeRestart' ./...

# Serial phase: a Cassandra restart in the middle of a run. Only a node that
# cassandra.sh started with this state directory is restarted.
if ! bash testdata/cassandra/cassandra.sh owned; then
  echo "test.sh: the Cassandra on 127.0.0.1:$PVJOBS_CASSANDRA_PORT was not started by cassandra.sh with state $PVJOBS_CASSANDRA_STATE;" \
    "the restart test cannot restart it (stop it, or set PVJOBS_TEST_CASSANDRA_PORT)" >&2
  exit 1
fi
PVJOBS_TEST_CASSANDRA_RESTART=1 go test -count=1 -timeout 10m -run '^TestNodeRestart' ./readers/cassandra/
