#!/usr/bin/env bash
# refresh.sh: rebuilds the device evaluation set in this folder from the npm
# packages it is taken from, at the versions pinned below (npm pack, then node
# turns each package's labels into our classes). Run it from anywhere; it
# needs npm and node. See README.md here for the sources, licences and the
# class mapping, and ../../eval_test.go for how the set is used.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

USER_AGENTS=user-agents@2.1.198
CRAWLERS=crawler-user-agents@1.60.0
UAPARSER=ua-parser-js@1.0.2 # the last 1.x release that ships test/device-test.json

for p in "$USER_AGENTS" "$CRAWLERS" "$UAPARSER"; do
  d="$tmp/${p%@*}"
  mkdir -p "$d"
  (cd "$tmp" && npm pack --silent "$p" >/dev/null)
  tar xzf "$tmp/$(echo "${p%@*}" | tr -d @ | tr / -)-${p#*@}.tgz" -C "$d"
done

cp "$tmp/user-agents/package/LICENSE" "$here/LICENSE.user-agents"
cp "$tmp/crawler-user-agents/package/LICENSE" "$here/LICENSE.crawler-user-agents"
cp "$tmp/ua-parser-js/package/license.md" "$here/LICENSE.ua-parser-js"

TMP="$tmp" HERE="$here" USER_AGENTS="$USER_AGENTS" CRAWLERS="$CRAWLERS" UAPARSER="$UAPARSER" node - <<'JS'
const fs = require('fs');
const {TMP, HERE, USER_AGENTS, CRAWLERS, UAPARSER} = process.env;
const clean = (s) => String(s).replace(/[\t\r\n]/g, ' ').trim();
// write keeps each user agent once (the first label wins), sorted so that a
// refresh gives a stable diff.
function write(name, header, rows) {
  const seen = new Map();
  for (const [cls, label, ua] of rows) {
    const u = clean(ua);
    if (u && !seen.has(u)) seen.set(u, [cls, label]);
  }
  const lines = [...seen].map(([ua, [cls, label]]) => `${cls}\t${label}\t${ua}`).sort();
  fs.writeFileSync(`${HERE}/${name}`, header.map((h) => `# ${h}\n`).join('') + lines.join('\n') + '\n');
}
const cols = 'class<TAB>label of the source<TAB>user agent, one a line.';

// user-agents: deviceCategory desktop/mobile/tablet for each user agent.
const ua = JSON.parse(fs.readFileSync(`${TMP}/user-agents/package/dist/user-agents.json`));
write('user-agents.tsv', [`npm ${USER_AGENTS} (BSD-2-Clause, LICENSE.user-agents): dist/user-agents.json, deviceCategory.`, cols],
  ua.map((x) => [x.deviceCategory, x.deviceCategory, x.userAgent]));

// crawler-user-agents: every instance of every pattern is a robot.
const cr = JSON.parse(fs.readFileSync(`${TMP}/crawler-user-agents/package/crawler-user-agents.json`));
write('crawler-user-agents.tsv', [`npm ${CRAWLERS} (MIT, LICENSE.crawler-user-agents): crawler-user-agents.json, instances.`, cols],
  cr.flatMap((x) => (x.instances || []).map((i) => ['bot', 'crawler', i])));

// ua-parser-js: expect.type of test/device-test.json.
const pocket = /psp|playstation portable|playstation vita|3ds|2ds|dsi|nintendo ds/i;
const dt = JSON.parse(fs.readFileSync(`${TMP}/ua-parser-js/package/test/device-test.json`));
write('ua-parser-js.tsv', [`npm ${UAPARSER} (MIT, LICENSE.ua-parser-js): test/device-test.json, expect.type.`, cols],
  dt.flatMap((x) => {
    const t = x.expect.type;
    const m = {mobile: 'mobile', tablet: 'tablet', smarttv: 'tv', wearable: 'mobile', xr: 'mobile'}[t];
    if (t === 'console') return [[pocket.test(x.desc) ? 'mobile' : 'tv', t, x.ua]];
    return m ? [[m, t, x.ua]] : [];
  }));
JS
wc -l "$here"/*.tsv
