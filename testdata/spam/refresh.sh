#!/usr/bin/env bash
# make spam-list: replace the embedded referrer-spam list
# (jobs/sources/spam/spammers.txt) with Matomo's community list,
# https://github.com/matomo-org/referrer-spam-list (public domain), and record
# where it came from: the commit it was taken at and the date.
#
#   bash testdata/spam/refresh.sh [COMMIT]   # default: the branch head (master)
#
# Needs network access to GitHub. The list is one host per line; a host also
# covers its subdomains (see jobs/sources/spam).
set -euo pipefail
cd "$(dirname "$0")/../.."
ref=${1:-master}
repo=matomo-org/referrer-spam-list
out=jobs/sources/spam/spammers.txt
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
commit=$ref
if [[ ! $ref =~ ^[0-9a-f]{40}$ ]]; then
	commit=$(curl -fsSL "https://api.github.com/repos/$repo/commits/$ref" | sed -n 's/^  "sha": "\([0-9a-f]*\)".*/\1/p' | head -1)
fi
[[ $commit =~ ^[0-9a-f]{40}$ ]] || { echo "refresh.sh: cannot resolve $ref of $repo" >&2; exit 1; }
curl -fsSL "https://raw.githubusercontent.com/$repo/$commit/spammers.txt" -o "$tmp"
n=$(grep -cv '^\s*$' "$tmp" || true)
(( n > 500 )) || { echo "refresh.sh: only $n hosts in the download; keeping the old list" >&2; exit 1; }
{
	echo "# Matomo's community list of referrer spammers, public domain (no copyright):"
	echo "# https://github.com/$repo. One host per line; a host also covers its subdomains."
	echo "# source: https://github.com/$repo/blob/$commit/spammers.txt"
	echo "# version: $commit ($(date -u +%Y-%m-%d))"
	tr -d '\r' <"$tmp" | sed 's/[[:space:]]*$//' | grep -v '^$' | sort -u
} >"$out"
echo "refresh.sh: $n hosts from $repo@$commit written to $out"
