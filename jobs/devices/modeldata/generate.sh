#!/usr/bin/env bash
# generate.sh: rebuilds ../tablet_models.go, the tablet model names the
# classifier falls back on, from the npm packages mobile-detect and
# ua-parser-js at the versions pinned below (npm install into a temporary
# folder, then generate.js reads them), and copies their licences here. Run
# it from anywhere (`make devices-models`, or `go generate ./jobs/devices`);
# it needs npm and node. See README.md here.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

MOBILE_DETECT=mobile-detect@1.4.5
# ua-parser-js 2.x is AGPL-3.0-or-later; 1.x is MIT. generate.js refuses a
# package that is not MIT.
UAPARSER=ua-parser-js@1.0.41

(cd "$tmp" && npm install --silent --no-save --ignore-scripts --no-audit --no-fund \
  --prefix "$tmp" "$MOBILE_DETECT" "$UAPARSER" >/dev/null)

cp "$tmp/node_modules/mobile-detect/LICENSE" "$here/LICENSE.mobile-detect"
cp "$tmp/node_modules/ua-parser-js/license.md" "$here/LICENSE.ua-parser-js"
node "$here/generate.js" "$tmp/node_modules" "$here/../tablet_models.go"
gofmt -l "$here/../tablet_models.go" | { ! grep . ; } || { echo "generate.sh: tablet_models.go is not gofmt-clean" >&2; exit 1; }
