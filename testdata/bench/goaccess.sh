#!/usr/bin/env bash
# goaccess.sh (make bench-goaccess): pvjobs next to GoAccess, the log
# analyser most people would reach for, on the same page views: synth's
# realistic traffic written both as shard files and as a combined access
# log, a distinct public address per visitor, both tools with the real
# GeoLite2-City database. Installs Debian's goaccess when missing. Prints
# page views per second of each (elapsed and CPU time) and the ratio, with
# one core and with all cores (GoAccess 1.7 parses on one thread).
#
#   PVJOBS_BENCH_GOACCESS_ROWS   page views per account and day (default
#                                150000: about 2 million over a week)
source "$(dirname "$0")/lib.sh"
need_time
if ! command -v goaccess >/dev/null; then
  echo "installing goaccess (apt-get)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq goaccess >&2 || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq goaccess >&2; }
fi
pvjobs=$(build_pvjobs)
geoip=$(bash testdata/geoip/fetch-geolite2.sh)
per=${PVJOBS_BENCH_GOACCESS_ROWS:-150000}
dir="$cache/goaccess-$per"
gen "$dir" --ips public --from 2024-08-01 --to 2024-08-07 --rows-per-day "$per" --access-log "$cache/goaccess-$per.log"
rows=$(cat "$dir/rows")
log="$cache/goaccess-$per.log"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cores=$(nproc)
echo "== pvjobs and GoAccess on the same $rows page views (a week, 2 accounts; GeoLite2-City)"
machine
echo "goaccess: $(goaccess --version | head -1); pvjobs: every report (--jobs all)"
printf '%-8s %-9s %10s %12s %14s %10s\n' tool cores elapsed_s pageviews/s pageviews/cpu-s peak_MB
declare -A pv pvc
for procs in 1 "$cores"; do
  r=$(GOMAXPROCS=$procs timed x "$pvjobs" run --source "$dir/shards" --jobs all --geoip "$geoip" --out "csv:$out" --quiet)
  read -r _ el cpu kb <<<"$r"
  pv[pvjobs$procs]=$(awk -v n="$rows" -v e="$el" 'BEGIN{print n/e}')
  pvc[pvjobs$procs]=$(awk -v n="$rows" -v c="$cpu" 'BEGIN{print n/c}')
  awk -v p="$procs" -v e="$el" -v c="$cpu" -v k="$kb" -v n="$rows" 'BEGIN{printf "%-8s %-9d %10.1f %12.0f %14.0f %10.0f\n", "pvjobs", p, e, n/e, n/c, k/1024}'
done
r=$(timed x goaccess "$log" --log-format=COMBINED --geoip-database="$geoip" --no-progress -o "$out/report.json")
read -r _ el cpu kb <<<"$r"
pv[goaccess]=$(awk -v n="$rows" -v e="$el" 'BEGIN{print n/e}')
pvc[goaccess]=$(awk -v n="$rows" -v c="$cpu" 'BEGIN{print n/c}')
awk -v e="$el" -v c="$cpu" -v k="$kb" -v n="$rows" 'BEGIN{printf "%-8s %-9s %10.1f %12.0f %14.0f %10.0f\n", "goaccess", "1 (all)", e, n/e, n/c, k/1024}'
for procs in 1 "$cores"; do
  awk -v p="$procs" -v a="${pv[pvjobs$procs]}" -v b="${pv[goaccess]}" -v ac="${pvc[pvjobs$procs]}" -v bc="${pvc[goaccess]}" \
    'BEGIN{printf "pvjobs on %d core(s) / GoAccess: %.1fx page views per second (%.1fx per CPU second)\n", p, a/b, ac/bc}'
done
