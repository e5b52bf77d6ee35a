#!/usr/bin/env bash
# load.sh - the load test of pvjobs collect (make collect-load).
#
# Starts a Cassandra of its own (never the shared test server: CQL port
# $PVJOBS_LOAD_CASSANDRA_PORT, default 19042, its own state directory), and
# runs cmd/pvjobs TestCollectLoad five times, the collector on one core
# (GOMAXPROCS=1) unless said and the load from the test process over loopback:
#   1. steady load, no live counters;
#   2. steady load with live Redis counters (testdata/redis/redis.sh starts a
#      Redis when none runs); then the same with the collector on every core,
#      and at a fixed offered rate (open loop, PVJOBS_LOAD_RATE, default
#      5000/s: latency counted from when each beacon was due);
#   3. load while that Cassandra is stopped 20 s in and started again (it
#      takes a minute or two to come back on a busy machine): every page view
#      answered 2xx must be in Cassandra exactly once afterwards.
# Each run prints page views/s, p50/p99 latency, the collector's CPU and
# peak memory. Then it stops the Cassandra it started.
#
# Environment: PVJOBS_LOAD_STEADY (default 30s), PVJOBS_LOAD_RATE (5000), PVJOBS_LOAD_RESTART_DURATION
# (default 240s), PVJOBS_LOAD_STOP_AT (20s), PVJOBS_LOAD_CONNS (32), PVJOBS_LOAD_PROCS (1), and those of
# testdata/cassandra/cassandra.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."

export PVJOBS_LOAD_CASSANDRA_PORT=${PVJOBS_LOAD_CASSANDRA_PORT:-19042}
export PVJOBS_LOAD_CASSANDRA_STORAGE_PORT=${PVJOBS_LOAD_CASSANDRA_STORAGE_PORT:-17000}
export PVJOBS_LOAD_CASSANDRA_STATE=${PVJOBS_LOAD_CASSANDRA_STATE:-${PVJOBS_CACHE:-$HOME/.cache/pvjobs}/cassandra-collect-load}
cass() {
	PVJOBS_CASSANDRA_PORT=$PVJOBS_LOAD_CASSANDRA_PORT PVJOBS_CASSANDRA_STORAGE_PORT=$PVJOBS_LOAD_CASSANDRA_STORAGE_PORT \
		PVJOBS_CASSANDRA_STATE=$PVJOBS_LOAD_CASSANDRA_STATE bash testdata/cassandra/cassandra.sh "$@"
}
redis_started=
cleanup() {
	local rc=$?
	cass down || true
	[[ -n $redis_started ]] && bash testdata/redis/redis.sh down || true
	exit $rc
}
trap cleanup EXIT

cass up >/dev/null
if ! bash testdata/redis/redis.sh status >/dev/null 2>&1; then
	bash testdata/redis/redis.sh up >/dev/null
	redis_started=1
fi
live="redis://$(bash testdata/redis/redis.sh addr)/0"

run() {
	echo "== $1" >&2
	shift
	env PVJOBS_COLLECT_LOAD=1 "$@" go test -count=1 -timeout 30m -run '^TestCollectLoad$' -v ./cmd/pvjobs/ 2>&1 |
		grep -E 'collect_load_test|^(--- |ok|FAIL|PASS)'
}
run "steady load, no live counters" PVJOBS_LOAD_DURATION="${PVJOBS_LOAD_STEADY:-30s}" PVJOBS_LOAD_RESTART=0
run "steady load, live Redis counters" PVJOBS_LOAD_DURATION="${PVJOBS_LOAD_STEADY:-30s}" PVJOBS_LOAD_RESTART=0 PVJOBS_LOAD_LIVE="$live"
cores=$(nproc)
run "steady load, live Redis counters, the collector on all $cores cores" PVJOBS_LOAD_DURATION="${PVJOBS_LOAD_STEADY:-30s}" PVJOBS_LOAD_RESTART=0 PVJOBS_LOAD_LIVE="$live" PVJOBS_LOAD_PROCS="$cores"
run "open loop: ${PVJOBS_LOAD_RATE:-5000} page views/s offered, live Redis counters, all $cores cores" PVJOBS_LOAD_DURATION="${PVJOBS_LOAD_STEADY:-30s}" PVJOBS_LOAD_RESTART=0 PVJOBS_LOAD_LIVE="$live" PVJOBS_LOAD_PROCS="$cores" PVJOBS_LOAD_RATE="${PVJOBS_LOAD_RATE:-5000}"
run "Cassandra stopped and started during the load" PVJOBS_LOAD_DURATION="${PVJOBS_LOAD_RESTART_DURATION:-240s}" PVJOBS_LOAD_STOP_AT="${PVJOBS_LOAD_STOP_AT:-20s}" PVJOBS_LOAD_RESTART=1
