#!/usr/bin/env bash
# make bench: Go benchmarks of the per-row path and of whole jobs. Figures are
# page views per second (pageviews/s), ns and allocations per operation.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== decoder and per-row parts"
go test -run '^$' -bench . -benchmem ./readers/... ./jobs/*/ ./mapreduce/...
echo "== whole jobs end to end, in memory, on 1 and 2 cores (GOMAXPROCS)"
go test -run '^$' -bench . -benchmem -cpu 1,2 -benchtime 3x ./jobs/
