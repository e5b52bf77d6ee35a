#!/usr/bin/env bash
# whole.sh (part of make bench): the whole pvjobs process, as users run it,
# on synth's realistic traffic with a distinct public address per visitor
# and the real GeoLite2-City database: `pvjobs run --jobs all` (and the
# visits job alone) over one generated day of shard files, with GOMAXPROCS=1
# and 2. Prints page views per second of elapsed time and of CPU time (the
# steadier figure on a shared machine) and the process's peak memory (peak
# RSS, from GNU time). Then one account of that day (a single shard file,
# which two cores cut into two parts), and the long tail of issue 10: the urls job over 1 M
# distinct URLs in 2 M page views (testdata/bench/longtail), one core.
#
#   PVJOBS_BENCH_ROWS   page views per account of the day (default 5000000:
#                       about 9.3 million page views of two accounts)
source "$(dirname "$0")/lib.sh"
need_time
pvjobs=$(build_pvjobs)
geoip=$(bash testdata/geoip/fetch-geolite2.sh)
per=${PVJOBS_BENCH_ROWS:-5000000}
dir="$cache/day-$per"
gen "$dir" --ips public --from 2024-08-01 --to 2024-08-01 --rows-per-day "$per"
rows=$(cat "$dir/rows")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== the whole process on one day of $rows page views (2 accounts, shard files, GeoLite2-City)"
machine
printf '%-26s %6s %10s %12s %14s %10s\n' run procs elapsed_s pageviews/s pageviews/cpu-s peak_MB
for jobs in all visits; do
  for procs in 1 2; do
    r=$(GOMAXPROCS=$procs timed x "$pvjobs" run --source "$dir/shards" --jobs "$jobs" --geoip "$geoip" --out "csv:$out" --quiet)
    read -r _ el cpu kb <<<"$r"
    awk -v j="$jobs" -v p="$procs" -v e="$el" -v c="$cpu" -v k="$kb" -v n="$rows" \
      'BEGIN{printf "%-26s %6d %10.1f %12.0f %14.0f %10.0f\n", "pvjobs run --jobs " j, p, e, n/e, n/c, k/1024}'
  done
done

# One account's shard of the same day: with two cores its time is cut into
# two parts (the file source's SplitShardParts), one per worker.
echo "== one account of the same day (one shard file; two cores cut it into two parts)"
printf '%-26s %6s %10s %12s %14s %10s\n' run procs elapsed_s pageviews/s pageviews/cpu-s peak_MB
for procs in 1 2; do
  t=$(mktemp)
  GOMAXPROCS=$procs /usr/bin/time -f "%e %U %S %M" -o "$t" "$pvjobs" run --source "$dir/shards" --accounts blog \
    --jobs all --geoip "$geoip" --out "csv:$out" --progress none >"$t.out"
  n=$(sed -n 's/.* rows \([0-9,]*\) (.*/\1/p' "$t.out" | tr -d ,)
  read -r el u sy kb <"$t"
  rm -f "$t" "$t.out"
  awk -v p="$procs" -v e="$el" -v c="$(awk -v u="$u" -v s="$sy" 'BEGIN{print u+s}')" -v k="$kb" -v n="$n" \
    'BEGIN{printf "%-26s %6d %10.1f %12.0f %14.0f %10.0f\n", "pvjobs run --accounts blog", p, e, n/e, n/c, k/1024}'
done

# The long tail of issue 10 (hostile cardinality): 2,000,000 page views of one
# day whose URLs carry session ids, 1,000,000 of them distinct (see
# testdata/bench/longtail), the urls job on one core.
tail_dir="$cache/longtail-2m"
if [ ! -f "$tail_dir/.done" ]; then
  rm -rf "$tail_dir"
  go run ./testdata/bench/longtail -dir "$tail_dir/shards"
  touch "$tail_dir/.done"
fi
echo "== the urls job on 2000000 page views with 1000000 distinct URLs (session ids; one account, one day)"
printf '%-26s %6s %10s %12s %14s %10s\n' run procs elapsed_s pageviews/s pageviews/cpu-s peak_MB
r=$(GOMAXPROCS=1 timed x "$pvjobs" run --source "$tail_dir/shards" --jobs urls --out "csv:$out" --quiet)
read -r _ el cpu kb <<<"$r"
awk -v e="$el" -v c="$cpu" -v k="$kb" -v n=2000000 \
  'BEGIN{printf "%-26s %6d %10.1f %12.0f %14.0f %10.0f\n", "pvjobs run --jobs urls", 1, e, n/e, n/c, k/1024}'
