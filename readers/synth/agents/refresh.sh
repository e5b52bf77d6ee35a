#!/usr/bin/env bash
# refresh.sh: rebuilds user-agents.tsv in this folder from the npm package
# user-agents (BSD-2-Clause, LICENSE.user-agents) at the version pinned below:
# every distinct userAgent of dist/user-agents.json with the sum of its
# profiles' weights, in millionths, heaviest first. It needs npm and node.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
USER_AGENTS=user-agents@2.1.198
(cd "$tmp" && npm pack --silent "$USER_AGENTS" >/dev/null && tar xzf user-agents-*.tgz)
cp "$tmp/package/LICENSE" "$here/LICENSE.user-agents"
TMP="$tmp" HERE="$here" USER_AGENTS="$USER_AGENTS" node - <<'JS'
const fs = require('fs');
const {TMP, HERE, USER_AGENTS} = process.env;
const ua = JSON.parse(fs.readFileSync(`${TMP}/package/dist/user-agents.json`));
const m = new Map();
for (const x of ua) {
  const k = String(x.userAgent).replace(/[\t\r\n]/g, ' ').trim();
  if (k) m.set(k, (m.get(k) || 0) + x.weight);
}
const rows = [...m].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
let out = `# npm ${USER_AGENTS} (BSD-2-Clause, see LICENSE.user-agents): dist/user-agents.json, the weights of\n` +
  '# each distinct userAgent summed, in millionths. Rebuilt by refresh.sh; not edited by hand.\n';
for (const [k, w] of rows) out += `${Math.max(1, Math.round(w * 1e6))}\t${k}\n`;
fs.writeFileSync(`${HERE}/user-agents.tsv`, out);
JS
wc -l "$here/user-agents.tsv"
