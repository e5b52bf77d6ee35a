#!/usr/bin/env bash
# Install the second Cassandra client the integration tests use: the DataStax
# Python driver (cassandra-driver from PyPI) and msgpack, in a virtualenv
# OUTSIDE the repository. Idempotent: does nothing when the venv already has
# the pinned versions. Prints the venv's python on stdout (and nothing else).
#
#   PVJOBS_CACHE   cache root (default ~/.cache/pvjobs); the venv is $PVJOBS_CACHE/pyvenv
#   PYTHON         interpreter to build the venv from (default python3; needs 3.9+)
#
# CASS_DRIVER_NO_CYTHON=1 skips the driver's optional Cython build (minutes on
# a small machine, and only speeds up row decoding, which the tests don't need).
set -euo pipefail

CACHE=${PVJOBS_CACHE:-$HOME/.cache/pvjobs}
VENV=$CACHE/pyvenv
PY=${PYTHON:-python3}
REQS=("cassandra-driver==3.29.2" "msgpack==1.1.0")
STAMP=$VENV/.pvjobs-reqs

say() { echo "setup.sh: $*" >&2; }

if [[ -x $VENV/bin/python && -f $STAMP && $(<"$STAMP") == "${REQS[*]}" ]] &&
  "$VENV/bin/python" -c 'import cassandra, msgpack' 2>/dev/null; then
  echo "$VENV/bin/python"
  exit 0
fi

command -v "$PY" >/dev/null || { say "error: $PY not found (set PYTHON)"; exit 1; }
say "creating $VENV with ${REQS[*]}"
mkdir -p "$CACHE"
rm -rf "$VENV"
"$PY" -m venv "$VENV" >&2
export CASS_DRIVER_NO_CYTHON=1
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "${REQS[@]}" >&2
"$VENV/bin/python" -c 'import cassandra, msgpack' >&2
echo "${REQS[*]}" >"$STAMP"
say "installed ($(du -sh "$VENV" | cut -f1))"
echo "$VENV/bin/python"
