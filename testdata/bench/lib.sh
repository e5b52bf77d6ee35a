# lib.sh: helpers of the whole-process benchmarks (sourced by whole.sh and
# goaccess.sh): the pvjobs binary, the GeoLite2-City database, generated
# data cached between runs, and a timer that reports elapsed time, CPU time
# and peak memory (GNU time, installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cache="${PVJOBS_CACHE:-$HOME/.cache/pvjobs}/bench"
mkdir -p "$cache"

need_time() {
  if [ ! -x /usr/bin/time ]; then
    echo "installing GNU time (apt-get)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >&2 || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >&2; }
  fi
}

build_pvjobs() {
  go build -o "$cache/pvjobs" ./cmd/pvjobs
  echo "$cache/pvjobs"
}

# gen DIR ARGS...: pvjobs gen into DIR/shards unless DIR/.done says it
# holds the same arguments; DIR/rows gets the number of page views.
gen() {
  local dir=$1; shift
  local want="$*"
  if [ -f "$dir/.done" ] && [ "$(cat "$dir/.done")" = "$want" ]; then return; fi
  rm -rf "$dir" && mkdir -p "$dir"
  echo "generating: pvjobs gen $*" >&2
  "$pvjobs" gen --to-dir "$dir/shards" "$@" | tee /dev/stderr | sed -n 's/^wrote \([0-9]*\) page views.*/\1/p' >"$dir/rows"
  echo "$want" >"$dir/.done"
}

# timed LABEL CMD...: runs CMD, prints "LABEL elapsed_s cpu_s peak_kb".
timed() {
  local label=$1; shift
  local t; t=$(mktemp)
  /usr/bin/time -f "%e %U %S %M" -o "$t" "$@" >/dev/null 2>"$t.err" || { cat "$t.err" >&2; rm -f "$t" "$t.err"; return 1; }
  awk -v l="$label" '{printf "%s %s %.2f %s\n", l, $1, $2+$3, $4}' "$t"
  rm -f "$t" "$t.err"
}

# machine: one line about the machine and the date.
machine() {
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB, $(uname -sr), $(go version | cut -d' ' -f3); load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%d)"
}
