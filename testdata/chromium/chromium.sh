#!/usr/bin/env bash
# chromium.sh - Debian's headless-capable Chromium for the collector's browser
# test (cmd/pvjobs/collect_browser_test.go, driven with chromedp).
#
# Usage: testdata/chromium/chromium.sh up|path|status
#
#   up      install Debian's `chromium` package with apt-get when no Chromium
#           is on the machine (needs root), then print the binary's path.
#           A no-op (just the path) when it is already there.
#   path    print the binary's path; exit 1 when there is none.
#   status  say which Chromium is there and exit 0, or exit 1.
#
# The test runs it as: --headless --no-sandbox --disable-gpu --disable-quic
# --no-first-run --disable-background-networking --disable-component-update
# --disable-sync with a fresh --user-data-dir, because the machine's network is
# closed: nothing but the test's own loopback servers is reached.
#
# Environment:
#   PVJOBS_CHROMIUM   a Chromium/Chrome binary to use instead of looking one up
set -euo pipefail

die() {
	echo "chromium.sh: $*" >&2
	exit 1
}

find_chromium() {
	local c
	if [[ -n ${PVJOBS_CHROMIUM:-} ]]; then
		[[ -x $PVJOBS_CHROMIUM ]] || die "PVJOBS_CHROMIUM=$PVJOBS_CHROMIUM is not an executable"
		echo "$PVJOBS_CHROMIUM"
		return 0
	fi
	for c in chromium chromium-browser google-chrome-stable google-chrome; do
		if command -v "$c" >/dev/null 2>&1; then
			command -v "$c"
			return 0
		fi
	done
	return 1
}

cmd_up() {
	local bin
	if bin=$(find_chromium); then
		echo "$bin"
		return 0
	fi
	[[ $(id -u) == 0 ]] || die "no Chromium found and not root: install Debian's chromium package (apt-get install chromium)"
	command -v apt-get >/dev/null 2>&1 || die "no Chromium found and no apt-get: install Chromium and set PVJOBS_CHROMIUM"
	echo "chromium.sh: installing Debian's chromium with apt-get" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 || die "apt-get update failed"
	apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2 || die "apt-get install chromium failed"
	bin=$(find_chromium) || die "chromium installed but not found on PATH"
	echo "chromium.sh: $("$bin" --version 2>/dev/null || echo "$bin")" >&2
	echo "$bin"
}

case ${1:-} in
	up) cmd_up ;;
	path) find_chromium || exit 1 ;;
	status)
		if bin=$(find_chromium); then
			echo "chromium.sh: $("$bin" --version 2>/dev/null) at $bin" >&2
		else
			echo "chromium.sh: no Chromium installed" >&2
			exit 1
		fi
		;;
	*) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
